"""purchase-requested: a pending certificate or a refusal; one decision per certificate id."""


from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from giftcert.domain.activity import ActivityKind
from giftcert.domain.certificate import Status
from giftcert.domain.codes import ALPHABET, LENGTH
from giftcert.ledger.purchase import create_certificate, reject_invalid_purchase
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import (
    CertificateCreated,
    PurchaseRejected,
)
from tests.fakes import FixedClock
from tests.handlers.conftest import Outbox
from tests.handlers.steps import (
    EXPIRY_DAYS,
    activity_of,
    configure,
    pending,
    purchase,
    same_decision,
    stored,
    stored_certificate,
)


async def test_an_accepted_purchase_creates_a_pending_certificate(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = purchase(shop, clock)
    reply = await create_certificate(request, new_uow(), clock)
    assert await outbox.events(shop) == [reply]
    assert isinstance(reply, CertificateCreated)
    assert (reply.certificate_id, reply.amount, reply.channel) == (request.certificate_id, request.amount, "portal")
    assert reply.expires_in_days == EXPIRY_DAYS
    certificate = await stored_certificate(new_uow, shop, request.certificate_id)
    assert certificate.status is Status.PENDING
    assert len(certificate.code) == LENGTH
    assert set(certificate.code) <= set(ALPHABET)
    assert certificate.created_at == clock.now()
    assert await activity_of(new_uow, certificate.id) == [ActivityKind.CREATED, ActivityKind.PURCHASED_FROM_PORTAL]


async def test_a_portal_purchase_is_refused_where_the_portal_is_disabled(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, workspace: str
) -> None:
    request = purchase(workspace, clock)  # a workspace nobody configured: the portal is off by default
    reply = await create_certificate(request, new_uow(), clock)
    assert await outbox.events(workspace) == [reply]
    assert isinstance(reply, PurchaseRejected)
    assert reply.reason == "portal_disabled"
    assert await stored(new_uow, workspace, request.certificate_id) is None


async def test_an_operator_purchase_is_accepted_where_the_portal_is_disabled(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, workspace: str
) -> None:
    request = purchase(workspace, clock, channel="admin")
    reply = await create_certificate(request, new_uow(), clock)
    assert isinstance(reply, CertificateCreated)
    assert await outbox.events(workspace) == [reply]
    assert await activity_of(new_uow, request.certificate_id) == [ActivityKind.CREATED]


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ({"minor": 5000, "currency": "USD"}, "currency_not_supported"),
        ({"minor": 999, "currency": "EUR"}, "amount_out_of_range"),
        ({"minor": 100001, "currency": "EUR"}, "amount_out_of_range"),
    ],
    ids=["another_currency", "below_the_minimum", "above_the_maximum"],
)
async def test_a_purchase_the_workspace_does_not_sell_is_refused(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str, amount: dict[str, Any], reason: str
) -> None:
    request = purchase(shop, clock, amount=amount)
    reply = await create_certificate(request, new_uow(), clock)
    assert await outbox.events(shop) == [reply]
    assert isinstance(reply, PurchaseRejected)
    assert (reply.certificate_id, reply.reason) == (request.certificate_id, reason)
    assert await stored(new_uow, shop, request.certificate_id) is None


async def test_a_certificate_id_used_in_another_workspace_is_refused_as_invalid(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    taken = await pending(new_uow, clock, shop)
    elsewhere = f"ws-{uuid4().hex[:12]}"
    await configure(new_uow, clock, elsewhere)
    reply = await create_certificate(purchase(elsewhere, clock, certificate_id=taken.certificate_id), new_uow(), clock)
    assert await outbox.events(elsewhere) == [reply]
    assert isinstance(reply, PurchaseRejected)
    assert reply.reason == "invalid"
    assert await stored(new_uow, elsewhere, taken.certificate_id) is None


async def test_a_repeated_purchase_request_gets_the_same_decision_again(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    request = purchase(shop, clock)
    first = await create_certificate(request, new_uow(), clock)
    created = await stored_certificate(new_uow, shop, request.certificate_id)
    clock.advance(timedelta(minutes=5))
    again = await create_certificate(request, new_uow(), clock)
    assert await outbox.events(shop) == [first, again]
    assert same_decision(again, first)
    assert again.occurred_at == clock.now()
    assert await stored_certificate(new_uow, shop, request.certificate_id) == created


async def test_a_repeated_refused_purchase_is_refused_again_after_the_workspace_changed(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, workspace: str
) -> None:
    request = purchase(workspace, clock)
    first = await create_certificate(request, new_uow(), clock)
    await configure(new_uow, clock, workspace)  # the portal opens
    again = await create_certificate(request, new_uow(), clock)
    assert isinstance(again, PurchaseRejected)
    assert same_decision(again, first)
    assert await outbox.events(workspace) == [first, again]
    assert await stored(new_uow, workspace, request.certificate_id) is None


async def test_an_unreadable_purchase_is_refused_as_invalid_and_decided_anew_once_corrected(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str
) -> None:
    certificate_id = uuid4()
    body = f'{{"workspace_id": "{shop}", "certificate_id": "{certificate_id}"}}'.encode()
    refused = await reject_invalid_purchase(body, "amount: Field required", new_uow(), clock)
    assert isinstance(refused, PurchaseRejected)
    assert (refused.reason, refused.detail) == ("invalid", "amount: Field required")
    created = await create_certificate(purchase(shop, clock, certificate_id=certificate_id), new_uow(), clock)
    assert isinstance(created, CertificateCreated)
    assert await reject_invalid_purchase(body, "amount: Field required", new_uow(), clock) is None
    assert await outbox.events(shop) == [refused, created]




@pytest.mark.parametrize(
    ("field", "text", "named"),
    [("recipient", "Ana 🎁", "'🎁' (U+1F381)"), ("purchaser", "Bob \u0378", "(U+0378)"),
     ("message", "Happy birthday 🎂\nSee you", "'🎂' (U+1F382)"), ("message", "right\u202eleft", "(U+202E)")],
)
async def test_a_purchase_with_a_character_no_font_prints_is_refused_as_invalid_naming_it(
    new_uow: NewUnitOfWork, clock: FixedClock, outbox: Outbox, shop: str, field: str, text: str, named: str
) -> None:
    """An emoji, an unassigned code point or a bidi override would print as a box, or reorder the
    page: refused before a certificate exists, on the one rule every door goes through."""
    changes: dict[str, Any] = (
        {"message": text} if field == "message" else {field: {"name": text, "email": f"{field}@example.com"}}
    )
    request = purchase(shop, clock, **changes)
    reply = await create_certificate(request, new_uow(), clock)
    assert isinstance(reply, PurchaseRejected)
    assert reply.reason == "invalid"
    assert named in reply.detail
    assert await stored(new_uow, shop, request.certificate_id) is None


SCRIPTS = {
    "latin": "Zoë Müller-Łukasiewicz", "greek": "Δήμητρα Παπαδοπούλου", "cyrillic": "Дарья Иванова",
    "arabic": "سارة الأحمد", "hebrew": "נועה כהן", "devanagari": "प्रिया शर्मा", "thai": "สมชาย ใจดี",
    "chinese": "王小明", "japanese": "さくら 山田", "korean": "김민준",
}


@pytest.mark.parametrize("name", SCRIPTS.values(), ids=SCRIPTS.keys())
async def test_a_name_in_any_script_the_fonts_cover_is_accepted(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str, name: str
) -> None:
    request = purchase(shop, clock, recipient={"name": name, "email": "r@example.com"}, message=f"{name} ♥")
    assert isinstance(await create_certificate(request, new_uow(), clock), CertificateCreated)


async def test_the_locale_a_purchase_names_is_kept_with_its_certificate(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    named, unnamed = purchase(shop, clock, locale="de-AT"), purchase(shop, clock)
    for request in (named, unnamed):
        assert isinstance(await create_certificate(request, new_uow(), clock), CertificateCreated)
    assert (await stored_certificate(new_uow, shop, named.certificate_id)).locale == "de-AT"
    assert (await stored_certificate(new_uow, shop, unnamed.certificate_id)).locale is None
