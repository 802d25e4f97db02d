"""Operators' certificate routes: issue, offline payment, search with keyset pages, look-up with
the activity log and the redeeming order, void and reactivate, PDF download, resend."""

from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from giftcert.ledger.redemption import redeem_certificate
from giftcert.store.schema import documents
from giftcert_contracts.inbound import RedeemCertificate
from giftcert_contracts.money import OrderTotal
from giftcert_services.runtime.bootstrap import Dependencies
from tests.api.conftest import Shop, active_certificate, at, purchase_body

pytestmark = pytest.mark.integration


async def test_an_operator_issues_a_pending_admin_certificate_and_a_repeat_returns_it(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    body = purchase_body()
    issued = await http.post(f"{shop.base}/certificates", headers=shop.admin, json=body)
    again = await http.post(f"{shop.base}/certificates", headers=shop.admin, json=body)
    assert (issued.status_code, again.status_code) == (201, 200)
    certificate = issued.json()
    assert (certificate["status"], certificate["channel"]) == ("pending", "admin")
    assert len(certificate["code"]) == 12
    assert certificate["code_last4"] == certificate["code"][-4:]
    assert again.json()["certificate_id"] == certificate["certificate_id"]


async def test_an_offline_payment_activates_once_and_its_reference_is_its_idempotency_key(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    issued = (await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body())).json()
    pay = f"{shop.base}/certificates/{issued['certificate_id']}/payments"
    paid = await http.post(pay, headers=shop.admin, json={"payment_reference": "till-42"})
    assert paid.status_code == 200
    assert (paid.json()["status"], paid.json()["payment_id"]) == ("active", "till-42")
    assert at(paid.json()["expires_at"]) - at(paid.json()["activated_at"]) == timedelta(days=365)
    again = await http.post(pay, headers=shop.admin, json={"payment_reference": "till-42"})
    assert again.status_code == 200
    another = await http.post(pay, headers=shop.admin, json={"payment_reference": "till-43"})
    assert (another.status_code, another.json()["error"]["code"]) == (409, "not_pending")
    kinds = [entry["kind"] for entry in again.json()["activity"]]
    assert kinds.count("purchased") == 1


async def test_a_payment_for_an_unknown_certificate_is_a_404_not_a_parked_payment(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    missing = await http.post(
        f"{shop.base}/certificates/{uuid4()}/payments", headers=shop.admin, json={"payment_reference": "x"}
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")


async def test_search_finds_a_code_in_any_spelling_and_by_either_email_ignoring_case(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    wanted = await active_certificate(http, shop, recipient={"name": "Sam", "email": "Sam.Smith@Example.com"})
    await active_certificate(http, shop)
    code = wanted["code"]
    spelled = f"{code[:4].lower()}-{code[4:8]} {code[8:].lower()}"
    by_code = await http.post(f"{shop.base}/certificates/search", headers=shop.admin, json={"code": spelled})
    by_email = await http.get(
        f"{shop.base}/certificates", headers=shop.admin, params={"recipient_email": "sam.smith@example.com"}
    )
    for found in (by_code, by_email):
        assert found.status_code == 200
        assert [c["certificate_id"] for c in found.json()["certificates"]] == [wanted["certificate_id"]]
        assert "code" not in found.json()["certificates"][0]  # lists show code_last4 only
    by_purchaser = await http.get(
        f"{shop.base}/certificates", headers=shop.admin, params={"purchaser_email": "PAT@example.com"}
    )
    assert len(by_purchaser.json()["certificates"]) == 2
    nothing = await http.post(
        f"{shop.base}/certificates/search", headers=shop.admin, json={"code": "'; DROP TABLE x;--"}
    )
    assert nothing.json()["certificates"] == []


async def test_a_code_in_the_query_string_is_refused_and_the_body_search_pages_like_the_list(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    wanted = await active_certificate(http, shop)
    in_url = await http.get(f"{shop.base}/certificates", headers=shop.admin, params={"code": wanted["code"]})
    assert (in_url.status_code, in_url.json()["error"]["code"]) == (422, "invalid")
    assert "POST .../certificates/search" in in_url.json()["error"]["detail"]
    for _ in range(2):
        await active_certificate(http, shop)
    first = (await http.post(f"{shop.base}/certificates/search", headers=shop.admin,
                             json={"status": "active", "limit": 2})).json()
    listed = (await http.get(f"{shop.base}/certificates", headers=shop.admin,
                             params={"status": "active", "limit": 2})).json()
    assert first == listed
    rest = (await http.post(f"{shop.base}/certificates/search", headers=shop.admin,
                            json={"status": "active", "limit": 2, "after": first["next_cursor"]})).json()
    assert len(first["certificates"]) + len(rest["certificates"]) == 3
    assert rest["next_cursor"] is None


async def test_search_filters_by_status_and_date_ranges(http: httpx.AsyncClient, shop: Shop) -> None:
    active = await active_certificate(http, shop)
    pending = (await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body())).json()
    url = f"{shop.base}/certificates"
    by_status = await http.get(url, headers=shop.admin, params={"status": "pending"})
    assert [c["certificate_id"] for c in by_status.json()["certificates"]] == [pending["certificate_id"]]
    expires = at(active["expires_at"])
    window = {"expires_from": (expires - timedelta(seconds=1)).isoformat(),
              "expires_to": (expires + timedelta(seconds=1)).isoformat()}
    by_expiry = await http.get(url, headers=shop.admin, params=window)
    assert [c["certificate_id"] for c in by_expiry.json()["certificates"]] == [active["certificate_id"]]
    created = at(pending["created_at"])
    since_pending = await http.get(url, headers=shop.admin, params={"created_from": created.isoformat()})
    assert [c["certificate_id"] for c in since_pending.json()["certificates"]] == [pending["certificate_id"]]
    before_pending = await http.get(url, headers=shop.admin, params={"created_to": created.isoformat()})
    assert [c["certificate_id"] for c in before_pending.json()["certificates"]] == [active["certificate_id"]]


async def test_pages_follow_one_another_newest_first_without_gaps_or_repeats(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    made = [
        (await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body())).json()
        for _ in range(7)
    ]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 3} | ({"after": cursor} if cursor else {})
        page = (await http.get(f"{shop.base}/certificates", headers=shop.admin, params=params)).json()
        seen += [c["certificate_id"] for c in page["certificates"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    newest_first = sorted(made, key=lambda c: (c["created_at"], c["certificate_id"]), reverse=True)
    assert seen == [c["certificate_id"] for c in newest_first]


async def test_a_forged_cursor_is_a_422(http: httpx.AsyncClient, shop: Shop) -> None:
    refused = await http.get(f"{shop.base}/certificates", headers=shop.admin, params={"after": "bm90LWEtY3Vyc29y"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "invalid")


async def test_the_detail_shows_the_activity_log_and_the_order_a_redemption_paid_for(
    http: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    certificate = await active_certificate(http, shop)
    now = api_deps.clock.now()
    redeem = RedeemCertificate(
        workspace_id=shop.workspace, request_id=uuid4(), order_id="BK-1001", code=certificate["code"],
        order_total=OrderTotal(minor=9000, currency="EUR"), requested_at=now,
    )
    await redeem_certificate(redeem, api_deps.new_uow(), api_deps.clock)
    detail = (await http.get(f"{shop.base}/certificates/{certificate['certificate_id']}", headers=shop.admin)).json()
    assert (detail["status"], detail["order_id"]) == ("redeemed", "BK-1001")
    assert [entry["kind"] for entry in detail["activity"]] == ["created", "purchased", "redeemed"]


async def test_void_needs_a_reason_and_records_it_with_the_keys_name_then_reactivate_restores(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    certificate = await active_certificate(http, shop)
    url = f"{shop.base}/certificates/{certificate['certificate_id']}"
    no_reason = await http.post(f"{url}/void", headers=shop.admin, json={})
    assert no_reason.status_code == 422
    voided = await http.post(f"{url}/void", headers=shop.admin, json={"reason": "customer cancelled"})
    assert voided.json()["status"] == "voided"
    entry = voided.json()["activity"][-1]
    assert (entry["kind"], entry["reason"]) == ("voided", "customer cancelled")
    assert entry["actor"].startswith("api key admin key of the test")
    again = await http.post(f"{url}/void", headers=shop.admin, json={"reason": "twice"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_voided")
    restored = await http.post(f"{url}/reactivate", headers=shop.admin, json={"reason": "found the booking"})
    assert restored.json()["status"] == "active"
    once_more = await http.post(f"{url}/reactivate", headers=shop.admin, json={"reason": "again"})
    assert (once_more.status_code, once_more.json()["error"]["code"]) == (409, "not_voided")


async def test_a_void_repeated_with_its_request_id_returns_the_first_decision(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    certificate = await active_certificate(http, shop)
    url = f"{shop.base}/certificates/{certificate['certificate_id']}/void"
    body = {"reason": "duplicate sale", "request_id": str(uuid4())}
    first = await http.post(url, headers=shop.admin, json=body)
    second = await http.post(url, headers=shop.admin, json=body)
    assert (first.status_code, second.status_code) == (200, 200)
    assert [e["kind"] for e in second.json()["activity"]].count("voided") == 1


async def test_voiding_an_unknown_certificate_is_a_404(http: httpx.AsyncClient, shop: Shop) -> None:
    missing = await http.post(f"{shop.base}/certificates/{uuid4()}/void", headers=shop.admin, json={"reason": "x"})
    assert missing.status_code == 404


async def test_a_pdf_not_stored_yet_is_rendered_byte_for_byte_the_same_without_storing_it(
    http: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    certificate = await active_certificate(http, shop)
    url = f"{shop.base}/certificates/{certificate['certificate_id']}/pdf"
    rendered = await http.get(url, headers=shop.admin)  # the documents worker is not running here
    assert rendered.status_code == 200
    assert rendered.headers["content-type"] == "application/pdf"
    assert rendered.content.startswith(b"%PDF")
    again = await http.get(url, headers=shop.admin)
    assert again.content == rendered.content
    async with api_deps.engine.connect() as connection:
        stored = (await connection.execute(
            select(documents.c.id).where(documents.c.certificate_id == certificate["certificate_id"])
        )).first()
    assert stored is None  # a download never stores: the documents worker publishes pdf-ready when it does


async def test_a_pending_certificate_has_no_pdf_yet(http: httpx.AsyncClient, shop: Shop) -> None:
    pending = (await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body())).json()
    refused = await http.get(f"{shop.base}/certificates/{pending['certificate_id']}/pdf", headers=shop.admin)
    assert refused.status_code == 409


async def test_resend_emails_the_recipient_again_and_logs_sent(
    http: httpx.AsyncClient, shop: Shop, mail_folder: Path
) -> None:
    certificate = await active_certificate(http, shop, recipient={"name": "Resent", "email": "resent@example.com"})
    before = set(mail_folder.glob("*.eml"))
    sent = await http.post(f"{shop.base}/certificates/{certificate['certificate_id']}/resend", headers=shop.admin)
    assert sent.status_code == 200
    assert sent.json()["to"] == "resent@example.com"
    new = [p.read_text() for p in set(mail_folder.glob("*.eml")) - before]
    assert any("resent@example.com" in text for text in new)
    detail = (await http.get(f"{shop.base}/certificates/{certificate['certificate_id']}", headers=shop.admin)).json()
    assert [e["kind"] for e in detail["activity"]].count("sent") == 1


async def test_a_voided_certificate_is_not_resent(http: httpx.AsyncClient, shop: Shop) -> None:
    certificate = await active_certificate(http, shop)
    url = f"{shop.base}/certificates/{certificate['certificate_id']}"
    await http.post(f"{url}/void", headers=shop.admin, json={"reason": "fraud"})
    refused = await http.post(f"{url}/resend", headers=shop.admin)
    assert refused.status_code == 409
