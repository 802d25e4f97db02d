"""Inbound request bodies as the contract's callers send them, with sensible defaults."""

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4


def now_text() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def purchase(workspace_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "certificate_id": str(uuid4()),
        "amount": {"minor": 5000, "currency": "EUR"},
        "purchaser": {"name": "Pat Purchaser", "email": "pat@example.com"},
        "recipient": {"name": "Robin Recipient", "email": "robin@example.com"},
        "message": "Happy travels!",
        "channel": "portal",
        "requested_at": now_text(),
    } | overrides


def payment(workspace_id: str, certificate_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "payment_id": f"pay-{uuid4()}",
        "certificate_id": certificate_id,
        "amount": {"minor": 5000, "currency": "EUR"},
        "completed_at": now_text(),
    } | overrides


def redeem(workspace_id: str, code: str, **overrides: Any) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "request_id": str(uuid4()),
        "order_id": f"order-{uuid4().hex[:8]}",
        "code": code,
        "order_total": {"minor": 12000, "currency": "EUR"},
        "requested_at": now_text(),
    } | overrides


def void(workspace_id: str, certificate_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "request_id": str(uuid4()),
        "certificate_id": certificate_id,
        "reason": "customer asked for a refund",
        "actor": "operator@example.com",
    } | overrides


def reactivate(workspace_id: str, certificate_id: str, **overrides: Any) -> dict[str, Any]:
    return void(workspace_id, certificate_id, reason="refund cancelled") | overrides


def tick(workspace_id: str, now: str, **overrides: Any) -> dict[str, Any]:
    return {"workspace_id": workspace_id, "tick_id": str(uuid4()), "now": now} | overrides


def hold(workspace_id: str, code: str, **overrides: Any) -> dict[str, Any]:
    """v2: a booking-hold-request (its request_id becomes the hold_id)."""
    return redeem(workspace_id, code) | overrides


def capture(workspace_id: str, hold_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "request_id": str(uuid4()),
        "hold_id": hold_id,
        "requested_at": now_text(),
    } | overrides


def release(workspace_id: str, hold_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "request_id": str(uuid4()),
        "hold_id": hold_id,
        "reason": "checkout abandoned",
    } | overrides
