"""Operators' search with SQL meta-characters: emails and codes match literally, never as SQL or as
LIKE patterns, and never cause a 500. A portal purchase whose name carries CR/LF is refused (422).

Search compares emails for equality ignoring case and codes after normalisation
(libs/giftcert/operations/search.py); these tests hold it to that when the text is hostile."""

from typing import Any

import httpx
import pytest

from giftcert.operations.search import CertificateSearch
from tests.api.conftest import Shop, active_certificate, purchase_body

pytestmark = [pytest.mark.integration, pytest.mark.reliability]

SQL_TEXTS = [
    "' OR 1=1 --",
    "' OR '1'='1",
    '"; DROP TABLE certificates; --',
    "%",
    "_",
    "%@%",
    "_@example.com",
    "\\",
    "\\%",
    "'",
    "*",
    ".*",
    "a@example.com' UNION SELECT code FROM certificates --",
    "\x00",
    "a@example.com\x00",
    "\u202e",
]


async def _found(http: httpx.AsyncClient, shop: Shop, **params: str) -> list[str]:
    response = await http.post(f"{shop.base}/certificates/search", headers=shop.admin, json=params)
    assert response.status_code in {200, 422}, (params, response.status_code, response.text)
    if response.status_code == 422:
        return []
    return [c["certificate_id"] for c in response.json()["certificates"]]


def _person(email: str) -> dict[str, Any]:
    return {"name": "Pat", "email": email}


async def test_emails_with_quotes_and_like_wildcards_match_only_themselves(
    http: httpx.AsyncClient, shop: Shop, reliability: Any
) -> None:
    emails = ["o'brien@example.com", "a_b@example.com", "axb@example.com", "a%b@example.com", "azzb@example.com"]
    made = {
        email: (await active_certificate(http, shop, purchaser=_person(email), recipient=_person(email)))[
            "certificate_id"
        ]
        for email in emails
    }
    reliability.record("SQL meta-characters in email search", injected=2 * len(emails),
                       invariants=["matches exactly the certificate with that email", "never a 500"])
    for email, certificate_id in made.items():
        for field in ("purchaser_email", "recipient_email"):
            assert await _found(http, shop, **{field: email}) == [certificate_id], (field, email)
            assert await _found(http, shop, **{field: email.upper()}) == [certificate_id], (field, email)


@pytest.mark.parametrize("hostile", SQL_TEXTS, ids=repr)
async def test_sql_text_in_any_search_field_finds_nothing_and_never_fails(
    http: httpx.AsyncClient, shop: Shop, hostile: str, reliability: Any
) -> None:
    await active_certificate(http, shop)
    reliability.record("SQL text in search fields", injected=3,
                       invariants=["nothing found", "200 or 422, never a 500"])
    for field in ("code", "purchaser_email", "recipient_email"):
        assert await _found(http, shop, **{field: hostile}) == [], field


@pytest.mark.parametrize("field", ["code", "purchaser_email", "recipient_email", "after"])
@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f"], ids=repr)
def test_the_search_itself_refuses_control_characters_whoever_calls_it(field: str, control: str) -> None:
    """The HTTP API's pattern refuses them before; `giftcert certificates search` has nothing in front."""
    with pytest.raises(ValueError, match="control characters"):
        CertificateSearch(workspace_id="ws-search", **{field: f"a@example.com{control}"})


async def test_a_code_search_with_sql_around_a_real_code_finds_nothing(http: httpx.AsyncClient, shop: Shop) -> None:
    code = (await active_certificate(http, shop))["code"]
    assert await _found(http, shop, code=f"{code}' OR 1=1 --") == []
    assert await _found(http, shop, code=f"{code[:11]}%") == []
    assert await _found(http, shop, code=f"{code[:11]}_") == []


async def test_the_workspace_table_survives_the_search_attacks(http: httpx.AsyncClient, shop: Shop) -> None:
    made = await active_certificate(http, shop)
    await _found(http, shop, purchaser_email='"; DROP TABLE certificates; --')
    assert await _found(http, shop, purchaser_email="pat@example.com") == [made["certificate_id"]]


@pytest.mark.parametrize("name", ["x\r\nBcc: evil@example.com", "x\nBcc: evil@example.com", "x\u2028Bcc: e@x.com"])
async def test_a_portal_purchase_with_a_line_break_in_a_name_is_refused_with_422(
    http: httpx.AsyncClient, shop: Shop, name: str, reliability: Any
) -> None:
    reliability.record("CR/LF in a name over HTTP", injected=2, invariants=["422 with an error body"])
    for person in ("purchaser", "recipient"):
        body = purchase_body(**{person: {"name": name, "email": "p@example.com"}})
        response = await http.post(f"{shop.base}/portal/purchases", headers=shop.portal, json=body)
        assert response.status_code == 422, response.text
        assert "error" in response.json()
