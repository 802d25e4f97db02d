"""Steps the handler suite shares: messages as the platform sends them, and the store read and
prepared through the backend's own units of work."""


from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Certificate
from giftcert.domain.workspace import WorkspaceSettings
from giftcert.ledger.expiry import check_expiries
from giftcert.ledger.payment import activate_certificate
from giftcert.ledger.purchase import create_certificate
from giftcert.ledger.redemption import redeem_certificate
from giftcert.ledger.voiding import void_certificate
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.inbound import (
    CheckExpiries,
    PaymentCompleted,
    PurchaseRequested,
    ReactivateCertificate,
    RedeemCertificate,
    VoidCertificate,
)
from giftcert_contracts.outbound import (
    CertificateActivated,
    CertificateCreated,
    CertificateRedeemed,
    CertificateVoided,
    Event,
)
from tests.fakes import FixedClock

EXPIRY_DAYS = 30
REMINDER_DAYS = 7
GRACE = timedelta(minutes=10)
EUR_50 = {"minor": 5000, "currency": "EUR"}


# --- messages, as the platform sends them --------------------------------------------------------


def purchase(workspace: str, clock: FixedClock, **changes: Any) -> PurchaseRequested:
    return PurchaseRequested.model_validate(
        {
            "workspace_id": workspace,
            "certificate_id": uuid4(),
            "amount": EUR_50,
            "purchaser": {"name": "Ada Buyer", "email": "ada@example.com"},
            "recipient": {"name": "Grace Friend", "email": "grace@example.com"},
            "message": "Happy travels",
            "channel": "portal",
            "requested_at": clock.now(),
        }
        | changes
    )


def payment(bought: PurchaseRequested, clock: FixedClock, **changes: Any) -> PaymentCompleted:
    return PaymentCompleted.model_validate(
        {
            "workspace_id": bought.workspace_id,
            "payment_id": f"pay-{uuid4().hex[:12]}",
            "certificate_id": bought.certificate_id,
            "amount": bought.amount.model_dump(),
            "completed_at": clock.now(),
        }
        | changes
    )


def redeem(workspace: str, code: str, clock: FixedClock, **changes: Any) -> RedeemCertificate:
    return RedeemCertificate.model_validate(
        {
            "workspace_id": workspace,
            "request_id": uuid4(),
            "order_id": "order-1",
            "code": code,
            "order_total": EUR_50,
            "requested_at": clock.now(),
        }
        | changes
    )


def void(workspace: str, certificate_id: UUID, **changes: Any) -> VoidCertificate:
    body = {"workspace_id": workspace, "request_id": uuid4(), "certificate_id": certificate_id}
    return VoidCertificate.model_validate(body | {"reason": "customer asked", "actor": "op@example.com"} | changes)


def reactivate(workspace: str, certificate_id: UUID, **changes: Any) -> ReactivateCertificate:
    body = {"workspace_id": workspace, "request_id": uuid4(), "certificate_id": certificate_id}
    return ReactivateCertificate.model_validate(body | {"reason": "refund cancelled", "actor": "op"} | changes)


def tick(workspace: str, now: datetime) -> CheckExpiries:
    return CheckExpiries(workspace_id=workspace, tick_id=uuid4(), now=now)


# --- the store, read and prepared through the backend's own units of work ------------------------


async def configure(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str, **changes: Any) -> None:
    settings = WorkspaceSettings(
        workspace_id=workspace, name=f"Tours {workspace}", portal_enabled=True,
        expiry_days=EXPIRY_DAYS, reminder_days=REMINDER_DAYS,
    )
    async with new_uow() as uow:
        await uow.workspaces.put(replace(settings, **changes), clock.now())
        await uow.commit()


async def stored(new_uow: NewUnitOfWork, workspace: str, certificate_id: UUID) -> Certificate | None:
    async with new_uow() as uow:
        return await uow.certificates.get(workspace, certificate_id)


async def stored_certificate(new_uow: NewUnitOfWork, workspace: str, certificate_id: UUID) -> Certificate:
    certificate = await stored(new_uow, workspace, certificate_id)
    assert certificate is not None
    return certificate


async def activity_of(new_uow: NewUnitOfWork, certificate_id: UUID) -> list[ActivityKind]:
    async with new_uow() as uow:
        return [entry.kind for entry in await uow.activity.of_certificate(certificate_id)]


async def balance_of(new_uow: NewUnitOfWork, certificate_id: UUID) -> int:
    async with new_uow() as uow:
        return await uow.ledger.balance(certificate_id)


async def pending(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str, **changes: Any) -> PurchaseRequested:
    request = purchase(workspace, clock, **changes)
    assert isinstance(await create_certificate(request, new_uow(), clock), CertificateCreated)
    return request


async def active(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str, **changes: Any) -> Certificate:
    request = await pending(new_uow, clock, workspace, **changes)
    assert isinstance(await activate_certificate(payment(request, clock), new_uow(), clock), CertificateActivated)
    return await stored_certificate(new_uow, workspace, request.certificate_id)


async def voided(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> Certificate:
    certificate = await active(new_uow, clock, workspace)
    assert isinstance(await void_certificate(void(workspace, certificate.id), new_uow(), clock), CertificateVoided)
    return certificate


async def redeemed(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> Certificate:
    certificate = await active(new_uow, clock, workspace)
    reply = await redeem_certificate(redeem(workspace, certificate.code, clock), new_uow(), clock)
    assert isinstance(reply, CertificateRedeemed)
    return certificate


async def expired(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> Certificate:
    certificate = await active(new_uow, clock, workspace)
    assert certificate.expires_at is not None
    assert await check_expiries(tick(workspace, certificate.expires_at), new_uow, batch_size=10) == 1
    return certificate


def same_decision(again: Event, first: Event) -> bool:
    """The contract's repeat: the same reply, under a new event id (and, as it names a certificate,
    a later number of its counter, where the events were read from the outbox)."""
    volatile = {"event_id", "occurred_at", "sequence"}
    numbered = again.sequence is not None and first.sequence is not None
    return (
        type(again) is type(first)
        and again.model_dump(exclude=volatile) == first.model_dump(exclude=volatile)
        and again.event_id != first.event_id
        and (not numbered or again.sequence > first.sequence)  # type: ignore[operator]
    )
