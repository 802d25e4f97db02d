"""A seeded stream of mixed inbound commands for the kill -9 tests, and the sender that plays it.

The plan is made up front from one `random.Random`, so a seed reproduces the same commands in the
same order at the same moments. Only what the service decides at run time is filled in when a
command is sent: a certificate's code (read from the database, as an operator would look it up) and
a tick's `now`. The sender keeps the log of what it actually sent, which the invariants compare
with what came back."""

import asyncio
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.codes import ALPHABET, LENGTH
from giftcert_contracts.topics import Topic
from giftcert_services.integrator import requests
from giftcert_services.integrator.wire import Wire

STORY_SPAN_SECONDS = 32.0
"""Certificates' stories start within this span; their last steps come up to ~12 s later."""
AMOUNTS_MINOR = (1000, 2500, 5000, 7500, 10000, 20000)
REMINDER_TICK_DAYS = 340  # with 365-day certificates and a 30-day reminder window: every active one
EXPIRY_TICK_DAYS = 400  # past every certificate's expiry


@dataclass(frozen=True)
class CodeOf:
    """A redeem's code: the code of the certificate the command awaits, read when it is sent."""

    certificate_id: str


@dataclass(frozen=True)
class Awaits:
    """A command sent only once its certificate exists and has left `while_status`, as an operator
    or a customer acts on what they see: the ledger may lag seconds behind the stream, and a void
    handled before its purchase would only ever meet `not_found`."""

    certificate_id: str
    while_status: frozenset[str]


@dataclass(frozen=True)
class Answered:
    """A v2 command sent only once the request it names (a hold for a capture or a release, a redeem
    or a capture for a refund) has been answered on the wire, whatever the answer: a booking
    platform captures the hold it was told about, and refunds the redemption it was told about."""

    request_id: str


ANSWER_TOPICS = (Topic.HOLD_PLACED, Topic.HOLD_REJECTED, Topic.CERTIFICATE_REDEEMED, Topic.REDEMPTION_REJECTED,
                 Topic.CAPTURE_REJECTED, Topic.HOLD_RELEASED, Topic.RELEASE_REJECTED, Topic.CERTIFICATE_REFUNDED,
                 Topic.REFUND_REJECTED)
"""Where the answers an `Answered` waits for come."""
CREATED = frozenset[str]()
PAID = frozenset({"pending"})
NO_LONGER_ACTIVE = frozenset({"pending", "active"})


@dataclass(frozen=True)
class DaysFromNow:
    """A tick's `now`, `days` after the moment it is sent (0: a real tick; more: a cron simulating a date)."""

    days: int


@dataclass
class Command:
    kind: str
    """What the command is for the report: purchase, payment-early, redeem-race..."""
    topic: Topic
    body: dict[str, Any]
    key: str
    after: Awaits | Answered | None = None
    repeats: bool = False
    """A caller's retry of the command planned under the same key: sent once that one was sent."""


@dataclass
class Step:
    at: float
    """Seconds after the start of the stream."""
    commands: list[Command]
    """Sent together, concurrently (the racing redeems of one code are one step)."""


@dataclass(frozen=True)
class PlannedWorkspace:
    workspace_id: str
    sends_activation_email: bool = True
    travels_in_time: bool = False
    """Gets ticks from the future: reminders of every active certificate, then their expiry."""
    partial: bool = False
    """v2: redemption_mode `partial`; its certificates get v2 stories (partial redeems, holds,
    captures, releases, refunds), and v1's stories keep to the other workspaces."""


@dataclass
class Workload:
    seed: int
    workspaces: list[PlannedWorkspace]
    steps: list[Step]

    @property
    def duration(self) -> float:
        return self.steps[-1].at if self.steps else 0.0

    @property
    def commands(self) -> list[Command]:
        return [command for step in self.steps for command in step.commands]

    def kinds(self) -> Counter[str]:
        return Counter(command.kind for command in self.commands)


class _Planner:
    """Builds the steps of one workload; every random choice comes from `rng`."""

    def __init__(self, rng: random.Random, workspaces: list[PlannedWorkspace]) -> None:
        self.rng = rng
        self.workspaces = [w for w in workspaces if not w.partial]
        """v1's workspaces (the same list as before v2 when no workspace is partial: same draws)."""
        self.partial_workspaces = [w for w in workspaces if w.partial]
        self.steps: list[Step] = []

    def uuid(self) -> str:
        return str(UUID(int=self.rng.getrandbits(128), version=4))

    def hex(self, length: int = 12) -> str:
        return f"{self.rng.getrandbits(4 * length):0{length}x}"

    def add(self, at: float, *commands: Command) -> None:
        self.steps.append(Step(max(0.0, at), list(commands)))

    @property
    def count(self) -> int:
        return sum(len(step.commands) for step in self.steps)

    def redeem(self, workspace: str, code: str | Awaits, kind: str, *, order_total: int,
               order_id: str | None = None) -> Command:
        """`code` an Awaits: the code of that certificate, once it has left the awaited status."""
        body = requests.redeem(
            workspace, "", request_id=self.uuid(), order_id=order_id or f"order-{self.hex()}",
            order_total={"minor": order_total, "currency": "EUR"},
        )
        after = code if isinstance(code, Awaits) else None
        body["code"] = code if after is None else CodeOf(after.certificate_id)
        return Command(kind, Topic.BOOKING_REDEEM_REQUEST, body, body["request_id"], after)

    def operator(self, topic: Topic, workspace: str, certificate_id: str, kind: str,
                 while_status: frozenset[str] | None = PAID) -> Command:
        """A void or reactivation; sent once the certificate has left `while_status` (None: at once)."""
        make = requests.void if topic is Topic.VOID else requests.reactivate
        body = make(workspace, certificate_id, request_id=self.uuid())
        after = None if while_status is None else Awaits(certificate_id, while_status)
        return Command(kind, topic, body, certificate_id, after)

    def unknown_code(self) -> str:
        return "".join(self.rng.choice(ALPHABET) for _ in range(LENGTH))

    def repeat_later(self, at: float, command: Command, probability: float) -> None:
        """The caller timed out and sends the very same request again."""
        if self.rng.random() < probability:
            self.add(at + self.rng.uniform(0.3, 4.0), Command(f"{command.kind}-repeat", command.topic,
                                                             command.body, command.key, command.after,
                                                             repeats=True))

    def certificate_story(self, start: float) -> None:  # noqa: C901, PLR0912, PLR0915 - one branch per fate
        """One certificate from purchase request to its end: paid (early, twice, wrongly) or not,
        then redeemed (alone, racing, repeated), voided and reactivated, or left alone."""
        rng = self.rng
        workspace = rng.choice(self.workspaces)
        ws = workspace.workspace_id
        cid = self.uuid()
        amount = rng.choice(AMOUNTS_MINOR)
        currency = "EUR"
        fate = rng.random()
        accepted = True
        if fate < 0.04:
            amount, accepted = 500, False  # below the workspace's smallest amount
        elif fate < 0.07:
            currency, accepted = "USD", False
        purchase = requests.purchase(
            ws, certificate_id=cid, amount={"minor": amount, "currency": currency},
            recipient={"name": "Robin Recipient", "email": f"robin-{cid}-{ws}@example.com"},
            channel="portal" if rng.random() < 0.8 else "admin",
        )
        purchase_command = Command("purchase", Topic.PURCHASE_REQUESTED, purchase, cid)
        self.add(start, purchase_command)
        self.repeat_later(start, purchase_command, 0.1)

        def payment(kind: str, minor: int, at: float) -> Command:
            body = requests.payment(ws, cid, payment_id=f"pay-{self.hex()}",
                                    amount={"minor": minor, "currency": currency})
            command = Command(kind, Topic.PAYMENT_COMPLETED, body, body["payment_id"])
            self.add(at, command)
            return command

        early = rng.random() < 0.15
        paid_at = start - rng.uniform(0.2, 1.5) if early else start + rng.uniform(0.3, 2.5)
        how = rng.random()
        if not accepted:
            if how < 0.5:
                payment("payment-early" if early else "payment", amount, paid_at)
            return
        if how < 0.10:  # never paid: the certificate stays pending
            if rng.random() < 0.5:
                self.add(start + rng.uniform(1, 6), self.redeem(ws, Awaits(cid, CREATED), "redeem-pending",
                                                                order_total=50000))
            if rng.random() < 0.3:
                self.add(start + rng.uniform(1, 6), self.operator(Topic.VOID, ws, cid, "void-pending",
                                                                             while_status=CREATED))
            return
        if how < 0.14:  # paid only with the wrong amount: refused, still pending
            payment("payment-wrong-amount", amount + 100, paid_at)
            return
        correct = payment("payment-early" if early else "payment", amount, paid_at)
        if rng.random() < 0.15:
            self.add(paid_at + rng.uniform(0.05, 3.0), Command("payment-duplicate", correct.topic, correct.body,
                                                               correct.key))
        if rng.random() < 0.06:
            payment("payment-wrong-amount", amount + 100, paid_at + rng.uniform(-1.0, 1.0))
        if rng.random() < 0.04:
            payment("payment-second", amount, paid_at + rng.uniform(0.0, 0.5))

        live = max(start, paid_at) + rng.uniform(2.0, 8.0)
        code = Awaits(cid, PAID)
        life = rng.random()
        if life < 0.30:
            return  # stays active
        if life < 0.60:
            redeem = self.redeem(ws, code, "redeem", order_total=amount + rng.randrange(0, 5000))
            self.add(live, redeem)
            self.repeat_later(live, redeem, 0.2)
            if rng.random() < 0.15:  # operator voids a used certificate: refused
                self.add(live + rng.uniform(1, 3), self.operator(Topic.VOID, ws, cid, "void-redeemed",
                                                                                   while_status=NO_LONGER_ACTIVE))
        elif life < 0.72:
            racing = [self.redeem(ws, code, "redeem-race", order_total=amount + 1000)
                      for _ in range(rng.randint(2, 5))]
            self.add(live, *racing)
            self.repeat_later(live, rng.choice(racing), 0.3)
        elif life < 0.77:
            self.add(live, self.redeem(ws, code, "redeem-exceeds-total", order_total=amount - 100))
            if rng.random() < 0.5:
                self.add(live + rng.uniform(0.5, 3), self.redeem(ws, code, "redeem", order_total=amount))
        elif life < 0.80:
            self.add(live, self.operator(Topic.REACTIVATE, ws, cid, "reactivate-active"))
        elif life < 0.85:  # another workspace's code is not found here
            other = rng.choice([w for w in self.workspaces if w.workspace_id != ws]).workspace_id
            self.add(live, self.redeem(other, code, "redeem-other-workspace", order_total=50000))
        else:
            void = self.operator(Topic.VOID, ws, cid, "void")
            self.add(live, void)
            self.repeat_later(live, void, 0.15)
            after = live + rng.uniform(0.5, 1.5)
            if rng.random() < 0.2:
                self.add(after, self.redeem(ws, Awaits(cid, NO_LONGER_ACTIVE), "redeem-voided", order_total=50000))
            if rng.random() < 0.6:
                reactivate = self.operator(Topic.REACTIVATE, ws, cid, "reactivate", while_status=NO_LONGER_ACTIVE)
                self.add(after + rng.uniform(0.5, 4), reactivate)
                self.repeat_later(after, reactivate, 0.15)
                if rng.random() < 0.4:
                    self.add(after + rng.uniform(5, 8), self.redeem(ws, code, "redeem-reactivated",
                                                                      order_total=50000))

    def booking(self, topic: Topic, body: dict[str, Any], kind: str, at: float, after: Awaits | Answered | None,
                repeat: float = 0.3) -> Command:
        """A v2 booking command keyed by its request_id, with its repeat (a retry) at `repeat`."""
        if isinstance(after, Awaits):
            body["code"] = CodeOf(after.certificate_id)
        command = Command(kind, topic, body, body["request_id"], after)
        self.add(at, command)
        self.repeat_later(at, command, repeat)
        return command

    def money(self, minor: int) -> dict[str, Any]:
        return {"minor": minor, "currency": "EUR"}

    def partial_story(self, start: float) -> None:  # noqa: C901, PLR0915 - one branch per fate
        """v2: a certificate of a `partial` workspace, bought and paid, then paying part of a booking,
        held (captured in full or in part, released, or both racing), refunded (within or beyond what
        was applied), and sometimes held by several orders at once for more than it has."""
        rng = self.rng
        ws = rng.choice(self.partial_workspaces).workspace_id
        cid = self.uuid()
        amount = rng.choice(AMOUNTS_MINOR[2:])
        purchase = requests.purchase(
            ws, certificate_id=cid, amount=self.money(amount),
            recipient={"name": "Robin Recipient", "email": f"robin-{cid}-{ws}@example.com"}, channel="portal",
        )
        purchase_command = Command("purchase", Topic.PURCHASE_REQUESTED, purchase, cid)
        self.add(start, purchase_command)
        self.repeat_later(start, purchase_command, 0.1)
        paid_at = start + rng.uniform(0.3, 2.5)
        payment = requests.payment(ws, cid, payment_id=f"pay-{self.hex()}", amount=self.money(amount))
        self.add(paid_at, Command("payment", Topic.PAYMENT_COMPLETED, payment, payment["payment_id"]))
        code = Awaits(cid, PAID)
        live = paid_at + rng.uniform(2.0, 6.0)
        step = amount // 100

        redeemed = 100 * rng.randint(5, 25) * step // 100 or 100
        redeem = self.redeem(ws, code, "redeem-partial", order_total=redeemed + rng.randrange(0, 3000))
        redeem.body["amount"] = self.money(redeemed)
        self.add(live, redeem)
        self.repeat_later(live, redeem, 0.3)

        held = 100 * rng.randint(5, 25) * step // 100 or 100
        hold_at = live + rng.uniform(0.0, 2.0)
        order = f"order-{self.hex()}"
        hold = self.booking(Topic.BOOKING_HOLD_REQUEST, requests.hold(
            ws, "", request_id=self.uuid(), order_id=order, order_total=self.money(held + 2000),
            amount=self.money(held),
        ), "hold", hold_at, code)
        hold_id = hold.key
        told = Answered(hold_id)
        end_at = hold_at + rng.uniform(0.5, 3.0)
        fate = rng.random()
        captured: tuple[str, int] | None = None
        if fate < 0.25:
            capture = self.booking(Topic.BOOKING_CAPTURE_REQUEST, requests.capture(ws, hold_id, request_id=self.uuid()),
                                   "capture", end_at, told)
            captured = (capture.key, held)
        elif fate < 0.50:
            part = max(100, held // 2 // 100 * 100)
            capture = self.booking(Topic.BOOKING_CAPTURE_REQUEST, requests.capture(
                ws, hold_id, request_id=self.uuid(), amount=self.money(part)), "capture-partial", end_at, told)
            captured = (capture.key, part)
        elif fate < 0.75:
            release = self.booking(Topic.BOOKING_RELEASE_REQUEST, requests.release(ws, hold_id, request_id=self.uuid()),
                                   "release", end_at, told)
            if rng.random() < 0.3:  # captured after its release: refused
                self.booking(Topic.BOOKING_CAPTURE_REQUEST, requests.capture(ws, hold_id, request_id=self.uuid()),
                             "capture-released", end_at + rng.uniform(1.0, 3.0), Answered(release.key), repeat=0.0)
        elif fate < 0.90:  # capture and release race for one hold: exactly one ends it
            capture_body = requests.capture(ws, hold_id, request_id=self.uuid())
            release_body = requests.release(ws, hold_id, request_id=self.uuid())
            capture = Command("capture-race", Topic.BOOKING_CAPTURE_REQUEST, capture_body, capture_body["request_id"],
                              told)
            release = Command("release-race", Topic.BOOKING_RELEASE_REQUEST, release_body, release_body["request_id"],
                              told)
            self.add(end_at, capture, release)
            self.repeat_later(end_at, capture, 0.3)
            self.repeat_later(end_at, release, 0.3)
        else:  # more than was held: refused, the hold stays live
            self.booking(Topic.BOOKING_CAPTURE_REQUEST, requests.capture(
                ws, hold_id, request_id=self.uuid(), amount=self.money(held + 100),
            ), "capture-exceeds-hold", end_at, told)

        refund_at = end_at + rng.uniform(1.0, 4.0)
        if rng.random() < 0.5:
            back = max(100, redeemed // 2 // 100 * 100) if rng.random() < 0.5 else redeemed
            first = self.booking(Topic.BOOKING_REFUND_REQUEST, requests.refund(
                ws, redeem.body["order_id"], redeem.key, request_id=self.uuid(), amount=self.money(back),
            ), "refund-redemption", refund_at, Answered(redeem.key))
            if rng.random() < 0.3:  # with the first, more than the redemption applied: refused
                self.booking(Topic.BOOKING_REFUND_REQUEST, requests.refund(
                    ws, redeem.body["order_id"], redeem.key, request_id=self.uuid(),
                    amount=self.money(redeemed - back + 100),
                ), "refund-exceeds-redeemed", refund_at + rng.uniform(1.0, 3.0), Answered(first.key), repeat=0.0)
        if captured is not None and rng.random() < 0.5:
            capture_id, applied = captured
            self.booking(Topic.BOOKING_REFUND_REQUEST, requests.refund(
                ws, order, capture_id, request_id=self.uuid(), amount=self.money(applied),
            ), "refund-capture", refund_at + rng.uniform(0.0, 2.0), Answered(capture_id))
        if rng.random() < 0.25:  # orders racing for more than the certificate has
            racing = []
            for _ in range(rng.randint(2, 4)):
                share = max(100, amount * 2 // 5 // 100 * 100)
                body = requests.hold(ws, "", request_id=self.uuid(), order_id=f"order-{self.hex()}",
                                     order_total=self.money(share), amount=self.money(share))
                body["code"] = CodeOf(cid)
                racing.append(Command("hold-race", Topic.BOOKING_HOLD_REQUEST, body, body["request_id"], code))
            self.add(refund_at + rng.uniform(0.0, 2.0), *racing)
            self.repeat_later(refund_at, rng.choice(racing), 0.5)

    def unknown_hold_operation(self, at: float) -> None:
        ws = self.rng.choice(self.partial_workspaces).workspace_id
        if self.rng.random() < 0.5:
            body = requests.capture(ws, self.uuid(), request_id=self.uuid())
            self.booking(Topic.BOOKING_CAPTURE_REQUEST, body, "capture-unknown-hold", at, None, repeat=0.2)
        else:
            body = requests.release(ws, self.uuid(), request_id=self.uuid())
            self.booking(Topic.BOOKING_RELEASE_REQUEST, body, "release-unknown-hold", at, None, repeat=0.2)

    def unknown_code_redeem(self, at: float) -> None:
        ws = self.rng.choice(self.workspaces).workspace_id
        self.add(at, self.redeem(ws, self.unknown_code(), "redeem-unknown-code", order_total=50000))

    def guessing_order(self, at: float) -> None:
        """One order trying codes until it is told `too_many_attempts`."""
        ws = self.rng.choice(self.workspaces).workspace_id
        order = f"order-guess-{self.hex()}"
        for attempt in range(8):
            self.add(at + 0.4 * attempt, self.redeem(ws, self.unknown_code(), "redeem-guess", order_total=50000,
                                                     order_id=order))

    def unknown_certificate_operation(self, at: float) -> None:
        ws = self.rng.choice(self.workspaces).workspace_id
        topic = self.rng.choice((Topic.VOID, Topic.REACTIVATE))
        self.add(at, self.operator(topic, ws, self.uuid(), f"{topic.value}-unknown", while_status=None))

    def ticks(self, end: float) -> None:
        """A real tick every few seconds (some repeated), and two from the future for the
        workspaces that travel in time: reminders first, then expiry."""
        at = 1.0
        while at < end:
            ws = self.rng.choice(self.workspaces).workspace_id
            tick = requests.tick(ws, "", tick_id=self.uuid())
            tick["now"] = DaysFromNow(0)
            command = Command("tick", Topic.EXPIRY_TICK, tick, ws)
            self.add(at, command)
            self.repeat_later(at, command, 0.2)
            at += self.rng.uniform(2.0, 4.0)
        for workspace in self.workspaces:
            if workspace.travels_in_time:
                for days, share in ((REMINDER_TICK_DAYS, 0.45), (EXPIRY_TICK_DAYS, 0.8)):
                    ws = workspace.workspace_id
                    tick = requests.tick(ws, "", tick_id=self.uuid())
                    tick["now"] = DaysFromNow(days)
                    command = Command(f"tick-plus-{days}-days", Topic.EXPIRY_TICK, tick, ws)
                    self.add(end * share, command)
                    self.repeat_later(end * share, command, 1.0)


def plan_workload(
    seed: int, workspaces: list[PlannedWorkspace], *, commands: int = 2000, partial_share: float = 0.4
) -> Workload:
    """About `commands` commands over ~45 s: certificates' stories at random moments, with unknown
    codes, code-guessing orders, operations on unknown certificates and ticks sprinkled in.

    No payment is left without its purchase request: the scheduler would refuse it only after
    GIFTCERT_PAYMENT_GRACE_SECONDS, and a grace short enough for this test would also refuse
    payments whose purchase request a dead ledger merely delayed.

    With a `partial` workspace, about `partial_share` of the commands are v2 stories in it."""
    rng = random.Random(seed)
    planner = _Planner(rng, workspaces)
    if planner.partial_workspaces:  # v2 first, from a generator of its own: v1's draws stay as they were
        v2 = _Planner(random.Random(f"{seed}:v2"), workspaces)
        for _ in range(10):
            v2.unknown_hold_operation(v2.rng.uniform(1.0, STORY_SPAN_SECONDS))
        while v2.count < commands * partial_share:
            v2.partial_story(v2.rng.uniform(1.5, STORY_SPAN_SECONDS))
        planner.steps.extend(v2.steps)
    planner.ticks(STORY_SPAN_SECONDS + 8)
    for _ in range(3):
        planner.guessing_order(rng.uniform(1.0, STORY_SPAN_SECONDS))
    for _ in range(20):
        planner.unknown_certificate_operation(rng.uniform(1.0, STORY_SPAN_SECONDS))
    while planner.count < commands:
        if rng.random() < 0.06:
            planner.unknown_code_redeem(rng.uniform(1.0, STORY_SPAN_SECONDS + 8))
        else:
            planner.certificate_story(rng.uniform(1.5, STORY_SPAN_SECONDS))
    steps = sorted(planner.steps, key=lambda step: step.at)
    return Workload(seed, workspaces, steps)


@dataclass
class SentLog:
    """What the sender actually sent (bodies as sent), and what it could not send."""

    commands: list[Command] = field(default_factory=list)
    unsent: list[tuple[Command, str]] = field(default_factory=list)
    started: float = 0.0
    dispatched: float = 0.0
    """When the last step's moment came (its sending may wait for a code)."""
    finished: float = 0.0

    def of(self, topic: Topic) -> list[Command]:
        return [command for command in self.commands if command.topic is topic]


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class CertificateWatch:
    """The code and status of the certificates commands wait for, read for all of them in one query
    every half second: hundreds of waiting commands polling one by one would load the database the
    workers need."""

    PERIOD_SECONDS = 0.5

    def __init__(self, db: AsyncEngine) -> None:
        self.db = db
        self.seen: dict[str, tuple[str, str]] = {}
        """certificate id -> (code, status), as of the last look."""
        self.watched: Counter[str] = Counter()
        self._looked = asyncio.Condition()

    async def run(self) -> None:
        while True:
            if self.watched:
                ids = [UUID(cid) for cid in self.watched]
                async with self.db.connect() as connection:
                    rows = (await connection.execute(
                        text("SELECT id, code, status FROM certificates WHERE id = ANY(:ids)"), {"ids": ids}
                    )).all()
                async with self._looked:
                    self.seen.update({str(row.id): (str(row.code), str(row.status)) for row in rows})
                    self._looked.notify_all()
            await asyncio.sleep(self.PERIOD_SECONDS)

    async def until(self, awaited: Awaits, timeout: float) -> str:
        """The certificate's code once it exists and its status is not in `while_status`."""

        def ready() -> bool:
            seen = self.seen.get(awaited.certificate_id)
            return seen is not None and seen[1] not in awaited.while_status

        self.watched[awaited.certificate_id] += 1
        try:
            async with self._looked:
                await asyncio.wait_for(self._looked.wait_for(ready), timeout)
        except TimeoutError:
            seen = self.seen.get(awaited.certificate_id)
            state = "does not exist" if seen is None else f"is still {seen[1]}"
            raise TimeoutError(f"certificate {awaited.certificate_id} {state} after {timeout:.0f}s") from None
        finally:
            self.watched[awaited.certificate_id] -= 1
            if not self.watched[awaited.certificate_id]:
                del self.watched[awaited.certificate_id]
        return self.seen[awaited.certificate_id][0]


class WorkloadSender:
    """Plays a workload at its pace: each step is sent at its moment, as a task of its own, so a
    command waiting for its certificate never holds back the rest of the stream."""

    AWAIT_SECONDS = 150.0
    """A ledger killed every few seconds lags far behind the stream: each restart waits out the
    dead consumer's session (~10 s) before it gets its partitions back."""

    def __init__(self, wire: Wire, db: AsyncEngine) -> None:
        self.wire = wire
        self.watch = CertificateWatch(db)
        self.log = SentLog()
        self._sent: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
        """By the id of a planned body, which a repeat shares with the command it repeats."""
        self._codes: dict[int, Any] = {}

    async def _resolved(self, command: Command) -> Command:
        body = dict(command.body)
        if command.repeats and command.after is not None:
            # A retry follows its first sending, whatever the certificate became since: waiting for
            # the status the first one waited for could wait for ever (a reactivation made it active).
            original = id(command.body)
            try:
                await asyncio.wait_for(self._sent[original].wait(), self.AWAIT_SECONDS)
            except TimeoutError:
                raise TimeoutError(f"its first sending did not go out within {self.AWAIT_SECONDS:.0f}s") from None
            if isinstance(body.get("code"), CodeOf):
                body["code"] = self._codes[original]
        elif isinstance(command.after, Answered):
            await self._answered(command.after)
        elif command.after is not None:
            code = await self.watch.until(command.after, self.AWAIT_SECONDS)
            if isinstance(body.get("code"), CodeOf):
                body["code"] = code
        if isinstance(body.get("now"), DaysFromNow):
            body["now"] = _rfc3339(datetime.now(UTC) + timedelta(days=body["now"].days))
        if "requested_at" in body:
            body["requested_at"] = requests.now_text()
        return Command(command.kind, command.topic, body, command.key, command.after, command.repeats)

    async def _answered(self, awaited: Answered) -> None:
        """Until a reply naming the request has come (any of them: placed or rejected alike)."""
        deadline = asyncio.get_running_loop().time() + self.AWAIT_SECONDS
        while not any(record.body.get("request_id") == awaited.request_id
                      for topic in ANSWER_TOPICS for record in self.wire.on(topic)):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"request {awaited.request_id} unanswered after {self.AWAIT_SECONDS:.0f}s")
            await asyncio.sleep(0.5)

    async def _send(self, step: Step) -> None:
        try:
            ready = [await self._resolved(command) for command in step.commands]
        except TimeoutError as error:
            self.log.unsent.extend((command, str(error)) for command in step.commands)
            return
        await asyncio.gather(*(self.wire.send(c.topic, c.body, key=c.key) for c in ready))
        self.log.commands.extend(ready)
        for planned, command in zip(step.commands, ready, strict=True):
            if not command.repeats:
                self._codes[id(planned.body)] = command.body.get("code")
                self._sent[id(planned.body)].set()

    async def play(self, workload: Workload) -> SentLog:
        loop = asyncio.get_running_loop()
        watching = asyncio.create_task(self.watch.run())
        self.log.started = start = loop.time()
        tasks = []
        try:
            for step in workload.steps:
                delay = start + step.at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(self._send(step)))
            self.log.dispatched = loop.time()
            await asyncio.gather(*tasks)
        finally:
            watching.cancel()
        self.log.finished = loop.time()
        return self.log
