"""What counts as the same request under an idempotency key: the validated request without its key,
the service's timestamps and the actor, whatever the JSON's spelling."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from giftcert.messaging.request_keys import fingerprint
from giftcert_contracts.inbound import PurchaseRequested, VoidCertificate

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def purchase(**changes: Any) -> PurchaseRequested:
    fields: dict[str, Any] = {
        "workspace_id": "w", "certificate_id": uuid4(), "amount": {"minor": 5000, "currency": "EUR"},
        "purchaser": {"name": "Pat", "email": "pat@example.com"},
        "recipient": {"name": "Robin", "email": "robin@example.com"},
        "channel": "portal", "requested_at": NOW,
    }
    return PurchaseRequested.model_validate(fields | changes)


def test_a_purchase_sent_again_later_or_with_another_id_is_the_same_request() -> None:
    first = purchase()
    assert fingerprint(first, key_field="certificate_id") == fingerprint(
        purchase(requested_at=NOW + timedelta(hours=1), certificate_id=uuid4(), message=None),
        key_field="certificate_id",
    )


def test_another_amount_recipient_channel_or_message_is_another_request() -> None:
    same = fingerprint(purchase(), key_field="certificate_id")
    others = [
        purchase(amount={"minor": 5001, "currency": "EUR"}),
        purchase(recipient={"name": "Robin", "email": "sam@example.com"}),
        purchase(channel="admin"),
        purchase(message="Enjoy"),
    ]
    assert all(fingerprint(other, key_field="certificate_id") != same for other in others)


def test_a_void_by_another_operator_is_the_same_request_but_not_with_another_reason() -> None:
    def void(**changes: Any) -> VoidCertificate:
        fields = {"workspace_id": "w", "request_id": uuid4(), "certificate_id": uuid4(), "reason": "r", "actor": "a"}
        return VoidCertificate.model_validate(fields | changes)

    certificate_id = uuid4()
    first = fingerprint(void(certificate_id=certificate_id), key_field="request_id")
    assert fingerprint(void(certificate_id=certificate_id, actor="b"), key_field="request_id") == first
    assert fingerprint(void(certificate_id=certificate_id, reason="s"), key_field="request_id") != first


def test_a_body_is_compared_by_its_fields_not_by_their_order() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1, "b": [1, 2]}) != fingerprint({"a": 1, "b": [2, 1]})
