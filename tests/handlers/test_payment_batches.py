"""payment-completed in batches: one transaction per poll, and for every payment the outcome that
one-at-a-time handling in arrival order gives."""

from giftcert.domain.certificate import Status
from giftcert.ledger.payment import activate_certificates
from giftcert.ledger.purchase import create_certificate
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import CertificateActivated, PaymentRejected, PurchaseRejected
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.steps import activity_of, balance_of, payment, pending, purchase, stored, stored_certificate


async def test_a_batch_of_payments_gets_what_one_payment_after_another_would(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    first, second = await pending(new_uow, clock, shop), await pending(new_uow, clock, shop)
    refused_purchase = purchase(shop, clock, amount={"minor": 5000, "currency": "USD"})
    assert isinstance(await create_certificate(refused_purchase, new_uow(), clock), PurchaseRejected)
    not_yet = purchase(shop, clock)
    await outbox.fresh(shop)
    paid = payment(first, clock)
    batch = [
        paid,
        payment(first, clock),  # a second payment of the same certificate: it is active by now
        paid,  # the same payment again
        payment(second, clock, amount={"minor": 4999, "currency": "EUR"}),
        payment(refused_purchase, clock),
        payment(not_yet, clock),  # parked until its purchase request comes
        payment(second, clock),
    ]
    outcomes = await activate_certificates(batch, new_uow(), clock)

    kinds = [None if o is None else (type(o).__name__, getattr(o, "reason", None)) for o in outcomes]
    assert kinds == [
        ("CertificateActivated", None),
        ("PaymentRejected", "not_pending"),
        None,
        ("PaymentRejected", "amount_mismatch"),
        ("PaymentRejected", "unknown_certificate"),
        None,
        ("CertificateActivated", None),
    ]
    assert await outbox.fresh(shop) == [o for o in outcomes if o is not None]
    for request, payment_id in ((first, paid.payment_id), (second, batch[-1].payment_id)):
        certificate = await stored_certificate(new_uow, shop, request.certificate_id)
        assert (certificate.status, certificate.payment_id) == (Status.ACTIVE, payment_id)
        assert await balance_of(new_uow, request.certificate_id) == request.amount.minor
        assert (await activity_of(new_uow, request.certificate_id)).count("purchased") == 1
    assert await stored(new_uow, shop, not_yet.certificate_id) is None
    created = await create_certificate(not_yet, new_uow(), clock)  # settles the parked payment
    assert [type(e) for e in await outbox.fresh(shop)] == [type(created), CertificateActivated]


async def test_a_batch_repeated_after_it_was_handled_changes_and_publishes_nothing(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    requests = [await pending(new_uow, clock, shop) for _ in range(3)]
    batch = [payment(r, clock) for r in requests]
    first = await activate_certificates(batch, new_uow(), clock)
    assert all(isinstance(o, CertificateActivated) for o in first)
    await outbox.fresh(shop)
    assert await activate_certificates(list(reversed(batch)), new_uow(), clock) == [None, None, None]
    assert await outbox.fresh(shop) == []
    assert not any(isinstance(o, PaymentRejected) for o in first)
