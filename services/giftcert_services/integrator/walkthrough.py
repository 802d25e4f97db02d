"""The scripted walk `giftcert demo` runs against a live stack: what a portal, a payment system, a
booking platform, an operator and a cron would send, each event printed as it arrives.

Certificate A is bought on the portal, paid, rendered and emailed, refused once at checkout (the order
is smaller than the certificate) and then redeemed. Certificate B is voided and reactivated. Then the
workspace turns to contract v2's `partial` mode: certificate C pays part of one booking, is held for
another and captured in part (the rest released), and the first booking's cancellation refunds what it
applied. Last, an expiry tick whose `now` lies past their expiry dates expires B and C.

The tick comes last because it is not one step: it works in batches, and the last of them voids every
certificate left unpaid for the workspace's `pending_days` by the tick's clock, a year ahead. A purchase
made while that batch is still to come would be voided as unpaid before its payment arrives."""

import asyncio
import heapq
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from giftcert.domain.certificate import Certificate
from giftcert.domain.workspace import RedemptionMode, WorkspaceSettings
from giftcert.settings import Settings
from giftcert_contracts.topics import INBOUND_TOPICS, Topic
from giftcert_services.integrator import requests
from giftcert_services.integrator.wire import Received, Wire
from giftcert_services.runtime.bootstrap import Dependencies

WORKSPACE = "demo-tours"
_SHOWN_FIELDS = (
    "certificate_id", "reason", "detail", "code_last4", "amount", "amount_applied", "amount_held", "amount_released",
    "amount_refunded", "balance_after", "available_after", "status_after", "expires_at", "to", "sha256",
)
_MONEY_FIELDS = ("amount", "amount_applied", "amount_held", "amount_released", "amount_refunded", "balance_after",
                 "available_after")


def describe(record: Received) -> str:
    """One line per event: its topic and the fields a reader cares about."""
    try:
        body = record.body
    except ValueError:
        return f"  <- {record.topic}: {len(record.value)} undecodable bytes"
    shown = {k: body[k] for k in _SHOWN_FIELDS if k in body}
    for name in _MONEY_FIELDS:
        if isinstance(money := shown.get(name), dict):
            shown[name] = f"{money['minor']} {money['currency']} (minor units)"
    return f"  <- {record.topic}  " + "  ".join(f"{k}={v}" for k, v in shown.items())


def in_sequence(records: list[Received]) -> list[Received]:
    """`records` as they are, except that the places one certificate's numbered events hold are
    filled with them in `sequence` order."""
    places: dict[str, list[int]] = {}
    for place, record in enumerate(records):
        if (key := _numbered(record)) is not None:
            places.setdefault(key, []).append(place)
    ordered = list(records)
    for found in places.values():
        by_sequence = sorted((records[p] for p in found), key=lambda r: int(r.body["sequence"]))
        for place, record in zip(found, by_sequence, strict=True):
            ordered[place] = record
    return ordered


def _numbered(record: Received) -> str | None:
    try:
        body = record.body
    except ValueError:
        return None
    certificate, sequence = body.get("certificate_id"), body.get("sequence")
    return str(certificate) if certificate is not None and isinstance(sequence, int) else None


class EventPrinter:
    """A Wire listener that prints what the service publishes (and anything dead-lettered) in the
    order it was published. Records of several topics can come in one fetch in any order, so each
    waits `settle` seconds and they are printed by their timestamps, and one certificate's events by
    their `sequence` (the contract's order across topics: two relay lanes may stamp them otherwise);
    `say` prints every event received so far before its own line."""

    def __init__(self, settings: Settings, out: Callable[[str], None], settle: float = 0.3) -> None:
        self._settings = settings
        self._out = out
        self._settle = settle
        self._waiting: list[tuple[int, int, float, Received]] = []
        self._sequence = itertools.count()

    def __call__(self, record: Received) -> None:
        if self._settings.base_topic_by_name.get(record.topic) not in INBOUND_TOPICS:
            heapq.heappush(self._waiting, (record.timestamp_ms, next(self._sequence), time.monotonic(), record))

    def flush(self, *, settled_only: bool = False) -> None:
        due: list[Received] = []
        while self._waiting and (not settled_only or time.monotonic() - self._waiting[0][2] >= self._settle):
            due.append(heapq.heappop(self._waiting)[3])
        for record in in_sequence(due):
            self._out(describe(record))

    def say(self, text: str) -> None:
        self.flush()
        self._out(text)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._settle / 3)
            self.flush(settled_only=True)


class WalkthroughFailedError(RuntimeError):
    """The services did something the walk-through did not expect."""


@dataclass
class Walkthrough:
    deps: Dependencies
    wire: Wire
    out_dir: Path
    mail_dir: Path
    say: Callable[[str], None]

    async def send(self, topic: Topic, body: dict[str, Any]) -> None:
        shown = {k: v for k, v in body.items() if k not in {"workspace_id", "purchaser", "recipient"}}
        self.say(f"-> {self.deps.settings.topic(topic)}  {json.dumps(shown)}")
        await self.wire.send(topic, body)

    async def expect(self, topic: Topic, certificate_id: str, **fields: Any) -> dict[str, Any]:
        def matches(body: dict[str, Any]) -> bool:
            return body.get("certificate_id") == certificate_id and all(body.get(k) == v for k, v in fields.items())

        (record,) = await self.wire.wait_for(topic, matches, timeout=60)
        return record.body

    async def run(self) -> None:
        await self.open_workspace()
        first = await self.buy("Ada Lovelace", "Happy birthday! <b>Tags print as typed.</b>")
        await self.deliver(first)
        await self.redeem(first)
        second = await self.buy("Grace Hopper", "For the next voyage.")
        await self.void_reactivate(second)
        third = await self.partial_hold_refund()
        await self.expire(second, third)
        self.say("\nThe demo is complete: every event above came over the broker from the running services.")

    async def set_mode(self, mode: RedemptionMode) -> None:
        async with self.deps.new_uow() as uow:
            settings = await uow.workspaces.get_or_default(WORKSPACE)
            await uow.workspaces.put(replace(settings, redemption_mode=mode), self.deps.clock.now())
            await uow.commit()

    async def open_workspace(self) -> None:
        settings = replace(WorkspaceSettings.defaults(WORKSPACE), name="Demo Tours", portal_enabled=True)
        async with self.deps.new_uow() as uow:
            await uow.workspaces.put(settings, self.deps.clock.now())
            await uow.commit()
        self.say(f"Workspace {WORKSPACE!r}: portal on, {settings.currency}, "
                 f"{settings.min_minor}..{settings.max_minor} minor units, expires after {settings.expiry_days} days.")

    async def buy(self, recipient: str, message: str) -> str:
        self.say(f"\n== A portal purchase for {recipient}, then its payment ==")
        request = requests.purchase(
            WORKSPACE, recipient={"name": recipient, "email": "recipient@example.com"}, message=message
        )
        certificate_id = request["certificate_id"]
        await self.send(Topic.PURCHASE_REQUESTED, request)
        await self.expect(Topic.CERTIFICATE_CREATED, certificate_id)
        await self.send(Topic.PAYMENT_COMPLETED, requests.payment(WORKSPACE, certificate_id, amount=request["amount"]))
        await self.expect(Topic.CERTIFICATE_ACTIVATED, certificate_id)
        return str(certificate_id)

    async def deliver(self, certificate_id: str) -> None:
        await self.expect(Topic.PDF_READY, certificate_id)
        await self.expect(Topic.CERTIFICATE_SENT, certificate_id)
        async with self.deps.new_uow() as uow:
            document = await uow.documents.of_certificate(UUID(certificate_id))
        if document is None:
            raise WalkthroughFailedError(f"pdf-ready was published but certificate {certificate_id} has no PDF")
        pdf = self.out_dir / f"certificate-{certificate_id}.pdf"
        pdf.write_bytes(document.content)
        emails = sorted(self.mail_dir.glob(f"*certificate-{certificate_id}*.eml"))
        self.say(f"   PDF:   {pdf}")
        self.say(f"   email: {emails[-1] if emails else '(not found in ' + str(self.mail_dir) + ')'}")

    async def certificate(self, certificate_id: str) -> Certificate:
        """Looked up as an operator would (the recipient reads the code on the PDF)."""
        async with self.deps.new_uow() as uow:
            certificate = await uow.certificates.get(WORKSPACE, UUID(certificate_id))
        if certificate is None:
            raise WalkthroughFailedError(f"certificate {certificate_id} is not in the store")
        return certificate

    async def redeem(self, certificate_id: str) -> None:
        code = (await self.certificate(certificate_id)).code
        spelled = f"{code[:4]}-{code[4:8]}-{code[8:]}".lower()
        self.say(f"\n== Checkout with code {spelled} (any case, dashes ignored) ==")
        too_small = requests.redeem(WORKSPACE, spelled, order_total={"minor": 3000, "currency": "EUR"})
        await self.send(Topic.BOOKING_REDEEM_REQUEST, too_small)
        await self.wire.wait_for(Topic.REDEMPTION_REJECTED, lambda b: b["request_id"] == too_small["request_id"])
        enough = requests.redeem(WORKSPACE, spelled, order_total={"minor": 12000, "currency": "EUR"})
        await self.send(Topic.BOOKING_REDEEM_REQUEST, enough)
        await self.expect(Topic.CERTIFICATE_REDEEMED, certificate_id)

    async def void_reactivate(self, certificate_id: str) -> None:
        self.say("\n== An operator voids it, then reactivates it ==")
        await self.send(Topic.VOID, requests.void(WORKSPACE, certificate_id))
        await self.expect(Topic.CERTIFICATE_VOIDED, certificate_id)
        await self.send(Topic.REACTIVATE, requests.reactivate(WORKSPACE, certificate_id))
        await self.expect(Topic.CERTIFICATE_REACTIVATED, certificate_id)

    async def expire(self, *certificate_ids: str) -> None:
        """One tick a day past the latest of their expiry dates expires them all."""
        dates = [(await self.certificate(c)).expires_at for c in certificate_ids]
        if None in dates:
            raise WalkthroughFailedError(f"one of the certificates {certificate_ids} is active but has no expiry date")
        later = max(d for d in dates if d is not None) + timedelta(days=1)
        self.say(f"\n== An expiry tick from a cron that believes it is {later:%Y-%m-%d} ==")
        await self.send(Topic.EXPIRY_TICK, requests.tick(WORKSPACE, later.isoformat()))
        for certificate_id in certificate_ids:
            await self.expect(Topic.CERTIFICATE_EXPIRED, certificate_id)

    async def partial_hold_refund(self) -> str:
        """Contract v2: a balance paid out over several bookings, a hold at checkout, a cancellation."""
        await self.set_mode("partial")
        self.say("\n== Contract v2: the operator turns the workspace to `partial` redemptions ==")
        third = await self.buy("Katherine Johnson", "Three trips, one certificate.")
        code = (await self.certificate(third)).code
        eur = {"currency": "EUR"}
        self.say("\n== A booking of EUR 20.00 paid from its EUR 50.00 (the rest stays on it) ==")
        first_booking = requests.redeem(WORKSPACE, code, order_total={"minor": 2000} | eur)
        await self.send(Topic.BOOKING_REDEEM_REQUEST, first_booking)
        await self.expect(Topic.CERTIFICATE_REDEEMED, third, status_after="active")
        self.say("\n== Another checkout holds EUR 25.00 while its customer pays the rest by card ==")
        hold = requests.hold(WORKSPACE, code, order_total={"minor": 9000} | eur, amount={"minor": 2500} | eur)
        await self.send(Topic.BOOKING_HOLD_REQUEST, hold)
        await self.expect(Topic.HOLD_PLACED, third)
        self.say("== ... and captures EUR 18.00 of it (the booking got cheaper): the rest is released ==")
        await self.send(Topic.BOOKING_CAPTURE_REQUEST,
                        requests.capture(WORKSPACE, hold["request_id"], amount={"minor": 1800} | eur))
        # both, before the next step prints: they travel on two topics and may arrive in either order
        await self.expect(Topic.CERTIFICATE_REDEEMED, third, amount_applied={"minor": 1800} | eur)
        await self.expect(Topic.HOLD_RELEASED, third)
        self.say("\n== The first tour is cancelled: what it applied goes back to the certificate ==")
        await self.send(Topic.BOOKING_REFUND_REQUEST, requests.refund(
            WORKSPACE, first_booking["order_id"], first_booking["request_id"], amount={"minor": 2000} | eur
        ))
        refunded = await self.expect(Topic.CERTIFICATE_REFUNDED, third)
        if refunded["balance_after"]["minor"] != 5000 - 1800:
            balance = refunded["balance_after"]
            raise WalkthroughFailedError(f"certificate {third}'s balance after the refund is {balance}")
        return third
