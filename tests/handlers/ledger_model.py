"""A small model of the contract's "Rules the outcomes follow" (../shared/CONTRACT.md), for the stateful
property test in test_ledger_state_machine.py. It is written from the contract, not from the code under
test: it imports nothing from giftcert, so a rule broken in the code cannot be broken here in the same way.

Each method takes one command as the handler sees it, updates the model and returns what the contract
says the outcome must be: None for an accepted command, else the refusal's reason code.

Where the contract leaves an order open, the model picks the one a careful integrator expects: a refusal
by status (voided, redeemed...) before one by time, a currency mismatch before an amount comparison, and
the guessing limits (per order, per workspace) before any certificate is looked up (domain/guessing.py)."""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

WORKSPACE_CURRENCY = "EUR"
MIN_MINOR = 1000  # the workspace defaults the handler suite's `configure` keeps
MAX_MINOR = 100000
EXPIRY = timedelta(days=30)  # steps.EXPIRY_DAYS
REMINDER_WINDOW = timedelta(days=7)  # steps.REMINDER_DAYS
PENDING_FOR = timedelta(days=7)  # the pending_days the machine sets (v2): then a tick voids it as unpaid
GUESSES_PER_ORDER = 5
GUESSES_PER_WORKSPACE = 100
GUESSING_WINDOW = timedelta(minutes=10)

PENDING, ACTIVE, REDEEMED, VOIDED, EXPIRED = "pending", "active", "redeemed", "voided", "expired"
PARKED = "parked"
REPEAT = "repeat"

_STATUS_REFUSES_REDEMPTION = {
    PENDING: "not_active", REDEEMED: "already_redeemed", VOIDED: "voided", EXPIRED: "expired",
}
_STATUS_REFUSES_VOID = {
    PENDING: "not_active", REDEEMED: "already_redeemed", VOIDED: "already_voided", EXPIRED: "expired",
}


def canonical_code(typed: str) -> str:
    """What a typed code matches: case, spaces and dashes do not count."""
    return re.sub(r"[\s\-]+", "", typed).upper()


@dataclass
class ModelPayment:
    payment_id: str
    minor: int
    currency: str
    parked_at: datetime


@dataclass
class ModelCertificate:
    certificate_id: UUID
    minor: int
    currency: str
    channel: str
    code: str = ""
    """As stored: the test learns it from the store, as the recipient does from the PDF."""
    status: str = PENDING
    expires_at: datetime | None = None
    paid: bool = False
    reminded: bool = False
    activity: list[str] = field(default_factory=list)
    redemptions: int = 0
    created_at: datetime | None = None

    @property
    def balance(self) -> int:
        """The value ledger: what was issued at payment, until a redemption debits it in full. Void
        and expiry move no value (the ledger records issues and debits only)."""
        return self.minor if self.paid and self.status != REDEEMED else 0

    def expired_by(self, moment: datetime) -> bool:
        return self.expires_at is not None and moment >= self.expires_at


@dataclass
class LedgerModel:
    certificates: dict[UUID, ModelCertificate] = field(default_factory=dict)
    refused_purchases: set[UUID] = field(default_factory=set)
    parked: dict[UUID, list[ModelPayment]] = field(default_factory=dict)
    payment_ids: set[str] = field(default_factory=set)
    unknown_code_failures: list[tuple[str, datetime]] = field(default_factory=list)
    """(order_id, when) of each unknown code that was looked up (refused attempts are not counted)."""

    # --- purchase-requested, payment-completed ----------------------------------------------------

    def purchase(
        self, certificate_id: UUID, *, minor: int, currency: str, channel: str, now: datetime
    ) -> tuple[str | None, list[tuple[str, str | None]]]:
        """The decision, and the payments that came before the request, settled in its transaction:
        (payment_id, refusal or None for the one that activated)."""
        refusal = None
        if currency != WORKSPACE_CURRENCY:
            refusal = "currency_not_supported"
        elif not MIN_MINOR <= minor <= MAX_MINOR:
            refusal = "amount_out_of_range"
        early = sorted(self.parked.pop(certificate_id, []), key=lambda p: (p.parked_at, p.payment_id))
        if refusal is not None:
            self.refused_purchases.add(certificate_id)
            return refusal, [(p.payment_id, "unknown_certificate") for p in early]
        certificate = ModelCertificate(certificate_id, minor, currency, channel, created_at=now)
        certificate.activity += ["created", "purchased_from_portal"] if channel == "portal" else ["created"]
        self.certificates[certificate_id] = certificate
        return None, [(p.payment_id, self._settle(certificate, p, now)) for p in early]

    def pay(self, certificate_id: UUID, *, payment_id: str, minor: int, currency: str, now: datetime) -> str | None:
        """None when the payment activated its certificate; PARKED when no certificate has this id yet
        (the purchase request may still come); REPEAT for a payment_id already handled; else the refusal,
        `unknown_certificate` at once when the purchase request of this id was refused (decision 7)."""
        if payment_id in self.payment_ids:
            return REPEAT
        self.payment_ids.add(payment_id)
        payment = ModelPayment(payment_id, minor, currency, now)
        certificate = self.certificates.get(certificate_id)
        if certificate is None and certificate_id in self.refused_purchases:
            return "unknown_certificate"
        if certificate is None:
            self.parked.setdefault(certificate_id, []).append(payment)
            return PARKED
        return self._settle(certificate, payment, now)

    def _settle(self, certificate: ModelCertificate, payment: ModelPayment, now: datetime) -> str | None:
        if certificate.status != PENDING:
            return "not_pending"
        if payment.currency != certificate.currency:
            return "currency_mismatch"
        if payment.minor != certificate.minor:
            return "amount_mismatch"
        certificate.status, certificate.paid, certificate.expires_at = ACTIVE, True, now + EXPIRY
        certificate.activity += ["purchased", "activated_from_portal"] if certificate.channel == "portal" else [
            "purchased"
        ]
        return None

    # --- booking-redeem-request ------------------------------------------------------------------

    def redeem(
        self, *, order_id: str, code: str, total_minor: int, total_currency: str, requested_at: datetime,
        now: datetime,
    ) -> tuple[str | None, ModelCertificate | None]:
        """The refusal (None when redeemed) and the certificate the code names, if any."""
        since = now - GUESSING_WINDOW
        recent = [(order, moment) for order, moment in self.unknown_code_failures if moment > since]
        of_order = [moment for order, moment in recent if order == order_id]
        if len(of_order) >= GUESSES_PER_ORDER or len(recent) >= GUESSES_PER_WORKSPACE:
            return "too_many_attempts", None
        typed = canonical_code(code)
        certificate = next((c for c in self.certificates.values() if c.code == typed), None)
        if certificate is None:
            self.unknown_code_failures = [*recent, (order_id, now)]
            return "not_found", None
        refusal = _STATUS_REFUSES_REDEMPTION.get(certificate.status)
        if refusal is None and (certificate.expired_by(requested_at) or certificate.expired_by(now)):
            refusal = "expired"
        if refusal is None and total_currency != certificate.currency:
            refusal = "currency_mismatch"
        if refusal is None and certificate.minor > total_minor:
            refusal = "exceeds_order_total"
        if refusal is None:
            certificate.status = REDEEMED
            certificate.redemptions += 1
            certificate.activity.append("redeemed")
        return refusal, certificate

    # --- void, reactivate, expiry-tick -------------------------------------------------------------

    def void(self, certificate_id: UUID) -> str | None:
        """By status: an active certificate whose expiry passed but that no tick has expired yet may
        still be voided (the contract's `expired` void refusal names the status)."""
        certificate = self.certificates.get(certificate_id)
        if certificate is None:
            return "not_found"
        refusal = _STATUS_REFUSES_VOID.get(certificate.status)
        if refusal is None:
            certificate.status = VOIDED
            certificate.activity.append("voided")
        return refusal

    def reactivate(self, certificate_id: UUID, *, now: datetime) -> str | None:
        certificate = self.certificates.get(certificate_id)
        if certificate is None:
            return "not_found"
        if certificate.status != VOIDED:
            return "not_voided"
        if not certificate.paid:
            return "unpaid"
        if certificate.expired_by(now):
            return "expired"
        certificate.status = ACTIVE
        certificate.activity.append("reactivated")
        return None

    def tick(self, now: datetime) -> tuple[list[UUID], list[UUID], list[UUID]]:
        """The certificates that expire at this tick, those that get their one expiring-soon
        reminder, each soonest expiry first, then in id order (the order the store works in), and
        those voided as unpaid (pending for longer than PENDING_FOR, v2)."""
        active = sorted(
            (c for c in self.certificates.values() if c.status == ACTIVE),
            key=lambda c: (c.expires_at, c.certificate_id),
        )
        expiring = [c for c in active if c.expired_by(now)]
        for certificate in expiring:
            certificate.status = EXPIRED
            certificate.activity.append("expired")
        reminded = [
            c for c in active
            if c.status == ACTIVE and not c.reminded and c.expires_at is not None
            and now < c.expires_at <= now + REMINDER_WINDOW
        ]
        for certificate in reminded:
            certificate.reminded = True
        unpaid = [
            c for c in self.certificates.values()
            if c.status == PENDING and c.created_at is not None and c.created_at < now - PENDING_FOR
        ]
        for certificate in unpaid:
            certificate.status = VOIDED
            certificate.activity.append("voided")
        return (
            [c.certificate_id for c in expiring], [c.certificate_id for c in reminded],
            [c.certificate_id for c in unpaid],
        )
