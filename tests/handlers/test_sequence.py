"""`sequence` (CONTRACT.md v2): every event that names a certificate takes the next number of that
certificate's own counter, where the outbox rows are written: 1 for `certificate-created`, then in
commit order, and within one transaction in the order its events were written. Refusals and
repeated replies that name the certificate take a number too; events naming none carry none."""

from uuid import UUID

from giftcert.ledger.events import new_event_fields
from giftcert.ledger.redemption import redeem_certificate, redeem_certificates
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import CertificateExpired, CertificateRedeemed, RedemptionRejected
from giftcert_contracts.topics import Topic
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.steps import active, redeem, same_decision


def _numbers_of(sequences: list[tuple[Topic, UUID | None, int | None]], certificate_id: UUID) -> list[int | None]:
    return [number for _, subject, number in sequences if subject == certificate_id]


async def test_a_certificates_events_are_numbered_1_2_3_in_commit_order_and_a_repeat_takes_the_next(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)  # created 1, activated 2
    request = redeem(shop, certificate.code, clock)
    first = await redeem_certificate(request, new_uow(), clock)
    again = await redeem_certificate(request, new_uow(), clock)
    refused = await redeem_certificate(redeem(shop, certificate.code, clock), new_uow(), clock)
    assert isinstance(first, CertificateRedeemed)
    assert same_decision(again, first)
    assert isinstance(refused, RedemptionRejected)

    sequences = await outbox.sequences(shop)
    topics = [topic for topic, subject, _ in sequences if subject == certificate.id]
    named = [Topic.CERTIFICATE_CREATED, Topic.CERTIFICATE_ACTIVATED, Topic.CERTIFICATE_REDEEMED,
             Topic.CERTIFICATE_REDEEMED]
    if refused.subject == certificate.id:  # v2: a refusal that reached the certificate names it
        named.append(Topic.REDEMPTION_REJECTED)
    assert topics == named
    assert _numbers_of(sequences, certificate.id) == list(range(1, len(named) + 1))
    records = [r.event for r in await outbox.records(shop) if r.event.subject == certificate.id]
    assert same_decision(records[3], records[2])  # the repeat: the same reply under the next number
    assert all(number is None for _, subject, number in sequences if subject is None)


async def test_one_transaction_numbers_each_certificates_events_in_the_order_they_were_written(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    one = await active(new_uow, clock, shop)
    two = await active(new_uow, clock, shop)
    batch = [redeem(shop, one.code, clock), redeem(shop, two.code, clock), redeem(shop, one.code, clock)]
    replies = await redeem_certificates(batch, new_uow(), clock)  # one statement writes all three rows
    assert [type(r) for r in replies] == [CertificateRedeemed, CertificateRedeemed, RedemptionRejected]

    sequences = await outbox.sequences(shop)
    refusal = (one.id, 4) if replies[2].subject == one.id else (None, None)  # v2 names the certificate
    written = [(subject, number) for _, subject, number in sequences[-3:]]
    assert written == [(one.id, 3), (two.id, 3), refusal]
    assert _numbers_of(sequences, one.id) == list(range(1, 4 if refusal[0] is None else 5))
    assert _numbers_of(sequences, two.id) == [1, 2, 3]


async def test_one_event_given_twice_in_one_write_is_one_row_with_one_number(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    event = CertificateExpired(
        **new_event_fields(shop, clock.now()), certificate_id=certificate.id, code_last4="WXYZ",
        expired_at=clock.now(),
    )
    async with new_uow() as uow:
        await uow.outbox.add(event, event)
        await uow.commit()
    assert _numbers_of(await outbox.sequences(shop), certificate.id) == [1, 2, 3]
