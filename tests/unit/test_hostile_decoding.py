"""Hostile bytes on every inbound topic, decoded the way the consumers decode them, with no broker.

A consumer turns a record into a message in two steps (services/giftcert_services/runtime): `decode_json`
reads the body as JSON, then FastStream validates the result against the handler's pydantic model. The
consumption middleware dead-letters a pydantic `ValidationError` at once; any other exception is taken
for a handler failure and retried `handler_max_attempts` times first. So, for every inbound model,
decoding any bytes whatsoever must either give a valid message or raise a `ValidationError`, and the
dead letter's `error_type`/`error_detail` must be describable without raising; a purchase request is
also answered as `invalid` when its identity is readable, which must not raise either.

The strategies here are shared with tests/integration/test_hostile_messages.py, which sends a batch
of the same bodies over the real broker."""

import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from giftcert.ledger.purchase import reject_invalid_purchase
from giftcert_contracts.inbound import (
    CaptureHold,
    CheckExpiries,
    HoldCertificate,
    InboundMessage,
    PaymentCompleted,
    PurchaseRequested,
    ReactivateCertificate,
    RedeemCertificate,
    ReleaseHold,
    VoidCertificate,
)
from giftcert_contracts.topics import INBOUND_TOPICS, Topic
from giftcert_services.integrator import requests
from giftcert_services.runtime.consumption import describe_failure
from giftcert_services.runtime.decoding import decode_json, validated
from tests.fakes import FakeUnitOfWorkFactory, FixedClock

pytestmark = pytest.mark.reliability

MODEL_BY_TOPIC: dict[Topic, type[InboundMessage]] = {
    Topic.PURCHASE_REQUESTED: PurchaseRequested,
    Topic.PAYMENT_COMPLETED: PaymentCompleted,
    Topic.BOOKING_REDEEM_REQUEST: RedeemCertificate,
    Topic.VOID: VoidCertificate,
    Topic.REACTIVATE: ReactivateCertificate,
    Topic.EXPIRY_TICK: CheckExpiries,
    Topic.BOOKING_HOLD_REQUEST: HoldCertificate,
    Topic.BOOKING_CAPTURE_REQUEST: CaptureHold,
    Topic.BOOKING_RELEASE_REQUEST: ReleaseHold,
}
DEAD_LETTER_ERROR_TYPES = {"validation_error", "undecodable_json"}
"""The `error_type` of a body recognised as poison at once (consumption.describe_failure)."""

# --- hostile ingredients ------------------------------------------------------------------------

ODD_PIECES = [
    "\x00", "\x1b", "\x7f", "\x85", "\t", "\r", "\n", "\u2028", "\u2029",  # controls and line breaks
    "\u202e", "\u202d", "\u200f", "\u200e", "\u2066", "\u2069", "\u061c",  # bidirectional marks
    "\ufeff", "\u200b", "\u200d", "\u00a0", "\u0301", "\ufffd", "\uffff", "\U0010ffff",  # invisible, odd
    "\ud800", "\udbff", "\udc00", "\udfff",  # lone surrogates: escaped in JSON, or invalid UTF-8 when raw
    "🎁", "👩\u200d👩\u200d👧", "🏳\ufe0f\u200d🌈", "\U0001d54f", "王", "Δ", "ß", "ﷺ",
    "\\", '"', "'", "<", "&", "%", "_",
]
HOSTILE_TEXTS = [
    "", " ", "\x00", "a\x00b", "\u202eevil\u202c.pdf", "\ud800", "x\udfffy", "🎁" * 40,
    "x\r\nBcc: evil@example.com", "Bcc: evil@example.com", "<script>alert(1)</script>", "<font size=80>BIG</font>",
    "'; DROP TABLE certificates; --", "' OR 1=1 --", "%s%n%x", "${jndi:ldap://evil.example/a}", "../../etc/passwd",
    "Z̴̡̛͔̗a̧͙͕l̴̢̛g̵o̷", "NaN", "null", "true", "-0", "1e309", "x" * 201, "x" * 501, "x" * 10_000,
]
HOSTILE_NUMBERS = [
    0, -1, -5000, 1, 10**9, 10**9 + 1, 10**12 + 1, 2**31, 2**63, -(2**63), 10**100, 50.5, 5000.0, -0.0, 1e308,
    float("inf"), float("-inf"), float("nan"), True, False,
]
HOSTILE_CURRENCIES = ["XYZ", "eur", "EU", "EURO", "€", "XXX", "XTS", "XAU", "", "EUR ", " EUR", "E\x00R",
                      "\u0415UR"]  # the first letter Cyrillic
HOSTILE_TIMES = [
    "2026-11-23T10:00:00", "2026-11-23", "10:00:00Z", "2026-02-30T10:00:00Z", "2026-11-23T25:00:00Z",
    "2026-11-23T10:00:00+24:00", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00", "1763892000", 1763892000, 1763892000000, "yesterday", "2026-11-23T10:00:00.123456789Z",
]
HOSTILE_IDS = [
    "not-a-uuid", "00000000-0000-0000-0000-000000000000", "{6f1c1f6e-8a1e-4c55-9d0e-6b2f1c3a7e21}",
    "urn:uuid:6f1c1f6e-8a1e-4c55-9d0e-6b2f1c3a7e21", "6F1C1F6E8A1E4C559D0E6B2F1C3A7E21",
    "6f1c1f6e-8a1e-4c55-9d0e-6b2f1c3a7e2", "6f1c1f6e-8a1e-4c55-9d0e-6b2f1c3a7e21\x00",
]
HOSTILE_EMAILS = [
    "not-an-email", "a@b", "@example.com", "a@", "o'brien@example.com", "a_b@example.com", "%@example.com",
    "x\r\n@example.com", "évil@exämple.com", "a@[127.0.0.1]", '"quoted"@example.com', "a" * 300 + "@example.com",
    "<script>@example.com", "a@example.com\x00",
]

odd_text = st.lists(st.one_of(st.sampled_from(ODD_PIECES), st.characters()), max_size=12).map("".join)
hostile_text = st.one_of(odd_text, st.sampled_from(HOSTILE_TEXTS))
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.sampled_from(HOSTILE_NUMBERS), hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(odd_text, children, max_size=4),
    max_leaves=5,
)
hostile_money = st.one_of(
    st.fixed_dictionaries({"minor": st.sampled_from(HOSTILE_NUMBERS) | st.integers(), "currency": st.just("EUR")}),
    st.fixed_dictionaries({"minor": st.just(5000), "currency": st.sampled_from(HOSTILE_CURRENCIES) | hostile_text}),
    st.fixed_dictionaries({"minor": st.just("5000"), "currency": st.just("EUR")}),
    st.fixed_dictionaries({"amount": st.just(50.0), "currency": st.just("EUR")}),
    st.just([5000, "EUR"]),
    st.just("EUR 50.00"),
)
hostile_values = st.one_of(
    json_values,
    hostile_text,
    st.sampled_from(HOSTILE_NUMBERS + HOSTILE_TIMES + HOSTILE_IDS + HOSTILE_EMAILS + HOSTILE_CURRENCIES),
    hostile_money,
)


def nested(depth: int, *, arrays: bool = True) -> str:
    """JSON text nesting `depth` arrays (or objects) around a number."""
    if arrays:
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


# --- valid bodies, and one field of them broken ---------------------------------------------------

NOW = "2026-11-23T10:00:00Z"


def valid_body(topic: Topic, workspace: str, ids: list[str]) -> dict[str, Any]:  # noqa: PLR0911 - one per topic
    """A body the contract accepts, with the ids given (so that Hypothesis chooses them, or the caller)."""
    first, second = ids
    if topic is Topic.PURCHASE_REQUESTED:
        return requests.purchase(workspace, certificate_id=first, requested_at=NOW)
    if topic is Topic.PAYMENT_COMPLETED:
        return requests.payment(workspace, first, payment_id=f"pay-{second}", completed_at=NOW)
    if topic is Topic.BOOKING_REDEEM_REQUEST:
        return requests.redeem(workspace, "ABCD-EFGH-JKMN", request_id=first, order_id=f"order-{second}",
                               requested_at=NOW)
    if topic is Topic.VOID:
        return requests.void(workspace, first, request_id=second)
    if topic is Topic.REACTIVATE:
        return requests.reactivate(workspace, first, request_id=second)
    if topic is Topic.BOOKING_HOLD_REQUEST:
        return requests.hold(workspace, "ABCD-EFGH-JKMN", request_id=first, order_id=f"order-{second}",
                             requested_at=NOW, hold_seconds=900)
    if topic is Topic.BOOKING_CAPTURE_REQUEST:
        return requests.capture(workspace, first, request_id=second, requested_at=NOW)
    if topic is Topic.BOOKING_RELEASE_REQUEST:
        return requests.release(workspace, first, request_id=second)
    return requests.tick(workspace, NOW, tick_id=first)


def _leaf_paths(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every field of a body, nested ones too, and every object that holds fields."""
    if not isinstance(value, dict):
        return [prefix]
    return ([prefix] if prefix else []) + [p for key, item in value.items() for p in _leaf_paths(item, (*prefix, key))]


@dataclass(frozen=True)
class Mutation:
    """One change to a valid body: a field set to `value`, or removed when `remove`."""

    path: tuple[str, ...]
    value: Any = None
    remove: bool = False

    def applied_to(self, body: dict[str, Any]) -> dict[str, Any]:
        changed = json.loads(json.dumps(body))
        holder = changed
        for key in self.path[:-1]:
            holder = holder[key]
        if self.remove:
            holder.pop(self.path[-1], None)
        else:
            holder[self.path[-1]] = self.value
        return changed


def _encode(body: Any, *, ascii_only: bool) -> bytes:
    """JSON as a careless client writes it: `\\ud800` escapes when ASCII only, else raw UTF-8 where a
    lone surrogate becomes invalid UTF-8 (surrogatepass). NaN and Infinity are written too."""
    return json.dumps(body, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class HostileBody:
    """What is sent, and how it was made (for the report and for a failure's message)."""

    kind: str
    body: bytes

    def __repr__(self) -> str:
        shown = self.body if len(self.body) <= 200 else self.body[:200] + b"..."
        return f"HostileBody({self.kind!r}, {len(self.body)} bytes: {shown!r})"


def hostile_bodies(topic: Topic, workspace: str | st.SearchStrategy[str] = "ws-hostile") -> st.SearchStrategy[
    HostileBody
]:
    """Bodies for `topic`: random bytes, non-object JSON, empty bodies, invalid UTF-8, nesting, and
    valid bodies with one field broken, removed, or followed by unknown fields."""
    workspaces = workspace if isinstance(workspace, st.SearchStrategy) else st.just(workspace)
    ids = st.lists(st.uuids().map(str), min_size=2, max_size=2)
    bases = st.builds(lambda w, i: valid_body(topic, w, i), workspaces, ids)

    @st.composite
    def broken_field(draw: Callable[..., Any]) -> HostileBody:
        base = draw(bases)
        path = draw(st.sampled_from(_leaf_paths(base)))
        mutation = draw(st.one_of(
            st.builds(Mutation, st.just(path), remove=st.just(True)),  # noqa: FBT003
            st.builds(Mutation, st.just(path), hostile_values),
        ))
        body = _encode(mutation.applied_to(base), ascii_only=draw(st.booleans()))
        return HostileBody(f"{'.'.join(path)} {'removed' if mutation.remove else 'broken'}", body)

    @st.composite
    def unknown_fields(draw: Callable[..., Any]) -> HostileBody:
        extra = draw(st.dictionaries(odd_text, json_values, min_size=1, max_size=3))
        base = draw(bases)
        return HostileBody("unknown fields", _encode(extra | base, ascii_only=draw(st.booleans())))

    @st.composite
    def corrupted_bytes(draw: Callable[..., Any]) -> HostileBody:
        body = _encode(draw(bases), ascii_only=True)
        at = draw(st.integers(0, len(body)))
        junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x00"]))
        cut = draw(st.booleans())
        return HostileBody("truncated" if cut else "invalid UTF-8", body[:at] if cut else body[:at] + junk + body[at:])

    @st.composite
    def nested_field(draw: Callable[..., Any]) -> HostileBody:
        base = draw(bases)
        path = draw(st.sampled_from(_leaf_paths(base)))
        text = _encode(Mutation(path, "\x00NESTED\x00").applied_to(base), ascii_only=True).decode()
        depth = draw(st.integers(1, 100))
        return HostileBody(f"{'.'.join(path)} nested", text.replace('"\\u0000NESTED\\u0000"', nested(depth)).encode())

    non_objects = st.one_of(json_scalars, st.lists(json_values, max_size=3))
    return st.one_of(
        broken_field(),
        unknown_fields(),
        corrupted_bytes(),
        nested_field(),
        st.builds(HostileBody, st.just("random bytes"), st.binary(max_size=64)),
        st.builds(HostileBody, st.just("non-object JSON"), non_objects.map(lambda v: _encode(v, ascii_only=True))),
        st.builds(HostileBody, st.just("object of odd fields"), st.dictionaries(odd_text, json_values).map(
            lambda v: _encode(v, ascii_only=False))),
        st.builds(HostileBody, st.just("empty"), st.sampled_from([b"", b" ", b"\n", b"\x00", b"{}", b"[]", b"null"])),
    )


def fixed_hostile_bodies(topic: Topic, workspace: str, ids: list[str]) -> list[HostileBody]:
    """The bodies too big or too deep for Hypothesis to make: 1 MB strings, 1,000 levels of nesting."""
    base = valid_body(topic, workspace, ids)
    text_field = next(p for p in _leaf_paths(base) if isinstance(_get(base, p), str) and p[-1] != "workspace_id")
    megabyte_ascii = Mutation(text_field, "x" * 1_000_000).applied_to(base)
    megabyte_emoji = Mutation(text_field, "🎁" * 240_000).applied_to(base)
    return [
        HostileBody("1 MB ASCII string", _encode(megabyte_ascii, ascii_only=True)),
        HostileBody("1 MB of emoji", _encode(megabyte_emoji, ascii_only=False)),
        HostileBody("1,000 nested arrays", nested(1000).encode()),
        HostileBody("1,000 nested objects", nested(1000, arrays=False).encode()),
        HostileBody(
            "1,000 nested arrays in a field",
            _encode(Mutation(text_field, "\x00DEEP\x00").applied_to(base), ascii_only=True).replace(
                b'"\\u0000DEEP\\u0000"', nested(1000).encode()
            ),
        ),
        HostileBody("empty body", b""),
        HostileBody("invalid UTF-8 only", b"\xff\xfe\xfd"),
        HostileBody("JSON string", b'"purchase"'),
    ]


TIME_FIELDS = {
    Topic.PURCHASE_REQUESTED: "requested_at", Topic.PAYMENT_COMPLETED: "completed_at",
    Topic.BOOKING_REDEEM_REQUEST: "requested_at", Topic.EXPIRY_TICK: "now",
    Topic.BOOKING_HOLD_REQUEST: "requested_at", Topic.BOOKING_CAPTURE_REQUEST: "requested_at",
}


def valid_edge_bodies(topic: Topic, workspace: str, ids: list[str]) -> list[HostileBody]:
    """Bodies at the edge of what the contract accepts: still valid, so they must be decided, not
    dead-lettered: the last and the first moment a timestamp can name (giftcert_contracts.fields:
    1970 to 9000, so a certificate's life added to it never leaves the calendar), the longest odd reason."""
    base = valid_body(topic, workspace, ids)
    if topic in TIME_FIELDS:
        edges = [("8999-12-31T23:59:59Z", "the last moment the contract accepts (before 9000)"),
                 ("1970-01-01T01:00:00+01:00", "the first moment the contract accepts (1970 in UTC)")]
        return [HostileBody(kind, _encode(Mutation((TIME_FIELDS[topic],), moment).applied_to(base), ascii_only=True))
                for moment, kind in edges]
    reason = "\u202e" + "🎁" * 498 + "\u202c"
    return [HostileBody("500-character reason of emoji and RTL marks",
                        _encode(Mutation(("reason",), reason).applied_to(base), ascii_only=False))]


def _get(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = body
    for key in path:
        value = value[key]
    return value


# --- the consumers' decoding path ---------------------------------------------------------------


@dataclass
class _Record:
    """What `decode_json` reads of FastStream's message: the body bytes."""

    body: bytes


def decode_as_consumer(topic: Topic, body: bytes) -> BaseModel:
    """The body decoded and validated as the topic's subscriber does; raises what it would raise."""
    return MODEL_BY_TOPIC[topic].model_validate(_completed(decode_json(_record(body), None)))


def _completed(step: Coroutine[Any, Any, Any]) -> Any:
    """The result of a coroutine that never waits (as `decode_json`), without an event loop: callable
    from sync tests and from inside a running loop alike."""
    try:
        step.send(None)
    except StopIteration as done:
        return done.value
    step.close()
    raise AssertionError("decode_json waited for something")


def _record(body: bytes) -> Any:
    return _Record(body)


def outcome_of(topic: Topic, body: bytes) -> str:
    """`valid`, or the `error_type` its dead letter carries, or `raises <Exception>` (a bug: the
    message would be retried as a handler failure instead of being dead-lettered at once)."""
    try:
        decode_as_consumer(topic, body)
    except ValidationError as error:
        return describe_failure(error, body)[0]
    except Exception as error:  # noqa: BLE001 - that is what is looked for
        return f"raises {type(error).__name__}"
    return "valid"


def assert_decoded_alike_in_a_batch(topic: Topic, body: bytes) -> None:
    """A record of a batch (`validated`, pydantic's JSON parser first) becomes the same message, or
    the same kind of dead letter, as the same body alone (Python's parser, then validation)."""

    def outcome(decode: Callable[[], BaseModel]) -> BaseModel | str:
        try:
            return decode()
        except ValidationError as error:
            return describe_failure(error, body)[0]

    alone = outcome(lambda: decode_as_consumer(topic, body))
    assert outcome(lambda: validated(MODEL_BY_TOPIC[topic], body)) == alone


def _check_decoding(topic: Topic, hostile: HostileBody) -> None:
    assert_decoded_alike_in_a_batch(topic, hostile.body)
    try:
        decode_as_consumer(topic, hostile.body)
    except ValidationError as error:
        error_type, detail = describe_failure(error, hostile.body)
        assert error_type in DEAD_LETTER_ERROR_TYPES
        assert detail
        assert isinstance(detail, str)
        if topic is Topic.PURCHASE_REQUESTED:
            _answer_invalid_purchase(hostile.body, detail)


def _answer_invalid_purchase(body: bytes, detail: str) -> None:
    """The ledger's answer to an invalid purchase request, on the in-memory store."""
    uow = FakeUnitOfWorkFactory()()
    clock = FixedClock(datetime(2026, 11, 23, 10, tzinfo=UTC))
    reply = asyncio.run(reject_invalid_purchase(body, detail, uow, clock))  # type: ignore[arg-type]
    assert reply is None or reply.reason == "invalid"  # type: ignore[attr-defined]


FUZZ_EXAMPLES = 2000
BODIES_BY_TOPIC = {topic: hostile_bodies(topic) for topic in INBOUND_TOPICS}  # built once: building is not free
FIXED_IDS = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"]
FIXED_KINDS = [hostile.kind for hostile in fixed_hostile_bodies(Topic.VOID, "ws-hostile", FIXED_IDS)]


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_decoding_any_hostile_body_gives_a_message_or_a_validation_error_for_every_inbound_topic(
    data: st.DataObject, reliability: Any
) -> None:
    if not reliability.trials:
        reliability.record(
            "hostile bodies decoded as the consumers do, no broker (Hypothesis)",
            injected=0,
            invariants=["a valid message or a pydantic ValidationError, nothing else",
                        "the dead letter's error_type/error_detail are describable",
                        "an invalid purchase is answered (or not) without raising"],
        )
    reliability.trials[0].injected += 1
    topic = data.draw(st.sampled_from(INBOUND_TOPICS), label="topic")
    hostile = data.draw(BODIES_BY_TOPIC[topic], label="body")
    _check_decoding(topic, hostile)


@pytest.mark.parametrize("kind", FIXED_KINDS)
def test_huge_deep_and_empty_bodies_fail_validation_and_raise_nothing_else_on_every_topic(kind: str) -> None:
    outcomes = {}
    for topic in INBOUND_TOPICS:
        (hostile,) = [h for h in fixed_hostile_bodies(topic, "ws-hostile", FIXED_IDS) if h.kind == kind]
        outcomes[str(topic)] = outcome_of(topic, hostile.body)
    assert {t: o for t, o in outcomes.items() if o not in DEAD_LETTER_ERROR_TYPES} == {}


@pytest.mark.parametrize("kind", FIXED_KINDS)
def test_a_record_of_a_batch_decodes_as_the_same_body_alone_would(kind: str) -> None:
    for topic in INBOUND_TOPICS:
        (hostile,) = [h for h in fixed_hostile_bodies(topic, "ws-hostile", FIXED_IDS) if h.kind == kind]
        assert_decoded_alike_in_a_batch(topic, hostile.body)


@pytest.mark.parametrize("topic", INBOUND_TOPICS, ids=str)
def test_text_only_python_parses_is_decoded_alike_in_a_batch(topic: Topic) -> None:
    body = valid_body(topic, "ws-hostile", FIXED_IDS) | {"note": "\ud800", "ratio": float("nan")}
    assert_decoded_alike_in_a_batch(topic, json.dumps(body).encode())  # a lone surrogate, NaN


@pytest.mark.parametrize("topic", INBOUND_TOPICS, ids=str)
def test_the_valid_bodies_the_strategies_break_are_accepted_as_they_are(topic: Topic) -> None:
    assert outcome_of(topic, json.dumps(valid_body(topic, "ws-hostile", FIXED_IDS)).encode()) == "valid"


@pytest.mark.parametrize("topic", INBOUND_TOPICS, ids=str)
def test_bodies_at_the_edge_of_the_contract_are_accepted(topic: Topic) -> None:
    edges = valid_edge_bodies(topic, "ws-hostile", FIXED_IDS)
    assert {h.kind: outcome_of(topic, h.body) for h in edges} == {h.kind: "valid" for h in edges}
