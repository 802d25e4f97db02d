"""A certificate is saved by writing the columns that differ from its row as the transaction read or
last saved it: what the change changed, never a stale copy of the rest; all of them for a
certificate the transaction did not read; nothing at all when nothing changed."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.money import Amount
from giftcert.store.unit_of_work import PostgresUnitOfWork

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _active(workspace: str) -> Certificate:
    pending = Certificate(
        id=uuid4(), workspace_id=workspace, status=Status.PENDING, amount=Amount(5000, "EUR"),
        code=uuid4().hex[:12].upper(), channel="portal", segment=None, purchaser_name="Pat",
        purchaser_email="pat@example.com", recipient_name="Robin", recipient_email="robin@example.com",
        message=None, expiry_days=365, created_at=NOW - timedelta(days=1),
    )
    return pending.activated(at=NOW - timedelta(hours=1), payment_id=f"pay-{pending.id}")


async def _stored(db: AsyncEngine, workspace: str) -> Certificate:
    certificate = _active(workspace)
    async with PostgresUnitOfWork(db, event_source="urn:test") as uow:
        await uow.certificates.add(certificate)
        await uow.commit()
    return certificate


async def _row_version(db: AsyncEngine, certificate_id: UUID) -> str:
    async with db.connect() as connection:
        query = text("SELECT xmin::text FROM certificates WHERE id = :id")
        found = await connection.execute(query, {"id": certificate_id})
        return str(found.scalar_one())


async def _read(db: AsyncEngine, certificate: Certificate) -> Certificate:
    async with PostgresUnitOfWork(db, event_source="urn:test") as uow:
        found = await uow.certificates.get(certificate.workspace_id, certificate.id)
    assert found is not None
    return found


async def test_a_save_writes_what_the_change_changed_and_leaves_the_other_columns_as_they_are(
    db: AsyncEngine, workspace: str
) -> None:
    certificate = await _stored(db, workspace)
    async with PostgresUnitOfWork(db, event_source="urn:test") as deciding:
        read = await deciding.certificates.get(workspace, certificate.id)  # not locked
        assert read is not None
        async with db.begin() as other:  # another transaction changes a column the decision does not
            await other.execute(
                text("UPDATE certificates SET recipient_name = 'Renamed' WHERE id = :id"), {"id": certificate.id}
            )
        await deciding.certificates.save(read.redeemed(at=NOW))
        await deciding.commit()

    saved = await _read(db, certificate)
    assert (saved.status, saved.redeemed_at) == (Status.REDEEMED, NOW)
    assert saved.recipient_name == "Renamed", "the save wrote back a stale copy of a column it did not change"


async def test_a_save_of_an_unchanged_certificate_writes_nothing(db: AsyncEngine, workspace: str) -> None:
    certificate = await _stored(db, workspace)
    version = await _row_version(db, certificate.id)
    async with PostgresUnitOfWork(db, event_source="urn:test") as uow:
        read = await uow.certificates.get(workspace, certificate.id, lock=True)
        assert read is not None
        await uow.certificates.save(read)
        await uow.commit()
    assert await _row_version(db, certificate.id) == version


async def test_a_second_save_in_one_transaction_writes_what_changed_since_the_first(
    db: AsyncEngine, workspace: str
) -> None:
    certificate = await _stored(db, workspace)
    async with PostgresUnitOfWork(db, event_source="urn:test") as uow:
        read = await uow.certificates.get(workspace, certificate.id, lock=True)
        assert read is not None
        reminded = read.reminded_of_expiry(at=NOW)
        await uow.certificates.save(reminded)
        await uow.certificates.save(reminded.voided(at=NOW + timedelta(minutes=1)))
        await uow.commit()

    saved = await _read(db, certificate)
    assert (saved.status, saved.voided_at, saved.expiring_soon_notified_at) == (
        Status.VOIDED, NOW + timedelta(minutes=1), NOW,
    )


async def test_a_certificate_the_transaction_did_not_read_is_saved_whole(db: AsyncEngine, workspace: str) -> None:
    certificate = await _stored(db, workspace)
    changed = replace(certificate, recipient_name="Sam", message="Enjoy").redeemed(at=NOW)
    async with PostgresUnitOfWork(db, event_source="urn:test") as uow:
        await uow.certificates.save(changed)
        await uow.commit()
    assert await _read(db, certificate) == changed


async def test_a_batch_saves_each_certificate_with_the_columns_any_of_them_changed(
    db: AsyncEngine, workspace: str
) -> None:
    stored = [await _stored(db, workspace) for _ in range(3)]
    async with PostgresUnitOfWork(db, event_source="urn:test") as uow:
        read = await uow.certificates.get_many([c.id for c in stored], lock=True)
        first, second, third = (read[c.id] for c in stored)
        changed = [first.redeemed(at=NOW), second.voided(at=NOW), third]
        uow.hold_writes()
        await uow.certificates.save(*changed)
        await uow.commit()
    assert [await _read(db, c) for c in stored] == changed
