"""`GET .../orders/{order_id}` (contract v2 "Orders", admin scope) and the certificate details' list
of every order a certificate paid for, on the real PostgreSQL. The holds, captures and redemptions
are made by the ledger's own handlers on the API's database (the Kafka door's decisions)."""

from typing import Any
from uuid import uuid4

import httpx
import pytest

from giftcert.ledger.capture import capture_holds
from giftcert.ledger.hold import hold_certificates
from giftcert.ledger.redemption import redeem_certificate
from giftcert_contracts.inbound import CaptureHold, HoldCertificate, RedeemCertificate
from giftcert_contracts.outbound import CertificateRedeemed, HoldPlaced
from giftcert_services.runtime.bootstrap import Dependencies
from tests.api.conftest import Shop, active_certificate

pytestmark = pytest.mark.integration


def eur(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "EUR"}


def _command(model: type[Any], shop: Shop, deps: Dependencies, **fields: Any) -> Any:
    return model.model_validate({"workspace_id": shop.workspace, "requested_at": deps.clock.now()} | fields)


async def test_an_order_shows_what_each_certificate_held_captured_and_redeemed(
    http: httpx.AsyncClient, api_deps: Dependencies, shop: Shop
) -> None:
    patched = await http.patch(f"{shop.base}/settings", headers=shop.admin, json={"redemption_mode": "partial"})
    assert patched.status_code == 200, patched.text
    one, two, three = [await active_certificate(http, shop) for _ in range(3)]  # EUR 50 each
    order = {"order_id": "trip-77", "order_total": eur(12000)}
    held, kept = [
        _command(HoldCertificate, shop, api_deps, request_id=uuid4(), code=c["code"], amount=eur(minor), **order)
        for c, minor in ((one, 3000), (two, 2000))
    ]
    replies = await hold_certificates([held, kept], api_deps.new_uow(), api_deps.clock)
    assert all(isinstance(r, HoldPlaced) for r in replies)
    capture = _command(CaptureHold, shop, api_deps, request_id=uuid4(), hold_id=held.request_id, amount=eur(2500))
    (captured,) = await capture_holds([capture], api_deps.new_uow(), api_deps.clock)
    assert isinstance(captured, CertificateRedeemed)
    redeem = _command(RedeemCertificate, shop, api_deps, request_id=uuid4(), code=three["code"], amount=eur(1000),
                      **order)
    assert isinstance(await redeem_certificate(redeem, api_deps.new_uow(), api_deps.clock), CertificateRedeemed)

    shown = await http.get(f"{shop.base}/orders/trip-77", headers=shop.admin)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert (body["order_id"], body["received"], body["held"]) == ("trip-77", 3500, 2000)
    by_certificate = {c["certificate_id"]: c for c in body["certificates"]}
    assert list(by_certificate)[2] == three["certificate_id"]  # first seen first (the two holds: one moment)
    assert set(by_certificate) == {one["certificate_id"], two["certificate_id"], three["certificate_id"]}
    first = by_certificate[one["certificate_id"]]
    assert (first["applied"], first["held"], first["code_last4"]) == (2500, 0, one["code"][-4:])
    assert [(a["kind"], a["amount"], a["request_id"]) for a in first["applications"]] == [
        ("captured", 2500, str(capture.request_id)),
    ]
    ((hold,),) = [first["holds"]]
    assert (hold["hold_id"], hold["state"], hold["amount"], hold["captured"]) == (
        str(held.request_id), "captured", eur(3000), eur(2500),
    )
    second = by_certificate[two["certificate_id"]]
    assert (second["applied"], second["held"], [h["state"] for h in second["holds"]]) == (0, 2000, ["live"])
    third = by_certificate[three["certificate_id"]]
    assert (third["applied"], third["holds"], third["applications"][0]["kind"]) == (1000, [], "redeemed")
    assert one["code"] not in shown.text  # an order shows the last four characters only

    detail = await http.get(f"{shop.base}/certificates/{one['certificate_id']}", headers=shop.admin)
    assert detail.json()["orders"] == ["trip-77"]


async def test_a_certificate_lists_every_order_it_paid_for_first_paid_first(
    http: httpx.AsyncClient, api_deps: Dependencies, shop: Shop
) -> None:
    patched = await http.patch(f"{shop.base}/settings", headers=shop.admin, json={"redemption_mode": "partial"})
    assert patched.status_code == 200, patched.text
    certificate = await active_certificate(http, shop)
    for order_id in ("trip-b", "trip-a", "trip-b"):
        redeem = _command(RedeemCertificate, shop, api_deps, request_id=uuid4(), code=certificate["code"],
                          amount=eur(1000), order_id=order_id, order_total=eur(9000))
        assert isinstance(await redeem_certificate(redeem, api_deps.new_uow(), api_deps.clock), CertificateRedeemed)
    detail = await http.get(f"{shop.base}/certificates/{certificate['certificate_id']}", headers=shop.admin)
    assert detail.json()["orders"] == ["trip-b", "trip-a"]
    assert detail.json()["order_id"] == "trip-b"


async def test_an_order_no_certificate_contributed_to_is_not_found(http: httpx.AsyncClient, shop: Shop) -> None:
    missing = await http.get(f"{shop.base}/orders/nothing-here", headers=shop.admin)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert (await http.get(f"{shop.base}/orders/nothing-here", headers=shop.portal)).status_code == 403
