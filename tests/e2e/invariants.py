"""The invariants a crash must never break, checked against the database, the events collected from
the wire and the mail sink after a faulted run. Each check returns its violations as sentences (an
empty list when it holds), so a failing run says everything that went wrong at once, not only the
first thing."""

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import default
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert_contracts.topics import INBOUND_TOPICS, Topic
from giftcert_services.integrator.wire import Received, Wire
from tests.e2e.workload import SentLog

OUTBOUND_TOPICS = tuple(topic for topic in Topic if topic not in INBOUND_TOPICS)
REPLY_TOPICS: dict[Topic, tuple[str, tuple[Topic, ...]]] = {
    Topic.PURCHASE_REQUESTED: ("certificate_id", (Topic.CERTIFICATE_CREATED, Topic.PURCHASE_REJECTED)),
    Topic.PAYMENT_COMPLETED: ("payment_id", (Topic.CERTIFICATE_ACTIVATED, Topic.PAYMENT_REJECTED)),
    Topic.BOOKING_REDEEM_REQUEST: ("request_id", (Topic.CERTIFICATE_REDEEMED, Topic.REDEMPTION_REJECTED)),
    Topic.VOID: ("request_id", (Topic.CERTIFICATE_VOIDED, Topic.VOID_REJECTED)),
    Topic.REACTIVATE: ("request_id", (Topic.CERTIFICATE_REACTIVATED, Topic.REACTIVATE_REJECTED)),
    # v2: a capture's certificate-redeemed, a partial capture's hold-released and a direct redeem's
    # certificate-redeemed each carry their own request's request_id (unique across all requests)
    Topic.BOOKING_HOLD_REQUEST: ("request_id", (Topic.HOLD_PLACED, Topic.HOLD_REJECTED)),
    Topic.BOOKING_CAPTURE_REQUEST: ("request_id", (Topic.CERTIFICATE_REDEEMED, Topic.CAPTURE_REJECTED)),
    Topic.BOOKING_RELEASE_REQUEST: ("request_id", (Topic.HOLD_RELEASED, Topic.RELEASE_REJECTED)),
    Topic.BOOKING_REFUND_REQUEST: ("request_id", (Topic.CERTIFICATE_REFUNDED, Topic.REFUND_REJECTED)),
}
"""For each inbound topic with an answer: the field that names the request, and the answers' topics."""
TRANSITIONS = {
    "purchased": ({"pending"}, "active"),
    "redeemed": ({"active"}, "redeemed"),
    "voided": ({"active", "pending"}, "voided"),  # v2: pending past the workspace's pending_days (`unpaid`)
    "reactivated": ({"voided"}, "active"),
    "expired": ({"active"}, "expired"),
    "refunded": ({"active", "redeemed", "expired"}, "active"),  # v2
}
"""Activity kinds that record a status change: the statuses it may leave, the status it reaches."""


@dataclass(frozen=True)
class Email:
    to: str
    message_id: str


@dataclass
class Snapshot:
    """Everything the checks read, taken once the system is quiet."""

    events: dict[Topic, list[Received]]
    dead_letters: dict[Topic, list[Received]]
    certificates: dict[str, dict[str, Any]]
    activity: dict[str, list[dict[str, Any]]]
    ledger: dict[str, list[dict[str, Any]]]
    documents: dict[str, list[dict[str, Any]]]
    outbox_left: int
    parked_payments: dict[str, str]
    """payment id -> certificate id: payments waiting for a purchase request that has not come."""
    emails: list[Email]
    emailing_workspaces: set[str]
    sent: SentLog
    mailer_was_killed: bool = False
    partial_workspaces: set[str] = field(default_factory=set)
    """v2: workspaces in `partial` mode, whose certificates pay several bookings (checked by
    no_value_applied_twice instead of v1's one-redemption rules)."""
    facts: Counter[str] = field(default_factory=Counter)
    """Numbers for the report: outcomes, duplicates seen."""

    def bodies(self, topic: Topic) -> list[dict[str, Any]]:
        return [record.body for record in self.events[topic]]

    def is_partial(self, certificate_id: str) -> bool:
        certificate = self.certificates.get(certificate_id)
        return certificate is not None and certificate["workspace_id"] in self.partial_workspaces

    def distinct(self, topic: Topic) -> dict[str, dict[str, Any]]:
        """The topic's events by event_id: one entry however many times the relay published it."""
        return {body["event_id"]: body for body in self.bodies(topic)}


async def _rows(db: AsyncEngine, query: str, by: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    async with db.connect() as connection:
        for row in (await connection.execute(text(query))).mappings():
            grouped[str(row[by])].append(dict(row))
    return grouped


def read_emails(folder: Path, recipients: set[str]) -> list[Email]:
    """The emails the mail sink accepted for these recipients (the folder is shared by the session)."""
    emails = []
    parser = BytesHeaderParser(policy=default)
    for path in folder.glob("*.eml"):
        with path.open("rb") as stream:
            headers = parser.parse(stream)
        to = parseaddr(str(headers["To"]))[1]
        if to in recipients:
            emails.append(Email(to, str(headers["Message-ID"]).strip()))  # a long one is folded
    return emails


async def take_snapshot(
    db: AsyncEngine, wire: Wire, sent: SentLog, mail_folder: Path | None, emailing_workspaces: set[str], *,
    mailer_was_killed: bool, partial_workspaces: set[str] | None = None,
) -> Snapshot:
    """`mail_folder` None: no emails read (a look while waiting for the system to settle)."""
    certificates = {
        cid: rows[0]
        for cid, rows in (await _rows(db, "SELECT * FROM certificates", "id")).items()
    }
    return Snapshot(
        events={topic: list(wire.on(topic)) for topic in Topic},
        dead_letters={topic: list(wire.on(topic, dead_letters=True)) for topic in Topic},
        certificates=certificates,
        activity=await _rows(db, "SELECT * FROM certificate_activity ORDER BY id", "certificate_id"),
        ledger=await _rows(db, "SELECT * FROM ledger_entries ORDER BY id", "certificate_id"),
        documents=await _rows(
            db, "SELECT id, certificate_id, workspace_id, sha256, size_bytes FROM documents", "certificate_id"
        ),
        outbox_left=sum(len(r) for r in (await _rows(db, "SELECT id FROM outbox", "id")).values()),
        parked_payments={
            payment_id: str(rows[0]["certificate_id"])
            for payment_id, rows in (await _rows(db, "SELECT * FROM parked_payments", "payment_id")).items()
        },
        emails=[] if mail_folder is None else read_emails(
            mail_folder, {str(c["recipient_email"]) for c in certificates.values()}
        ),
        emailing_workspaces=emailing_workspaces,
        sent=sent,
        mailer_was_killed=mailer_was_killed,
        partial_workspaces=partial_workspaces or set(),
    )


def _decision(body: dict[str, Any]) -> str:
    """What a reply decided: everything but the fields a republished reply renews (its `sequence`
    is the certificate's next number)."""
    renewed = {"event_id", "occurred_at", "sequence"}
    return json.dumps({k: v for k, v in body.items() if k not in renewed}, sort_keys=True)


def answers_by_request(snapshot: Snapshot, inbound: Topic) -> dict[str, list[tuple[Topic, dict[str, Any]]]]:
    """Every distinct reply event (by event_id) to requests of `inbound`, by the request's key."""
    field_name, topics = REPLY_TOPICS[inbound]
    answers: dict[str, list[tuple[Topic, dict[str, Any]]]] = defaultdict(list)
    for topic in topics:
        for body in snapshot.distinct(topic).values():
            answers[str(body[field_name])].append((topic, body))
    return answers


def _parked_for_good(snapshot: Snapshot, payment_id: str) -> bool:
    """A payment for a certificate that exists nowhere (its purchase was refused before the payment
    came) waits, parked, for GIFTCERT_PAYMENT_GRACE_SECONDS, and is refused after it (decision 7)."""
    certificate_id = snapshot.parked_payments.get(payment_id)
    return certificate_id is not None and certificate_id not in snapshot.certificates


def unsettled(snapshot: Snapshot) -> list[str]:
    """What is still to come: replies to requests sent, PDFs and emails of activated certificates,
    outbox rows. Empty once the system has done everything the workload asked for."""
    waiting = [f"{snapshot.outbox_left} outbox rows"] if snapshot.outbox_left else []
    for inbound, (field_name, _) in REPLY_TOPICS.items():
        answers = answers_by_request(snapshot, inbound)
        sends = Counter(str(c.body[field_name]) for c in snapshot.sent.of(inbound))
        once = inbound is Topic.PAYMENT_COMPLETED  # a repeated payment is not answered again
        late = [key for key, times in sends.items() if len(answers.get(key, [])) < (1 if once else times)
                and not (once and _parked_for_good(snapshot, key))]
        if late:
            waiting.append(f"{len(late)} {inbound} replies, e.g. {late[:3]}")
    ready = {b["certificate_id"] for b in snapshot.distinct(Topic.PDF_READY).values()}
    sent = {b["certificate_id"] for b in snapshot.distinct(Topic.CERTIFICATE_SENT).values()}
    for cid, certificate in snapshot.certificates.items():
        if certificate["activated_at"] is None:
            continue
        if cid not in ready:
            waiting.append(f"the PDF of {cid}")
        elif certificate["workspace_id"] in snapshot.emailing_workspaces and cid not in sent:
            waiting.append(f"the email of {cid}")
    return waiting


def every_request_answered_with_one_decision(snapshot: Snapshot) -> list[str]:
    """Each request sent n times has at least n replies, all with the same decision; a payment has
    exactly one (a repeated payment publishes nothing new), or none while it is parked for a
    certificate that does not exist; nothing was dead-lettered."""
    problems = [f"{len(records)} dead letter(s) on {topic}" for topic, records in snapshot.dead_letters.items()
                if records]
    problems += [f"{command.kind} {command.key} was never sent: {why}" for command, why in snapshot.sent.unsent]
    asked = {str(c.body[field_name]) for inbound, (field_name, _) in REPLY_TOPICS.items()
             for c in snapshot.sent.of(inbound)}
    for inbound, (field_name, _) in REPLY_TOPICS.items():
        answers = answers_by_request(snapshot, inbound)
        sends = Counter(str(c.body[field_name]) for c in snapshot.sent.of(inbound))
        for key, times in sends.items():
            replies = answers.get(key, [])
            decisions = {_decision(body) for _, body in replies}
            if len(decisions) > 1:
                problems.append(f"{inbound} {key} got {len(decisions)} different decisions: {sorted(decisions)}")
            if inbound is Topic.PAYMENT_COMPLETED:
                if not replies and _parked_for_good(snapshot, key):
                    snapshot.facts["payment-completed: parked (its purchase was refused)"] += 1
                    continue
                if key in snapshot.parked_payments:
                    cid = snapshot.parked_payments[key]
                    problems.append(f"payment {key} is still parked with {len(replies)} decision events, though "
                                    f"its certificate {cid} {'exists' if cid in snapshot.certificates else 'does not'}")
                if len(replies) != 1:
                    problems.append(f"payment {key} (sent {times}x) has {len(replies)} decision events, not 1")
            elif len(replies) < times:
                problems.append(f"{inbound} {key} sent {times}x has only {len(replies)} replies")
            outcome = f"{replies[0][0].value} {replies[0][1].get('reason', '')}".strip() if replies else "unanswered"
            snapshot.facts[f"{inbound.value}: {outcome}"] += 1
            snapshot.facts["repeated replies"] += max(0, len(replies) - times)
        unasked = set(answers) - asked  # a capture's certificate-redeemed is no redeem's reply
        if inbound is not Topic.PAYMENT_COMPLETED and unasked:
            problems.append(f"{len(unasked)} replies on {inbound} to requests never sent, e.g. {sorted(unasked)[:3]}")
    return problems


def each_accepted_payment_activated_exactly_one_certificate(snapshot: Snapshot) -> list[str]:
    """One activation per certificate and per payment, matching the certificate row and one
    `issued` ledger entry; a certificate without activation has no entry."""
    problems = []
    activations_by_certificate: dict[str, set[str]] = defaultdict(set)
    for body in snapshot.distinct(Topic.CERTIFICATE_ACTIVATED).values():
        activations_by_certificate[body["certificate_id"]].add(body["payment_id"])
    by_payment = Counter(b["payment_id"] for b in snapshot.distinct(Topic.CERTIFICATE_ACTIVATED).values())
    problems += [f"payment {p} activated {n} times" for p, n in by_payment.items() if n > 1]
    for cid, certificate in snapshot.certificates.items():
        payments = activations_by_certificate.get(cid, set())
        issued = [e for e in snapshot.ledger.get(cid, []) if e["kind"] == "issued"]
        if certificate["activated_at"] is None:
            if payments or issued:
                problems.append(f"pending certificate {cid} has activations {payments} and {len(issued)} issued")
            continue
        if len(payments) != 1 or len(issued) != 1:
            problems.append(f"certificate {cid}: activated by payments {payments}, {len(issued)} issued entries")
            continue
        (payment,) = payments
        if certificate["payment_id"] != payment or issued[0]["request_id"] != payment:
            problems.append(f"certificate {cid}: row says payment {certificate['payment_id']}, ledger "
                            f"{issued[0]['request_id']}, event {payment}")
        if issued[0]["amount_minor"] != certificate["amount_minor"]:
            problems.append(f"certificate {cid}: issued {issued[0]['amount_minor']} of {certificate['amount_minor']}")
    missing = set(activations_by_certificate) - set(snapshot.certificates)
    problems += [f"certificate-activated for {cid}, which does not exist" for cid in missing]
    snapshot.facts["certificates activated"] = len(activations_by_certificate)
    return problems


def no_code_redeemed_twice(snapshot: Snapshot) -> list[str]:
    """At most one successful redeem request per certificate, one debit, and the status and the
    balance that go with it."""
    problems = []
    redeemed_by: dict[str, set[str]] = defaultdict(set)
    for body in snapshot.distinct(Topic.CERTIFICATE_REDEEMED).values():
        redeemed_by[body["certificate_id"]].add(body["request_id"])
    for cid, certificate in snapshot.certificates.items():
        if snapshot.is_partial(cid):
            continue
        requests = redeemed_by.get(cid, set())
        debits = [e for e in snapshot.ledger.get(cid, []) if e["kind"] == "redeemed"]
        if len(requests) > 1 or len(debits) > 1:
            problems.append(f"certificate {cid} redeemed by requests {requests}, {len(debits)} debits")
        if (certificate["status"] == "redeemed") != (len(debits) == 1) or {e["request_id"] for e in debits} != requests:
            problems.append(f"certificate {cid} is {certificate['status']} with debits "
                            f"{[e['request_id'] for e in debits]} and redeemed events for {requests}")
        balance = sum(e["amount_minor"] for e in snapshot.ledger.get(cid, []))
        expected = {"pending": 0, "redeemed": 0}.get(certificate["status"], certificate["amount_minor"])
        if balance != expected:
            problems.append(f"certificate {cid} ({certificate['status']}) has balance {balance}, not {expected}")
    snapshot.facts["certificates redeemed"] = len(redeemed_by)
    return problems


def _pairs(entries: Iterable[dict[str, Any]], kind: str, reference: str = "reference") -> Counter[tuple[str, str]]:
    return Counter((str(e["certificate_id"]), str(e[reference])) for e in entries if e["kind"] == kind)


def every_change_has_its_event_and_every_event_its_change(snapshot: Snapshot) -> list[str]:
    """Activity entries and certificate columns against the distinct events that announce them;
    the outbox is empty once quiet."""
    problems = [f"{snapshot.outbox_left} outbox rows never published"] if snapshot.outbox_left else []
    entries = [e for log in snapshot.activity.values() for e in log]

    def compare(what: str, in_database: Counter[Any], in_events: Counter[Any]) -> None:
        problems.extend(
            f"{what} {item}: {in_database[item]} in the database, {in_events[item]} as events"
            for item in set(in_database) | set(in_events)
            if in_database[item] != in_events[item]
        )

    def one_each(pairs: Iterable[Any]) -> Counter[Any]:
        return Counter(set(pairs))  # repeats of a reply announce the same change once

    distinct = snapshot.distinct
    compare("created", Counter(str(e["certificate_id"]) for e in entries if e["kind"] == "created"),
            one_each(b["certificate_id"] for b in distinct(Topic.CERTIFICATE_CREATED).values()))
    compare("purchased", _pairs(entries, "purchased"),
            one_each((b["certificate_id"], b["payment_id"]) for b in distinct(Topic.CERTIFICATE_ACTIVATED).values()))
    compare("redeemed (order)", _pairs(entries, "redeemed"),
            one_each((b["certificate_id"], b["order_id"]) for b in distinct(Topic.CERTIFICATE_REDEEMED).values()))
    for kind, topic in (("voided", Topic.CERTIFICATE_VOIDED), ("reactivated", Topic.CERTIFICATE_REACTIVATED)):
        compare(kind, _pairs(entries, kind),
                one_each((b["certificate_id"], b["request_id"]) for b in distinct(topic).values()))
    # events that are never repeated: one distinct event_id per change
    compare("expired", Counter(str(e["certificate_id"]) for e in entries if e["kind"] == "expired"),
            Counter(b["certificate_id"] for b in distinct(Topic.CERTIFICATE_EXPIRED).values()))
    compare("sent", Counter(str(e["certificate_id"]) for e in entries if e["kind"] == "sent"),
            Counter(b["certificate_id"] for b in distinct(Topic.CERTIFICATE_SENT).values()))
    compare("expiring soon", Counter(cid for cid, c in snapshot.certificates.items() if c["expiring_soon_notified_at"]),
            Counter(b["certificate_id"] for b in distinct(Topic.CERTIFICATE_EXPIRING_SOON).values()))
    compare("document", Counter({cid: len(rows) for cid, rows in snapshot.documents.items()}),
            Counter(b["certificate_id"] for b in distinct(Topic.PDF_READY).values()))
    for body in distinct(Topic.PDF_READY).values():
        stored = snapshot.documents.get(body["certificate_id"], [])
        if [(str(d["id"]), d["sha256"]) for d in stored] != [(body["document_id"], body["sha256"])]:
            problems.append(f"pdf-ready {body['event_id']} names a document that is not the stored one")
    return problems


def event_ids_are_stable(snapshot: Snapshot) -> list[str]:
    """Copies of one event (the relay publishing a batch again) share ce_id and bytes; the body's
    event_id is the ce_id, the type names the topic, key and subject are the certificate."""
    problems = []
    for topic in OUTBOUND_TOPICS:
        by_id: dict[str, Received] = {}
        for record in snapshot.events[topic]:
            body = record.body
            ce_id = record.headers.get("ce_id", b"").decode()
            if body.get("event_id") != ce_id:
                problems.append(f"{topic}: body event_id {body.get('event_id')} but ce_id {ce_id}")
            if record.headers.get("ce_type", b"").decode() != f"giftcert.{topic.value}.v1":
                problems.append(f"{topic}: ce_type {record.headers.get('ce_type')!r}")
            if body.get("certificate_id") is not None and (  # v2's refusals of an unknown hold name none
                record.key != body["certificate_id"].encode()
                or record.headers.get("ce_subject", b"").decode() != body["certificate_id"]
            ):
                problems.append(f"{topic} {ce_id}: key/subject {record.key!r} is not the certificate")
            first = by_id.setdefault(ce_id, record)
            if first is not record:
                snapshot.facts["events published more than once"] += 1
                if (first.value, first.key) != (record.value, record.key):
                    problems.append(f"{topic}: two different events share ce_id {ce_id}")
    return problems


def one_pdf_and_one_activation_email_per_activated_certificate(snapshot: Snapshot) -> list[str]:
    """A certificate ever activated has one document, one pdf-ready, and, where its workspace emails,
    one `sent`, one certificate-sent and one email (at least one, all with the same Message-ID, when
    the mailer was killed: SMTP accepting and our commit cannot be one step). Reminders likewise."""
    problems = []
    emails_to: dict[str, list[Email]] = defaultdict(list)
    for email in snapshot.emails:
        emails_to[email.to].append(email)
    pdf_ready = Counter(b["certificate_id"] for b in snapshot.distinct(Topic.PDF_READY).values())
    certificate_sent = Counter(b["certificate_id"] for b in snapshot.distinct(Topic.CERTIFICATE_SENT).values())
    expiring_soon = {b["certificate_id"] for b in snapshot.distinct(Topic.CERTIFICATE_EXPIRING_SOON).values()}
    for cid, certificate in snapshot.certificates.items():
        kinds = Counter(e["kind"] for e in snapshot.activity.get(cid, []))
        to = certificate["recipient_email"]
        activation = [e for e in emails_to.get(to, []) if e.message_id.startswith("<certificate-")]
        reminders = [e for e in emails_to.get(to, []) if e.message_id.startswith("<reminder-")]
        emails = certificate["workspace_id"] in snapshot.emailing_workspaces
        activated = certificate["activated_at"] is not None
        expected = 1 if activated else 0
        got = (len(snapshot.documents.get(cid, [])), pdf_ready[cid])
        if got != (expected, expected):
            problems.append(f"certificate {cid} ({certificate['status']}): {got[0]} documents, {got[1]} pdf-ready")
        expected = 1 if activated and emails else 0
        sent = (kinds["sent"], certificate_sent[cid], len(activation))
        email_count_fits = sent[2] >= expected if snapshot.mailer_was_killed and expected else sent[2] == expected
        if sent[:2] != (expected, expected) or not email_count_fits:
            problems.append(f"certificate {cid}: {sent[0]} sent, {sent[1]} certificate-sent, {sent[2]} emails")
        if {e.message_id for e in activation} - {f"<certificate-{cid}@giftcert.invalid>"}:
            problems.append(f"certificate {cid}: emails with Message-IDs {[e.message_id for e in activation]}")
        snapshot.facts["activation emails sent again (same Message-ID)"] += max(0, len(activation) - 1)
        if kinds["reminder_sent"] > 1 or (reminders and cid not in expiring_soon):
            problems.append(f"certificate {cid}: {kinds['reminder_sent']} reminders logged, {len(reminders)} emailed")
        if len(reminders) != kinds["reminder_sent"] and not (
            snapshot.mailer_was_killed and len(reminders) >= kinds["reminder_sent"]
        ):
            problems.append(f"certificate {cid}: {kinds['reminder_sent']} reminders logged, {len(reminders)} emailed")
        if {e.message_id for e in reminders} - {f"<reminder-{cid}@giftcert.invalid>"}:
            problems.append(f"certificate {cid}: reminders with Message-IDs {[e.message_id for e in reminders]}")
        snapshot.facts["reminder emails"] += len(reminders)
    return problems


def activity_log_matches_status_history(snapshot: Snapshot) -> list[str]:  # noqa: C901 - one check a line
    """Replaying each certificate's activity log through the state machine never takes a forbidden
    step and ends in the certificate's status, with the timestamps the row keeps."""
    problems = []
    for cid, certificate in snapshot.certificates.items():
        if snapshot.is_partial(cid):
            continue  # a partial redemption leaves it active: no_value_applied_twice checks its status
        log = snapshot.activity.get(cid, [])
        kinds = [e["kind"] for e in log]
        if kinds[:1] != ["created"] or kinds.count("created") != 1:
            problems.append(f"certificate {cid}: log {kinds} does not start with one `created`")
            continue
        status, last = "pending", {}
        for entry in log[1:]:
            kind = entry["kind"]
            last[kind] = entry["occurred_at"]
            if kind in TRANSITIONS:
                allowed, status_after = TRANSITIONS[kind]
                if status not in allowed:
                    problems.append(f"certificate {cid}: `{kind}` while {status} in {kinds}")
                status = status_after
            elif kind in {"sent", "activated_from_portal", "reminder_sent"} and status == "pending":
                problems.append(f"certificate {cid}: `{kind}` while pending in {kinds}")
        if status != certificate["status"]:
            problems.append(f"certificate {cid} is {certificate['status']}, its log {kinds} says {status}")
        for kind, column in (("purchased", "activated_at"), ("redeemed", "redeemed_at"), ("expired", "expired_at")):
            if last.get(kind) != certificate[column]:
                problems.append(f"certificate {cid}: {column} {certificate[column]}, `{kind}` at {last.get(kind)}")
        voided_at = last.get("voided") if certificate["status"] == "voided" else None
        if voided_at != certificate["voided_at"]:
            problems.append(f"certificate {cid}: voided_at {certificate['voided_at']}, log says {voided_at}")
        portal = certificate["channel"] == "portal"
        if kinds.count("purchased_from_portal") != portal or kinds.count("activated_from_portal") != (
            portal and "purchased" in kinds
        ):
            problems.append(f"certificate {cid} sold on channel {certificate['channel']} has log {kinds}")
        snapshot.facts[f"final status {certificate['status']}"] += 1
    return problems


def _minor(money: dict[str, Any]) -> int:
    return int(money["minor"])


def no_value_applied_twice(snapshot: Snapshot) -> list[str]:  # noqa: C901, PLR0912 - one check a line
    """v2, for the certificates of `partial` workspaces: each request has at most one ledger entry of
    a kind; each applied value (redeem, capture), refund and hold has exactly one entry, of the
    amount its event announced, and no entry lacks its event; refunds of a redemption never exceed
    what it applied; a hold is ended once (a capture or a release, never both); a partial capture
    released the rest once; balance and available are never below zero, and the status follows
    the balance."""
    problems = []
    applied = {b["request_id"]: b for b in snapshot.distinct(Topic.CERTIFICATE_REDEEMED).values()}
    refunded = {b["request_id"]: b for b in snapshot.distinct(Topic.CERTIFICATE_REFUNDED).values()}
    placed = {b["request_id"]: b for b in snapshot.distinct(Topic.HOLD_PLACED).values()}
    released: dict[str, set[str]] = defaultdict(set)
    for body in snapshot.distinct(Topic.HOLD_RELEASED).values():
        released[str(body["request_id"])].add(body["event_id"])
    releases_asked = {str(c.body["request_id"]) for c in snapshot.sent.of(Topic.BOOKING_RELEASE_REQUEST)}
    ended_by: dict[str, set[str]] = defaultdict(set)
    for request_id, body in applied.items():
        if body.get("hold_id"):
            ended_by[str(body["hold_id"])].add(f"capture {request_id}")
            held = placed.get(str(body["hold_id"]))
            rest = None if held is None else _minor(held["amount_held"]) - _minor(body["amount_applied"])
            if rest is not None and len(released.get(request_id, set())) != (1 if rest else 0):
                problems.append(f"capture {request_id} of {rest} less than held has "
                                f"{len(released.get(request_id, set()))} hold-released")
    for body in snapshot.distinct(Topic.HOLD_RELEASED).values():
        if body["request_id"] in releases_asked:
            ended_by[str(body["hold_id"])].add(f"release {body['request_id']}")
    problems += [f"hold {hold} ended {len(by)} times: {sorted(by)}" for hold, by in ended_by.items() if len(by) > 1]
    for cid, certificate in snapshot.certificates.items():
        if not snapshot.is_partial(cid):
            continue
        entries = snapshot.ledger.get(cid, [])
        twice = [key for key, n in Counter((e["request_id"], e["kind"]) for e in entries).items() if n > 1]
        problems += [f"certificate {cid}: request {r} has {k} entries more than once" for r, k in twice]
        expected = {
            "redeemed": {r: -_minor(b["amount_applied"]) for r, b in applied.items()
                         if b["certificate_id"] == cid and not b.get("hold_id")},
            "captured": {r: -_minor(b["amount_applied"]) for r, b in applied.items()
                         if b["certificate_id"] == cid and b.get("hold_id")},
            "refunded": {r: _minor(b["amount_refunded"]) for r, b in refunded.items() if b["certificate_id"] == cid},
            "hold": {r: -_minor(b["amount_held"]) for r, b in placed.items() if b["certificate_id"] == cid},
        }
        for kind, announced in expected.items():
            written = {str(e["request_id"]): int(e["amount_minor"]) for e in entries if e["kind"] == kind}
            if written != announced:
                problems.append(f"certificate {cid}: {kind} entries {written}, events announced {announced}")
        given_back: Counter[str] = Counter()
        for entry in entries:
            if entry["kind"] == "refunded":
                given_back[str(entry["redemption_id"])] += int(entry["amount_minor"])
        for redemption, back in given_back.items():
            took = -next((int(e["amount_minor"]) for e in entries if str(e["request_id"]) == redemption
                          and e["kind"] in {"redeemed", "captured"}), 0)
            if back > took:
                problems.append(f"certificate {cid}: {back} refunded of redemption {redemption}, which applied {took}")
        balance = sum(int(e["amount_minor"]) for e in entries if e["kind"] in {"issued", "redeemed", "captured",
                                                                                "refunded"})
        available = balance + sum(int(e["amount_minor"]) for e in entries if e["kind"] in {"hold", "released",
                                                                                              "hold_expired"})
        if balance < 0 or available < 0 or balance != (certificate["balance_minor"] or 0):
            problems.append(f"certificate {cid}: balance {balance} (kept {certificate['balance_minor']}), "
                            f"available {available}")
        if certificate["activated_at"] is not None:
            status = "active" if balance else "redeemed"
            if certificate["status"] != status:
                problems.append(f"certificate {cid} is {certificate['status']} with balance {balance}")
        snapshot.facts[f"partial: final status {certificate['status']}"] += 1
    snapshot.facts["partial: values applied"] = len(applied)
    snapshot.facts["partial: refunds"] = len(refunded)
    return problems


INVARIANTS: dict[str, Callable[[Snapshot], list[str]]] = {
    "each request answered, one decision per request, repeats return it": every_request_answered_with_one_decision,
    "each accepted payment activated exactly one certificate": each_accepted_payment_activated_exactly_one_certificate,
    "no code redeemed twice": no_code_redeemed_twice,
    "every committed change has its event and no event lacks its change":
        every_change_has_its_event_and_every_event_its_change,
    "event_id stable across copies": event_ids_are_stable,
    "one PDF and one activation email per active certificate":
        one_pdf_and_one_activation_email_per_activated_certificate,
    "activity log matches status history": activity_log_matches_status_history,
}


INVARIANTS_V2 = INVARIANTS | {"no value applied twice (v2: holds, captures, releases, refunds)": no_value_applied_twice}


def violations(
    snapshot: Snapshot, invariants: dict[str, Callable[[Snapshot], list[str]]] | None = None
) -> dict[str, list[str]]:
    """Every invariant's violations (v1's, unless told), by the invariant's name."""
    return {name: check(snapshot) for name, check in (invariants or INVARIANTS).items()}
