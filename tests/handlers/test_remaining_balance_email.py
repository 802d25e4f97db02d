"""The remaining-balance email: after a redemption that leaves a balance, where the workspace asks for
it, once per redemption, with the code's last four characters only. One body, both stores."""

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from giftcert.delivery.remaining_balance import send_remaining_balance_email
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.ledger.redemption import redeem_certificate
from giftcert.ledger.voiding import void_certificate
from giftcert.mail.outgoing import OutgoingEmail
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import CertificateRedeemed
from tests.fakes import FixedClock
from tests.handlers.steps import active, activity_of, configure, redeem, void

MAIL_FROM = "gifts@example.com"


class MailServer:
    def __init__(self) -> None:
        self.accepted: list[EmailMessage] = []

    async def __call__(self, message: OutgoingEmail) -> None:
        parsed = message_from_bytes(message.as_bytes(), policy=default)
        assert isinstance(parsed, EmailMessage)
        self.accepted.append(parsed)


def eur(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "EUR"}


async def _redeemed(
    new_uow: NewUnitOfWork, clock: FixedClock, certificate: Certificate, minor: int
) -> CertificateRedeemed:
    request = redeem(certificate.workspace_id, certificate.code, clock, order_total=eur(10000), amount=eur(minor))
    reply = await redeem_certificate(request, new_uow(), clock)
    assert isinstance(reply, CertificateRedeemed), reply
    return reply


async def _send(new_uow: NewUnitOfWork, clock: FixedClock, event: CertificateRedeemed, server: MailServer) -> bool:
    return await send_remaining_balance_email(event, new_uow, clock, server, mail_from=MAIL_FROM)


@pytest.fixture
async def partial(new_uow: NewUnitOfWork, clock: FixedClock, shop: str) -> str:
    await configure(new_uow, clock, shop, redemption_mode="partial", remaining_balance_email=True)
    return shop


async def test_a_partial_redemption_emails_the_recipient_what_is_left_once_with_the_last_four_only(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)  # EUR 50
    event = await _redeemed(new_uow, clock, certificate, 1500)
    server = MailServer()
    assert await _send(new_uow, clock, event, server)
    assert not await _send(new_uow, clock, event, server)  # the event again: no second email
    (mail,) = server.accepted
    assert mail["To"].addresses[0].addr_spec == certificate.recipient_email
    assert mail["Subject"] == f"Your remaining balance with Tours {partial}"
    assert str(mail["Message-ID"]).strip() == f"<remaining-balance-{event.request_id}@giftcert.invalid>"
    for part in (mail.get_body(("plain",)), mail.get_body(("html",))):
        assert part is not None
        text = str(part.get_content())
        assert "Remaining balance: €35.00" in text
        assert "€15.00" in text
        assert certificate.code[-4:] in text
        assert certificate.code not in text
        assert certificate.code[:4] not in text
    assert (await activity_of(new_uow, certificate.id)).count(ActivityKind.REMAINING_BALANCE_SENT) == 1


async def test_the_email_is_in_the_recipients_language_with_money_as_the_locale_writes_it(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial, locale="de-AT")
    server = MailServer()
    assert await _send(new_uow, clock, await _redeemed(new_uow, clock, certificate, 1500), server)
    (mail,) = server.accepted
    assert mail["Subject"] == f"Ihr Restguthaben bei Tours {partial}"
    plain = mail.get_body(("plain",))
    assert plain is not None
    assert "Restguthaben: €\xa035,00" in str(plain.get_content())  # Austrian German, as Babel writes it


async def test_a_redemption_that_uses_the_certificate_up_sends_nothing(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    event = await _redeemed(new_uow, clock, certificate, 5000)
    assert event.status_after == "redeemed"
    server = MailServer()
    assert not await _send(new_uow, clock, event, server)
    assert server.accepted == []


async def test_a_workspace_that_did_not_turn_it_on_sends_nothing(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    await configure(new_uow, clock, shop, redemption_mode="partial")  # the toggle's default: off
    certificate = await active(new_uow, clock, shop)
    server = MailServer()
    assert not await _send(new_uow, clock, await _redeemed(new_uow, clock, certificate, 1500), server)
    assert server.accepted == []
    assert ActivityKind.REMAINING_BALANCE_SENT not in await activity_of(new_uow, certificate.id)


async def test_a_certificate_voided_before_the_mailer_gets_to_it_gets_no_email(
    new_uow: NewUnitOfWork, clock: FixedClock, partial: str
) -> None:
    certificate = await active(new_uow, clock, partial)
    event = await _redeemed(new_uow, clock, certificate, 1500)
    await void_certificate(void(partial, certificate.id), new_uow(), clock)
    server = MailServer()
    assert not await _send(new_uow, clock, event, server)
    assert server.accepted == []
