"""void and reactivate: an operator's decisions, once per request."""


from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Status
from giftcert.ledger.redemption import redeem_certificate
from giftcert.ledger.voiding import reactivate_certificate, void_certificate
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import (
    CertificateReactivated,
    CertificateRedeemed,
    CertificateVoided,
    ReactivateRejected,
    VoidRejected,
)
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.steps import (
    active,
    activity_of,
    configure,
    expired,
    pending,
    reactivate,
    redeem,
    redeemed,
    same_decision,
    stored,
    stored_certificate,
    void,
    voided,
)


async def test_an_operator_voids_an_active_certificate_with_a_reason(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    await outbox.fresh(shop)
    request = void(shop, certificate.id, reason="chargeback", actor="alice")
    reply = await void_certificate(request, new_uow(), clock)
    assert await outbox.fresh(shop) == [reply]
    assert isinstance(reply, CertificateVoided)
    assert (reply.request_id, reply.certificate_id, reply.reason, reply.actor) == (
        request.request_id, certificate.id, "chargeback", "alice",
    )
    after = await stored_certificate(new_uow, shop, certificate.id)
    assert (after.status, after.voided_at) == (Status.VOIDED, clock.now())
    async with new_uow() as uow:
        entry = (await uow.activity.of_certificate(certificate.id))[-1]
    assert (entry.kind, entry.actor, entry.reason, entry.reference) == (
        ActivityKind.VOIDED, "alice", "chargeback", str(request.request_id),
    )


async def _unknown(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> UUID:
    return uuid4()


async def _of_another_workspace(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> UUID:
    elsewhere = f"ws-{uuid4().hex[:12]}"
    await configure(new_uow, clock, elsewhere)
    return (await active(new_uow, clock, elsewhere)).id


async def _pending(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> UUID:
    return (await pending(new_uow, clock, workspace)).certificate_id


async def _active(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> UUID:
    return (await active(new_uow, clock, workspace)).id


async def _redeemed(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> UUID:
    return (await redeemed(new_uow, clock, workspace)).id


async def _voided(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> UUID:
    return (await voided(new_uow, clock, workspace)).id


async def _expired(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> UUID:
    return (await expired(new_uow, clock, workspace)).id


async def _voided_past_its_expiry(new_uow: NewUnitOfWork, clock: FixedClock, workspace: str) -> UUID:
    certificate = await voided(new_uow, clock, workspace)
    assert certificate.expires_at is not None
    clock.advance(certificate.expires_at - clock.now())
    return certificate.id


@pytest.mark.parametrize(
    ("certificate", "reason"),
    [
        (_unknown, "not_found"),
        (_of_another_workspace, "not_found"),
        (_pending, "not_active"),
        (_redeemed, "already_redeemed"),
        (_voided, "already_voided"),
        (_expired, "expired"),
    ],
    ids=["unknown", "of_another_workspace", "pending", "redeemed", "voided", "expired"],
)
async def test_void_is_refused_unless_the_certificate_is_active(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str, certificate: Any, reason: str
) -> None:
    certificate_id = await certificate(new_uow, clock, shop)
    before = await stored(new_uow, shop, certificate_id)
    await outbox.fresh(shop)
    request = void(shop, certificate_id)
    reply = await void_certificate(request, new_uow(), clock)
    assert await outbox.fresh(shop) == [reply]
    assert isinstance(reply, VoidRejected)
    assert (reply.request_id, reply.certificate_id, reply.reason) == (request.request_id, certificate_id, reason)
    assert await stored(new_uow, shop, certificate_id) == before


async def test_a_voided_certificate_is_reactivated_before_its_expiry(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await voided(new_uow, clock, shop)
    await outbox.fresh(shop)
    clock.advance(timedelta(days=1))
    request = reactivate(shop, certificate.id)
    reply = await reactivate_certificate(request, new_uow(), clock)
    assert await outbox.fresh(shop) == [reply]
    assert isinstance(reply, CertificateReactivated)
    assert (reply.request_id, reply.certificate_id, reply.reason, reply.actor) == (
        request.request_id, certificate.id, request.reason, request.actor,
    )
    after = await stored_certificate(new_uow, shop, certificate.id)
    assert (after.status, after.voided_at, after.expires_at) == (Status.ACTIVE, None, certificate.expires_at)
    assert (await activity_of(new_uow, certificate.id))[-2:] == [ActivityKind.VOIDED, ActivityKind.REACTIVATED]
    redeemed_now = await redeem_certificate(redeem(shop, certificate.code, clock), new_uow(), clock)
    assert isinstance(redeemed_now, CertificateRedeemed)


@pytest.mark.parametrize(
    ("certificate", "reason"),
    [
        (_unknown, "not_found"),
        (_of_another_workspace, "not_found"),
        (_pending, "not_voided"),
        (_active, "not_voided"),
        (_redeemed, "not_voided"),
        (_expired, "not_voided"),
        (_voided_past_its_expiry, "expired"),
    ],
    ids=["unknown", "of_another_workspace", "pending", "active", "redeemed", "expired", "voided_past_its_expiry"],
)
async def test_reactivation_is_refused_unless_the_certificate_is_voided_and_unexpired(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str, certificate: Any, reason: str
) -> None:
    certificate_id = await certificate(new_uow, clock, shop)
    before = await stored(new_uow, shop, certificate_id)
    await outbox.fresh(shop)
    request = reactivate(shop, certificate_id)
    reply = await reactivate_certificate(request, new_uow(), clock)
    assert await outbox.fresh(shop) == [reply]
    assert isinstance(reply, ReactivateRejected)
    assert (reply.request_id, reply.certificate_id, reply.reason) == (request.request_id, certificate_id, reason)
    assert await stored(new_uow, shop, certificate_id) == before


async def test_a_repeated_void_or_reactivate_request_gets_the_same_decision_again(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate = await active(new_uow, clock, shop)
    await outbox.fresh(shop)
    void_request, reactivate_request = void(shop, certificate.id), reactivate(shop, certificate.id)
    voided_first = await void_certificate(void_request, new_uow(), clock)
    reactivated_first = await reactivate_certificate(reactivate_request, new_uow(), clock)
    voided_again = await void_certificate(void_request, new_uow(), clock)
    reactivated_again = await reactivate_certificate(reactivate_request, new_uow(), clock)
    assert await outbox.fresh(shop) == [voided_first, reactivated_first, voided_again, reactivated_again]
    assert same_decision(voided_again, voided_first)
    assert same_decision(reactivated_again, reactivated_first)
    assert (await stored_certificate(new_uow, shop, certificate.id)).status is Status.ACTIVE
    assert (await activity_of(new_uow, certificate.id)).count(ActivityKind.VOIDED) == 1


