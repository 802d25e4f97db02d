"""The documents and mailer workers in batches: one PDF and one email per certificate however the
events are grouped, and an email the mail server accepted is never sent again because another in
its batch failed."""

from uuid import uuid4

import pytest

from giftcert.delivery.email import send_certificate_emails
from giftcert.delivery.pdf import store_certificate_pdfs
from giftcert.mail.outgoing import OutgoingEmail
from giftcert.mail.smtp import MailServerUnavailable
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import CertificateActivated, CertificateSent, PdfReady
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.steps import active, activity_of


class FlakyMailServer:
    """Accepts every email but the `refuse`-th one it is given (counting from 1)."""

    def __init__(self, refuse: int | None = None) -> None:
        self.accepted: list[str] = []
        self.given = 0
        self.refuse = refuse

    async def __call__(self, message: OutgoingEmail) -> None:
        self.given += 1
        if self.given == self.refuse:
            raise MailServerUnavailable("421 try again later")
        self.accepted.extend(message.recipients)


async def _activated(new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str, count: int) -> list:
    for _ in range(count):
        await active(new_uow, clock, shop, recipient={"name": "R", "email": f"r-{uuid4().hex[:8]}@example.com"})
    return [e for e in await outbox.fresh(shop) if isinstance(e, CertificateActivated)]


async def test_a_batch_of_activations_stores_one_pdf_each_and_a_repeat_stores_nothing(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    activated = await _activated(new_uow, clock, outbox, shop, 3)
    ready = await store_certificate_pdfs([*activated, activated[0]], new_uow, clock)
    assert [r.certificate_id if r else None for r in ready] == [*(a.certificate_id for a in activated), None]
    assert await outbox.fresh(shop) == [r for r in ready if r is not None]
    assert await store_certificate_pdfs(list(reversed(activated)), new_uow, clock) == [None, None, None]
    assert await outbox.fresh(shop) == []


async def test_emails_accepted_while_one_of_their_batch_failed_are_recorded_and_not_sent_again(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    activated = await _activated(new_uow, clock, outbox, shop, 3)
    ready = [r for r in await store_certificate_pdfs(activated, new_uow, clock) if isinstance(r, PdfReady)]
    await outbox.fresh(shop)
    server = FlakyMailServer(refuse=2)
    with pytest.raises(MailServerUnavailable):
        await send_certificate_emails(ready, new_uow, clock, server, mail_from="gifts@example.com")
    accepted = await outbox.fresh(shop)
    assert all(isinstance(s, CertificateSent) for s in accepted)
    assert len(accepted) == 2

    again = await send_certificate_emails(ready, new_uow, clock, server, mail_from="gifts@example.com")
    (retried,) = [s for s in again if s is not None]
    assert {retried.certificate_id, *(s.certificate_id for s in accepted)} == {r.certificate_id for r in ready}
    assert len(server.accepted) == len(set(server.accepted)) == 3
    for r in ready:
        assert (await activity_of(new_uow, r.certificate_id)).count("sent") == 1
