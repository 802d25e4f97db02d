"""Steps of the holds' handler tests (contract v2): hold, capture and release requests as the
booking platform sends them, and what the store says a certificate has available and which ledger
entries it has, on either backend."""

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select

from giftcert.ledger.capture import capture_holds
from giftcert.ledger.hold import hold_certificates
from giftcert.ledger.release import release_holds
from giftcert.ports import NewUnitOfWork
from giftcert.store.schema import ledger_entries
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.inbound import CaptureHold, HoldCertificate, ReleaseHold
from giftcert_contracts.outbound import Event, HoldPlaced
from tests.fakes import FakeUnitOfWorkFactory, FixedClock


def eur(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "EUR"}


def hold_request(workspace: str, code: str, clock: FixedClock, **changes: Any) -> HoldCertificate:
    return HoldCertificate.model_validate(
        {
            "workspace_id": workspace, "request_id": uuid4(), "order_id": "order-1", "code": code,
            "order_total": eur(10000), "requested_at": clock.now(),
        }
        | changes
    )


def capture_request(workspace: str, hold_id: UUID, clock: FixedClock, **changes: Any) -> CaptureHold:
    body = {"workspace_id": workspace, "request_id": uuid4(), "hold_id": hold_id, "requested_at": clock.now()}
    return CaptureHold.model_validate(body | changes)


def release_request(workspace: str, hold_id: UUID, **changes: Any) -> ReleaseHold:
    body = {"workspace_id": workspace, "request_id": uuid4(), "hold_id": hold_id, "reason": "cart abandoned"}
    return ReleaseHold.model_validate(body | changes)


async def hold(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str, code: str, **changes: Any) -> Event:
    (reply,) = await hold_certificates([hold_request(workspace, code, clock, **changes)], new_uow(), clock)
    return reply


async def placed(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str, code: str, **changes: Any) -> HoldPlaced:
    reply = await hold(new_uow, clock, workspace, code, **changes)
    assert isinstance(reply, HoldPlaced), reply
    return reply


async def capture(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str, hold_id: UUID, **changes: Any) -> Event:
    (reply,) = await capture_holds([capture_request(workspace, hold_id, clock, **changes)], new_uow(), clock)
    return reply


async def release(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str, hold_id: UUID, **changes: Any) -> Event:
    (reply,) = await release_holds([release_request(workspace, hold_id, **changes)], new_uow(), clock)
    return reply


async def available_of(new_uow: NewUnitOfWork, certificate_id: UUID, now: datetime) -> int:
    """The kept balance less the live holds at `now`."""
    async with new_uow() as uow:
        (certificate,) = (await uow.certificates.get_many([certificate_id])).values()
        held = (await uow.holds.live_on([certificate_id], now)).get(certificate_id, 0)
    return certificate.balance_minor - held


async def entries_of(new_uow: NewUnitOfWork, certificate_id: UUID) -> list[tuple[str, int]]:
    """The certificate's ledger entries (kind, signed amount), oldest first."""
    if isinstance(new_uow, FakeUnitOfWorkFactory):
        return [(r.kind, r.amount_minor) for r in new_uow.store.state.ledger if r.certificate_id == certificate_id]
    assert isinstance(new_uow, UnitOfWorkFactory)
    query = (
        select(ledger_entries.c.kind, ledger_entries.c.amount_minor)
        .where(ledger_entries.c.certificate_id == certificate_id)
        .order_by(ledger_entries.c.id)
    )
    async with new_uow.engine.connect() as connection:
        return [(kind, int(minor)) for kind, minor in await connection.execute(query)]
