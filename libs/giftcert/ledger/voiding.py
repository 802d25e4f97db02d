"""void -> certificate-voided or void-rejected; reactivate -> certificate-reactivated or
reactivate-rejected. A certificate with a live hold is not voided (`held`, v2): the hold is
released or captured first; the certificate's lock, which every hold decision takes, keeps a hold
from being placed meanwhile. Both keep the operator's reason and name in the activity log; a repeated
request_id gets the first decision again."""

from datetime import datetime

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.domain.rules import refuse_reactivation, refuse_void
from giftcert.ledger.events import new_event_fields
from giftcert.ledger.idempotency import answer, claim_first
from giftcert.messaging.inbox import InboxKey
from giftcert.ports import UnitOfWork
from giftcert.store.activity import ActivityEntry
from giftcert_contracts.inbound import ReactivateCertificate, VoidCertificate
from giftcert_contracts.outbound import (
    CertificateReactivated,
    CertificateVoided,
    Event,
    ReactivateRejected,
    VoidRejected,
)


async def void_certificate(command: VoidCertificate, uow: UnitOfWork, clock: Clock) -> Event:
    key = InboxKey("void", command.workspace_id, str(command.request_id))
    async with uow:
        now = clock.now()
        decisions: dict[int, Event] = {}
        if await claim_first(uow, [key], now):  # else a repeat: it gets the stored reply
            decisions[0] = await _void(command, uow, now)
        (reply,) = await answer(uow, [key], decisions, now)
        await uow.commit()
    return reply


async def reactivate_certificate(command: ReactivateCertificate, uow: UnitOfWork, clock: Clock) -> Event:
    key = InboxKey("reactivate", command.workspace_id, str(command.request_id))
    async with uow:
        now = clock.now()
        decisions: dict[int, Event] = {}
        if await claim_first(uow, [key], now):  # else a repeat: it gets the stored reply
            decisions[0] = await _reactivate(command, uow, now)
        (reply,) = await answer(uow, [key], decisions, now)
        await uow.commit()
    return reply


async def _void(command: VoidCertificate, uow: UnitOfWork, now: datetime) -> Event:
    fields = new_event_fields(command.workspace_id, now)
    ids = {"request_id": command.request_id, "certificate_id": command.certificate_id}
    certificate = await uow.certificates.get(command.workspace_id, command.certificate_id, lock=True)
    held = 0 if certificate is None else (await uow.holds.live_on([certificate.id], now)).get(certificate.id, 0)
    refusal = refuse_void(certificate, held=held)
    if refusal is not None or certificate is None:
        assert refusal is not None  # noqa: S101 - refuse_void refuses a missing certificate
        return VoidRejected(**fields, **ids, reason=refusal.reason, detail=refusal.detail)
    await uow.certificates.save(certificate.voided(at=now))
    await uow.activity.add(
        ActivityEntry(
            certificate.id, certificate.workspace_id, ActivityKind.VOIDED, now,
            actor=command.actor, reason=command.reason, reference=str(command.request_id),
        )
    )
    return CertificateVoided(**fields, **ids, reason=command.reason, actor=command.actor)


async def _reactivate(command: ReactivateCertificate, uow: UnitOfWork, now: datetime) -> Event:
    fields = new_event_fields(command.workspace_id, now)
    ids = {"request_id": command.request_id, "certificate_id": command.certificate_id}
    certificate = await uow.certificates.get(command.workspace_id, command.certificate_id, lock=True)
    refusal = refuse_reactivation(certificate, now=now)
    if refusal is not None or certificate is None:
        assert refusal is not None  # noqa: S101 - refuse_reactivation refuses a missing one
        return ReactivateRejected(**fields, **ids, reason=refusal.reason, detail=refusal.detail)
    await uow.certificates.save(certificate.reactivated())
    await uow.activity.add(
        ActivityEntry(
            certificate.id, certificate.workspace_id, ActivityKind.REACTIVATED, now,
            actor=command.actor, reason=command.reason, reference=str(command.request_id),
        )
    )
    return CertificateReactivated(**fields, **ids, reason=command.reason, actor=command.actor)
