"""A redeem request is one decision whichever door it comes in by: sent on Kafka and repeated over
HTTP (`POST .../redemptions`), or the other way round, the repeat gets the stored decision, nothing
is applied twice, and each answer is also published as the contract's event. Over the real broker
and PostgreSQL: the session's services consume the topics, the API runs in process on the same
database."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.api_key import Scope
from giftcert.operations.api_keys import create_api_key
from giftcert.settings import Settings
from giftcert_contracts.topics import Topic
from giftcert_services.api.app import build_api
from giftcert_services.integrator import requests as messages
from giftcert_services.integrator.wire import Wire
from giftcert_services.runtime.bootstrap import bootstrap
from tests.scenario import buy, configure

pytestmark = pytest.mark.integration


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    deps = bootstrap(settings)
    transport = httpx.ASGITransport(app=build_api(settings, deps=deps))
    async with httpx.AsyncClient(transport=transport, base_url="http://giftcert.test") as client:
        yield client
    await deps.close()


async def _booking_key(settings: Settings, workspace: str) -> dict[str, str]:
    deps = bootstrap(settings)
    try:
        made = await create_api_key(deps.new_uow(), workspace, Scope.BOOKING, "checkout", deps.clock.now())
    finally:
        await deps.close()
    return {"Authorization": f"Bearer {made.secret}"}


def _over_http(message: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in message.items() if name != "workspace_id"}


def _mine(request: dict[str, Any]) -> Any:
    return lambda body: body.get("request_id") == request["request_id"]


async def _applied(db: AsyncEngine, certificate_id: str) -> list[int]:
    async with db.connect() as connection:
        rows = await connection.execute(text(
            "SELECT amount_minor FROM ledger_entries WHERE certificate_id = :id AND kind = 'redeemed'"
        ), {"id": certificate_id})
        return [row[0] for row in rows]


async def test_a_redeem_sent_on_kafka_and_repeated_over_http_gets_the_stored_decision(
    wire: Wire, db: AsyncEngine, settings: Settings, api: httpx.AsyncClient, workspace: str
) -> None:
    await configure(db, workspace)
    booking = await _booking_key(settings, workspace)
    bought = await buy(wire, db, workspace)
    request = messages.redeem(workspace, bought.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    (on_kafka,) = await wire.wait_for(Topic.CERTIFICATE_REDEEMED, _mine(request))

    elsewhere = await api.post(f"/v1/workspaces/{workspace}/redemptions", headers=booking,
                               json=_over_http(request) | {"order_id": "another-order"})
    assert (elsewhere.status_code, elsewhere.json()["error"]["code"]) == (409, "idempotency_key_reused")
    repeated = await api.post(f"/v1/workspaces/{workspace}/redemptions", headers=booking, json=_over_http(request))
    assert repeated.status_code == 200, repeated.text
    decision = repeated.json()
    assert decision["certificate_id"] == bought.certificate_id
    assert (decision["redeemed_at"], decision["amount_applied"]) == (
        on_kafka.body["redeemed_at"], on_kafka.body["amount_applied"])
    assert decision["event_id"] != on_kafka.body["event_id"]
    both = await wire.wait_for(Topic.CERTIFICATE_REDEEMED, _mine(request), count=2)  # the repeat is published too
    assert {r.body["redeemed_at"] for r in both} == {on_kafka.body["redeemed_at"]}
    again_elsewhere = await api.post(f"/v1/workspaces/{workspace}/redemptions", headers=booking,
                                     json=_over_http(request) | {"code": bought.code.lower(), "order_id": "other"})
    assert (again_elsewhere.status_code, again_elsewhere.json()["error"]["code"]) == (409, "idempotency_key_reused")
    assert await _applied(db, bought.certificate_id) == [-5000]


async def test_a_redeem_decided_over_http_and_repeated_on_kafka_gets_the_stored_decision(
    wire: Wire, db: AsyncEngine, settings: Settings, api: httpx.AsyncClient, workspace: str
) -> None:
    await configure(db, workspace)
    booking = await _booking_key(settings, workspace)
    bought = await buy(wire, db, workspace)
    request = messages.redeem(workspace, bought.code)
    answered = await api.post(f"/v1/workspaces/{workspace}/redemptions", headers=booking, json=_over_http(request))
    assert answered.status_code == 200, answered.text
    (published,) = await wire.wait_for(Topic.CERTIFICATE_REDEEMED, _mine(request))
    assert published.body["event_id"] == answered.json()["event_id"]  # the HTTP answer is the published event

    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    first, repeat = await wire.wait_for(Topic.CERTIFICATE_REDEEMED, _mine(request), count=2)
    assert repeat.body["redeemed_at"] == first.body["redeemed_at"] == answered.json()["redeemed_at"]
    assert repeat.body["event_id"] != first.body["event_id"]
    assert await _applied(db, bought.certificate_id) == [-5000]

    unknown = messages.redeem(workspace, "ABCD-EFGH-JKMN")
    refused = await api.post(f"/v1/workspaces/{workspace}/redemptions", headers=booking, json=_over_http(unknown))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "not_found")
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, unknown)
    rejections = await wire.wait_for(Topic.REDEMPTION_REJECTED, _mine(unknown), count=2)
    assert [r.body["reason"] for r in rejections] == ["not_found", "not_found"]


# --- the Kafka door binds its keys (decision 33) ---------------------------------------------------


def _eur(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "EUR"}


async def test_a_key_first_used_on_kafka_is_409_over_http_with_another_total_segment_or_amount(
    wire: Wire, db: AsyncEngine, settings: Settings, api: httpx.AsyncClient, workspace: str
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    booking = await _booking_key(settings, workspace)
    bought = await buy(wire, db, workspace)
    request = messages.redeem(workspace, bought.code, amount=_eur(1500))
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    (on_kafka,) = await wire.wait_for(Topic.CERTIFICATE_REDEEMED, _mine(request))

    for change in ({"order_total": _eur(9000)}, {"segment": "family"}, {"amount": _eur(1600)}):
        other = await api.post(f"/v1/workspaces/{workspace}/redemptions", headers=booking,
                               json=_over_http(request) | change)
        assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_key_reused"), change
    spelled = await api.post(f"/v1/workspaces/{workspace}/redemptions", headers=booking,
                             json=_over_http(request) | {"code": bought.code.lower()[:6] + "-" + bought.code[6:]})
    assert spelled.status_code == 200, spelled.text  # the same code in another spelling: the same request
    assert (spelled.json()["redeemed_at"], spelled.json()["amount_applied"]) == (
        on_kafka.body["redeemed_at"], _eur(1500))
    assert await _applied(db, bought.certificate_id) == [-1500]


async def test_a_kafka_repeat_with_another_body_gets_the_stored_decision_and_the_key_stays_the_firsts(
    wire: Wire, db: AsyncEngine, settings: Settings, api: httpx.AsyncClient, workspace: str
) -> None:
    await configure(db, workspace, redemption_mode="partial")
    booking = await _booking_key(settings, workspace)
    bought = await buy(wire, db, workspace)
    request = messages.redeem(workspace, bought.code, amount=_eur(1500))
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    await wire.wait_for(Topic.CERTIFICATE_REDEEMED, _mine(request))
    changed = request | {"amount": _eur(2000)}
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, changed)  # a Kafka consumer cannot answer 409
    first, repeat = await wire.wait_for(Topic.CERTIFICATE_REDEEMED, _mine(request), count=2)
    assert repeat.body["amount_applied"] == first.body["amount_applied"] == _eur(1500)
    assert repeat.body["redeemed_at"] == first.body["redeemed_at"]
    assert await _applied(db, bought.certificate_id) == [-1500]

    as_repeated = await api.post(f"/v1/workspaces/{workspace}/redemptions", headers=booking, json=_over_http(changed))
    assert (as_repeated.status_code, as_repeated.json()["error"]["code"]) == (409, "idempotency_key_reused")
    as_first = await api.post(f"/v1/workspaces/{workspace}/redemptions", headers=booking, json=_over_http(request))
    assert as_first.status_code == 200, as_first.text


async def test_a_key_decided_on_kafka_before_it_bound_keys_is_compared_with_its_decision_over_http(
    wire: Wire, db: AsyncEngine, settings: Settings, api: httpx.AsyncClient, workspace: str
) -> None:
    await configure(db, workspace)
    booking = await _booking_key(settings, workspace)
    bought = await buy(wire, db, workspace)
    request = messages.redeem(workspace, bought.code)
    await wire.send(Topic.BOOKING_REDEEM_REQUEST, request)
    await wire.wait_for(Topic.CERTIFICATE_REDEEMED, _mine(request))
    async with db.begin() as connection:  # as the release before this one left it: decided, not bound
        removed = await connection.execute(
            text("DELETE FROM request_keys WHERE workspace_id = :ws AND key = :key"),
            {"ws": workspace, "key": request["request_id"]},
        )
    assert removed.rowcount == 1

    elsewhere = await api.post(f"/v1/workspaces/{workspace}/redemptions", headers=booking,
                               json=_over_http(request) | {"order_id": "another-order"})
    assert (elsewhere.status_code, elsewhere.json()["error"]["code"]) == (409, "idempotency_key_reused")
    repeated = await api.post(f"/v1/workspaces/{workspace}/redemptions", headers=booking, json=_over_http(request))
    assert repeated.status_code == 200, repeated.text
    assert await _applied(db, bought.certificate_id) == [-5000]
