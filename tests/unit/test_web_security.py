"""The pages' own protections, as rules: the Content-Security-Policy, signed sessions (expiry,
workspace, tampering), CSRF tokens bound to their cookie, and the per-address purchase limit."""

import time
from uuid import uuid4

from giftcert_services.web.config import WebSettings
from giftcert_services.web.forms import minor_units
from giftcert_services.web.pages import masked_email
from giftcert_services.web.security import (
    Session,
    Signer,
    SlidingWindowLimit,
    content_security_policy,
    read_session,
    session_cookie,
)

SIGNER = Signer(WebSettings(console_session_secret="s3cret"))  # type: ignore[arg-type]  # noqa: S106


def _cookie(workspace: str = "alpine", expires_in: float = 60.0) -> str:
    return session_cookie(Session(workspace, uuid4(), "operator", time.time() + expires_in), SIGNER)


def test_the_policy_allows_no_inline_script_or_style_and_forms_only_to_this_site_and_payment() -> None:
    policy = content_security_policy(("https://pay.example.com",))
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert policy.endswith("form-action 'self' https://pay.example.com")


def test_a_session_is_read_back_only_for_its_workspace_and_before_it_expires() -> None:
    assert read_session(_cookie(), SIGNER, "alpine") is not None
    assert read_session(_cookie(), SIGNER, "other") is None
    assert read_session(_cookie(expires_in=-1), SIGNER, "alpine") is None


def test_a_session_signed_with_another_secret_or_altered_is_refused() -> None:
    other = Signer(WebSettings(console_session_secret="another"))  # type: ignore[arg-type]  # noqa: S106
    assert read_session(_cookie(), other, "alpine") is None
    body, signature = _cookie().rsplit(".", 1)
    forged = session_cookie(Session("alpine", uuid4(), "x", time.time() + 10**6), other).rsplit(".", 1)[0]
    assert read_session(f"{forged}.{signature}", SIGNER, "alpine") is None
    assert read_session(f"{body}.{signature[:-2]}AA", SIGNER, "alpine") is None
    assert read_session("garbage", SIGNER, "alpine") is None


def test_a_csrf_token_is_good_only_for_its_own_nonce() -> None:
    token = SIGNER.sign("csrf", "nonce-1")
    assert SIGNER.verify("csrf", "nonce-1", token)
    assert not SIGNER.verify("csrf", "nonce-2", token)
    assert not SIGNER.verify("session", "nonce-1", token)


def test_the_purchase_limit_counts_per_address_in_a_sliding_window() -> None:
    limit = SlidingWindowLimit(2, 60)
    assert limit.retry_after("a", now=0) is None
    assert limit.retry_after("a", now=1) is None
    assert limit.retry_after("a", now=2) == 59
    assert limit.retry_after("b", now=2) is None
    assert limit.retry_after("a", now=61) is None  # the first has left the window


def test_amounts_are_typed_in_the_currencys_major_units() -> None:
    assert minor_units("50", "EUR") == 5000
    assert minor_units("50,5", "EUR") == 5050
    assert minor_units("5000", "JPY") == 5000
    assert minor_units("50.001", "EUR") is None
    assert minor_units("fifty", "EUR") is None
    assert minor_units("NaN", "EUR") is None


def test_the_status_page_shows_a_recipient_address_masked() -> None:
    assert masked_email("robin@example.com") == "r...@example.com"
