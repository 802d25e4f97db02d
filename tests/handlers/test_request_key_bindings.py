"""The Kafka door's redeem binds each decided request's key to its fingerprint, the one the HTTP door
binds (messaging/request_keys.py, decision 33), in the transaction of its decision: a key is bound to
its first request whichever door it came by. A repeat keeps the first binding. One body, both stores;
on PostgreSQL a batch's bindings cost no statement of their own."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from giftcert.ledger.redemption import redeem_certificates
from giftcert.messaging.request_keys import RequestKey, booking_request_key
from giftcert.ports import NewUnitOfWork
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.inbound import RedeemCertificate
from giftcert_contracts.topics import Topic
from tests.fakes import FakeUnitOfWorkFactory, FixedClock
from tests.handlers.steps import active, redeem

TOPIC = Topic.BOOKING_REDEEM_REQUEST


def _key(command: RedeemCertificate) -> RequestKey:
    return booking_request_key(command, TOPIC)


async def _bound(new_uow: NewUnitOfWork, workspace: str) -> dict[str, str]:
    """The workspace's redeem keys and the fingerprints they are bound to."""
    if isinstance(new_uow, FakeUnitOfWorkFactory):
        return {k: f for (w, o, k), f in new_uow.store.state.request_keys.items() if (w, o) == (workspace, TOPIC)}
    assert isinstance(new_uow, UnitOfWorkFactory)
    async with new_uow.engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT key, fingerprint FROM request_keys WHERE workspace_id = :ws AND operation = :op"),
            {"ws": workspace, "op": TOPIC.value},
        )
        return {row.key: row.fingerprint for row in rows}


def _eur(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "EUR"}


async def test_a_batch_binds_each_decided_key_to_the_fingerprint_the_http_door_binds(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificates = [await active(new_uow, clock, shop) for _ in range(3)]
    commands = [redeem(shop, c.code.lower(), clock) for c in certificates]
    unknown = redeem(shop, "ABCD-EFGH-JKMN", clock)  # a refusal binds its key too: it is a decision
    await redeem_certificates([*commands, unknown], new_uow(), clock)
    assert await _bound(new_uow, shop) == {str(c.request_id): _key(c).fingerprint for c in [*commands, unknown]}
    # the code in its matching form: the same code in another spelling is the same request
    assert _key(commands[0]).fingerprint == _key(
        commands[0].model_copy(update={"code": certificates[0].code})).fingerprint


async def test_a_repeat_with_another_body_keeps_the_first_binding_and_gets_the_stored_decision(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    first = redeem(shop, certificate.code, clock)
    other = RedeemCertificate.model_validate(first.model_dump() | {"order_total": _eur(9000)})
    in_one_batch = await redeem_certificates([first, other], new_uow(), clock)
    later = await redeem_certificates([other], new_uow(), clock)
    assert [r.model_dump(exclude={"event_id"}) for r in (*in_one_batch, *later)] == (
        [in_one_batch[0].model_dump(exclude={"event_id"})] * 3)
    assert _key(other).fingerprint != _key(first).fingerprint
    assert await _bound(new_uow, shop) == {str(first.request_id): _key(first).fingerprint}


async def test_a_key_the_http_door_bound_first_keeps_its_binding(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    command = redeem(shop, certificate.code, clock)
    bound_before = RequestKey(shop, TOPIC.value, str(command.request_id), "f" * 64)
    async with new_uow() as uow:
        await uow.request_keys.bind_all([bound_before], clock.now())
        await uow.commit()
    await redeem_certificates([command], new_uow(), clock)
    assert await _bound(new_uow, shop) == {str(command.request_id): "f" * 64}


@contextmanager
def _statements(factory: UnitOfWorkFactory) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(factory.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(factory.engine.sync_engine, "before_cursor_execute", count)


@pytest.mark.integration
async def test_a_batch_binds_its_keys_without_a_statement_of_their_own(
    postgres_uow_factory: UnitOfWorkFactory, clock: FixedClock, workspace: str
) -> None:
    from tests.handlers.steps import configure  # noqa: PLC0415

    new_uow = postgres_uow_factory
    await configure(new_uow, clock, workspace)
    small = [redeem(workspace, (await active(new_uow, clock, workspace)).code, clock)]
    large = [redeem(workspace, (await active(new_uow, clock, workspace)).code, clock) for _ in range(8)]
    with _statements(new_uow) as one:
        await redeem_certificates(small, new_uow(), clock)
    with _statements(new_uow) as eight:
        await redeem_certificates(large, new_uow(), clock)
    assert len(one) == len(eight)
    assert any("request_keys" in s for s in one)
    assert sum("request_keys" in s for s in eight) == 1
    assert len(await _bound(new_uow, workspace)) == 9
