"""Contract v2's certificate kinds: an operator issues `promotional` and `credit` certificates without a
payment (active at once, with a reason; a credit names the order it replaces). One body, both stores."""

from typing import Any

import pytest

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Status
from giftcert.ledger.payment import activate_certificate
from giftcert.ledger.purchase import create_certificate
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import CertificateActivated, CertificateCreated, PaymentRejected, PurchaseRejected
from giftcert_contracts.topics import Topic
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.steps import activity_of, balance_of, payment, purchase, stored_certificate

FREE = {"channel": "admin", "kind": "promotional", "reason": "trade fair raffle"}
CREDIT = {"channel": "admin", "kind": "credit", "reason": "tour cancelled by us", "replaces_order_id": "order-77"}


@pytest.mark.parametrize("kind", [FREE, CREDIT], ids=["promotional", "credit"])
async def test_an_operator_issues_a_promotional_or_credit_certificate_active_at_once_without_a_payment(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str, kind: dict[str, Any]
) -> None:
    request = purchase(shop, clock, **kind)
    reply = await create_certificate(request, new_uow(), clock)
    assert isinstance(reply, CertificateCreated)
    assert reply.kind == kind["kind"]
    created, activated = await outbox.fresh(shop)
    assert created == reply
    assert isinstance(activated, CertificateActivated)
    assert (activated.kind, activated.payment_id) == (kind["kind"], f"{kind['kind']}:{request.certificate_id}")
    certificate = await stored_certificate(new_uow, shop, request.certificate_id)
    assert (certificate.status, certificate.kind, certificate.balance_minor) == (Status.ACTIVE, kind["kind"], 5000)
    assert certificate.replaces_order_id == kind.get("replaces_order_id")
    assert await balance_of(new_uow, certificate.id) == 5000
    assert await activity_of(new_uow, certificate.id) == [ActivityKind.CREATED, ActivityKind.ISSUED]
    sequences = [s for _, _, s in await outbox.sequences(shop)]
    assert sequences == [1, 2]
    # a payment for it later is refused (the payment system refunds it): it was never pending
    late = await activate_certificate(payment(request, clock), new_uow(), clock)
    assert isinstance(late, PaymentRejected)
    assert late.reason == "not_pending"


async def test_a_free_certificate_is_not_held_to_the_sales_range_but_to_the_workspaces_currency(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    above = purchase(shop, clock, amount={"minor": 500_000, "currency": "EUR"}, **FREE)  # max is 1,000.00
    assert isinstance(await create_certificate(above, new_uow(), clock), CertificateCreated)
    francs = purchase(shop, clock, amount={"minor": 5000, "currency": "CHF"}, **FREE)
    refused = await create_certificate(francs, new_uow(), clock)
    assert isinstance(refused, PurchaseRejected)
    assert refused.reason == "currency_not_supported"
    assert [r.topic for r in await outbox.records(shop)] == [
        Topic.CERTIFICATE_CREATED, Topic.CERTIFICATE_ACTIVATED, Topic.PURCHASE_REJECTED
    ]


async def test_a_purchased_certificate_is_still_pending_until_paid_and_says_its_kind(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    request = purchase(shop, clock)
    reply = await create_certificate(request, new_uow(), clock)
    assert isinstance(reply, CertificateCreated)
    assert reply.kind == "purchased"
    activated = await activate_certificate(payment(request, clock), new_uow(), clock)
    assert isinstance(activated, CertificateActivated)
    assert activated.kind == "purchased"
