"""purchase-requested -> a pending certificate (certificate-created) or purchase-rejected.

A `promotional` or `credit` request (an operator's, contract v2) is not paid: its certificate is
created active, with the ledger's issue entry and `issued` (the reason) in its activity, and
certificate-activated follows certificate-created in the same transaction.

A request that breaks the contract's field rules is dead-lettered like any invalid message; if its
workspace and certificate id can still be read, the portal also gets `purchase-rejected` with reason
`invalid` and the problems in `detail`, so it need not wait for an answer that never comes."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ValidationError

from giftcert.clock import Clock
from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.codes import generate_code
from giftcert.domain.money import Amount
from giftcert.domain.rules import Refusal, decide_purchase
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.ledger.events import new_event_fields
from giftcert.ledger.idempotency import answer, claim_first
from giftcert.ledger.payment import PURCHASE_CONSUMER
from giftcert.ledger.settlement import reject_as_unknown, settle_payment
from giftcert.messaging.inbox import InboxKey
from giftcert.ports import UnitOfWork
from giftcert.rendering.fonts import first_unprintable
from giftcert.store.activity import ActivityEntry
from giftcert.store.ledger import EntryKind, LedgerEntry
from giftcert_contracts.fields import WorkspaceId
from giftcert_contracts.inbound import PurchaseRequested
from giftcert_contracts.outbound import CertificateActivated, CertificateCreated, Event, PurchaseRejected

CONSUMER = PURCHASE_CONSUMER


async def _unused_code(uow: UnitOfWork, workspace_id: str) -> str:
    while await uow.certificates.code_taken(workspace_id, code := generate_code()):
        pass  # 31^12 codes: a collision is rare, but never reused
    return code


@dataclass(frozen=True, slots=True)
class Decided:
    reply: Event
    first: bool
    """False when the request had been decided before and `reply` is that decision again."""


async def create_certificate(command: PurchaseRequested, uow: UnitOfWork, clock: Clock) -> Event:
    return (await decide_purchase_request(command, uow, clock)).reply


async def decide_purchase_request(command: PurchaseRequested, uow: UnitOfWork, clock: Clock) -> Decided:
    """The decision on a purchase request, and whether it was made now or is a repeat's."""
    key = InboxKey(CONSUMER, command.workspace_id, str(command.certificate_id))
    async with uow:
        now = clock.now()
        if not await claim_first(uow, [key], now):
            (reply,) = await answer(uow, [key], {}, now)
            await uow.commit()
            return Decided(reply, first=False)
        decision, following = await _decide(command, uow, now)
        (reply,) = await answer(uow, [key], {0: decision}, now)
        await uow.outbox.add(*following)
        await _settle_parked_payments(command, reply, uow, now)  # their events follow the reply
        await uow.commit()
    return Decided(reply, first=True)


async def _decide(command: PurchaseRequested, uow: UnitOfWork, now: datetime) -> tuple[Event, list[Event]]:
    """The reply, and the events that follow it (an unpaid kind's activation)."""
    fields = new_event_fields(command.workspace_id, now)
    amount = Amount.of(command.amount)
    await uow.parked_payments.lock_certificate_id(command.certificate_id)
    if await uow.certificates.exists_anywhere(command.certificate_id):
        return PurchaseRejected(
            **fields,
            certificate_id=command.certificate_id,
            reason="invalid",
            detail="this certificate_id is already in use",
        ), []
    workspace = await uow.workspaces.get(command.workspace_id)
    if workspace is None:  # first sight of a workspace: it sells under the defaults
        workspace = WorkspaceSettings.defaults(command.workspace_id)
        await uow.workspaces.put(workspace, now, overwrite=False)
    sale = decide_purchase(
        workspace,
        amount=amount,
        channel=command.channel,
        segment=command.segment,
        products=await uow.products.of_workspace(command.workspace_id),
        printed=(command.purchaser.name, command.recipient.name, command.message),
        first_unprintable=first_unprintable,
        kind=command.kind,
    )
    if isinstance(sale, Refusal):
        return PurchaseRejected(
            **fields,
            certificate_id=command.certificate_id,
            reason=sale.reason,
            detail=sale.detail,
        ), []
    certificate = Certificate(
        id=command.certificate_id,
        workspace_id=command.workspace_id,
        status=Status.PENDING,
        amount=amount,
        code=await _unused_code(uow, command.workspace_id),
        channel=command.channel,
        segment=sale.redeemable_segment,
        product_id=None if sale.product is None else sale.product.id,
        purchaser_name=command.purchaser.name,
        purchaser_email=command.purchaser.email,
        recipient_name=command.recipient.name,
        recipient_email=command.recipient.email,
        message=command.message,
        locale=command.locale,
        expiry_days=workspace.expiry_days,
        created_at=now,
        kind=command.kind,
        replaces_order_id=command.replaces_order_id,
    )
    entries = [ActivityEntry(certificate.id, certificate.workspace_id, ActivityKind.CREATED, now)]
    if command.channel == "portal":
        entries.append(
            ActivityEntry(certificate.id, certificate.workspace_id, ActivityKind.PURCHASED_FROM_PORTAL, now)
        )
    following: list[Event] = []
    if certificate.kind != "purchased":
        certificate, activated = _activated_unpaid(certificate, now)
        entries.append(
            ActivityEntry(
                certificate.id, certificate.workspace_id, ActivityKind.ISSUED, now, reason=command.reason,
                reference=command.replaces_order_id,
            )
        )
        following.append(activated)
    await uow.certificates.add(certificate)
    await uow.activity.add(*entries)
    if following:
        await uow.ledger.record(
            LedgerEntry(
                certificate.id, certificate.workspace_id, EntryKind.ISSUED, certificate.amount,
                unpaid_payment_id(certificate), now,
            )
        )
    created = CertificateCreated(
        **fields,
        certificate_id=certificate.id,
        amount=command.amount,
        channel=command.channel,
        expires_in_days=workspace.expiry_days,
        kind=certificate.kind,
    )
    return created, following


def unpaid_payment_id(certificate: Certificate) -> str:
    """What stands for the payment of a certificate issued without one: never a payment system's id."""
    return f"{certificate.kind}:{certificate.id}"


def _activated_unpaid(certificate: Certificate, now: datetime) -> tuple[Certificate, CertificateActivated]:
    active = certificate.activated(at=now, payment_id=unpaid_payment_id(certificate))
    assert active.expires_at is not None  # noqa: S101 - activation sets it
    return active, CertificateActivated(
        **new_event_fields(certificate.workspace_id, now),
        certificate_id=active.id,
        code_last4=active.code_last4,
        amount=active.amount.to_money(),
        activated_at=now,
        expires_at=active.expires_at,
        channel=active.channel,
        payment_id=unpaid_payment_id(active),
        kind=active.kind,
    )


async def _settle_parked_payments(command: PurchaseRequested, reply: Event, uow: UnitOfWork, now: datetime) -> None:
    """Payments that came before this request: the first may activate the new certificate,
    the others are refused as the certificate is no longer pending; all are refused when the
    purchase was."""
    for payment in await uow.parked_payments.take_for(command.workspace_id, command.certificate_id):
        if isinstance(reply, CertificateCreated):
            await settle_payment(uow, payment, now)
        else:
            await uow.outbox.add(reject_as_unknown(payment, now, "the purchase request was rejected"))


class _PurchaseIdentity(BaseModel):
    workspace_id: WorkspaceId
    certificate_id: UUID


async def reject_invalid_purchase(body: bytes, problems: str, uow: UnitOfWork, clock: Clock) -> Event | None:
    """`purchase-rejected` (`invalid`) for a request whose workspace and certificate id are readable
    and whose certificate does not exist; None (nothing to answer) otherwise. Not recorded in the
    inbox: a corrected request with the same certificate id is decided as new."""
    try:
        identity = _PurchaseIdentity.model_validate_json(body)
    except ValidationError:
        return None
    async with uow:
        if await uow.certificates.exists_anywhere(identity.certificate_id):
            return None
        now = clock.now()
        reply = PurchaseRejected(
            **new_event_fields(identity.workspace_id, now),
            certificate_id=identity.certificate_id,
            reason="invalid",
            detail=problems[:1000],
        )
        await uow.outbox.add(reply)
        await uow.commit()
    return reply
