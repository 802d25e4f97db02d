"""The decisions of the contract's "Rules the outcomes follow", as pure functions.

Each returns None when the command may proceed, or the refusal (a contract reason code and a
detail for people). Nothing here reads a clock or a store: the caller passes what is needed.
Details never contain a redemption code.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from giftcert.domain.certificate import Certificate, Kind, Status
from giftcert.domain.hold import Hold, HoldState
from giftcert.domain.money import Amount
from giftcert.domain.product import Product, offered_products
from giftcert.domain.workspace import RedemptionMode, WorkspaceSettings


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Sale:
    """What an accepted purchase is sold as: its product (None when the workspace has no products)
    and the segment its redemption is restricted to (None: any segment)."""

    product: Product | None
    redeemable_segment: str | None


def decide_purchase(  # noqa: PLR0911 - one return per refusal the contract names
    workspace: WorkspaceSettings,
    *,
    amount: Amount,
    channel: str,
    segment: str | None,
    products: Sequence[Product] = (),
    printed: Sequence[str | None] = (),
    first_unprintable: Callable[[str], str | None] = lambda _: None,
    kind: Kind = "purchased",
) -> Refusal | Sale:
    """A workspace without active products sells any amount in its range, and a certificate bought in
    a segment redeems only in it. With products, the purchase must fit one offered to the buyer's
    segment; the product says whether redemption is restricted to that segment. `printed`: the
    customer's text the certificate prints (names, message), refused by `refuse_unprintable` with
    `first_unprintable` (the fonts' rule, rendering/fonts.py, which the ledger passes in). A
    `promotional` or `credit` certificate is not sold: in the workspace's currency, any amount, no
    product (what an operator may issue is the contract's rule, PurchaseRequested)."""
    if (unprintable := refuse_unprintable(printed, first_unprintable)) is not None:
        return unprintable
    if channel == "portal" and not workspace.portal_enabled:
        return Refusal("portal_disabled", "the public portal is disabled for this workspace")
    if amount.currency != workspace.currency:
        return Refusal(
            "currency_not_supported",
            f"this workspace sells certificates in {workspace.currency}, not {amount.currency}",
        )
    if kind != "purchased":
        return Sale(product=None, redeemable_segment=segment)
    if not workspace.min_minor <= amount.minor <= workspace.max_minor:
        return Refusal(
            "amount_out_of_range",
            f"the amount must be between {workspace.min_minor} and {workspace.max_minor} minor units",
        )
    selling = [p for p in products if p.active]
    if not selling:
        return Sale(product=None, redeemable_segment=segment)
    fitting = [p for p in selling if p.offers_amount(amount.minor)]
    if not fitting:
        return Refusal(
            "amount_out_of_range", f"no certificate product of this workspace is sold at {amount.minor} minor units"
        )
    offered = offered_products(fitting, segment)
    if not offered:
        return Refusal(
            "segment_not_allowed",
            "certificates of this amount are not offered to this customer segment"
            if segment is not None else "certificates of this amount are offered to customer segments only",
        )
    product = offered[0]
    return Sale(product=product, redeemable_segment=segment if product.segment_restricted_redemption else None)


def refuse_unprintable(texts: Sequence[str | None], first_unprintable: Callable[[str], str | None]) -> Refusal | None:
    """`invalid`, naming the character, when no font of the certificate prints one (an emoji, an
    unassigned code point, a control character): it would print as a box or not at all."""
    for text in texts:
        if text and (character := first_unprintable(text)) is not None:
            return Refusal(
                "invalid",
                f"the certificate cannot print the character {character!r} (U+{ord(character):04X}): "
                "names and messages may use letters, digits and punctuation of any script, but no emoji",
            )
    return None


def refuse_payment(certificate: Certificate | None, *, amount: Amount) -> Refusal | None:
    if certificate is None:
        return Refusal("unknown_certificate", "no certificate with this id in this workspace")
    if certificate.status is not Status.PENDING:
        return Refusal("not_pending", f"the certificate is {certificate.status}, not pending")
    if amount.currency != certificate.amount.currency:
        return Refusal(
            "currency_mismatch",
            f"paid in {amount.currency}, the certificate is in {certificate.amount.currency}",
        )
    if amount.minor != certificate.amount.minor:
        return Refusal(
            "amount_mismatch",
            f"paid {amount.minor}, the certificate costs {certificate.amount.minor} minor units",
        )
    return None


_REDEEM_REFUSAL_BY_STATUS = {
    Status.PENDING: Refusal("not_active", "the certificate has not been paid for yet"),
    Status.REDEEMED: Refusal("already_redeemed", "the certificate has already been used"),
    Status.VOIDED: Refusal("voided", "the certificate has been voided"),
    Status.EXPIRED: Refusal("expired", "the certificate has expired"),
}


def refuse_redemption(  # noqa: PLR0911 - one return per refusal the contract names
    certificate: Certificate | None,
    *,
    order_total: Amount,
    segment: str | None,
    requested_at: datetime,
    now: datetime,
    whole_value: bool = True,
) -> Refusal | None:
    """`whole_value`: v1's check that the certificate's value fits the order (else the amount's
    rules, `amount_to_apply`, decide)."""
    if certificate is None:
        return Refusal("not_found", "no certificate matches this code")
    if (by_status := _REDEEM_REFUSAL_BY_STATUS.get(certificate.status)) is not None:
        return by_status
    if certificate.has_expired_by(requested_at) or certificate.has_expired_by(now):
        return Refusal("expired", "the certificate has expired")
    if certificate.segment is not None and segment != certificate.segment:
        return Refusal("segment_not_allowed", "the certificate is not valid for this segment")
    if order_total.currency != certificate.amount.currency:
        return Refusal(
            "currency_mismatch",
            f"the order is in {order_total.currency}, the certificate in "
            f"{certificate.amount.currency}",
        )
    if whole_value and certificate.amount.minor > order_total.minor:
        return Refusal(
            "exceeds_order_total",
            "the certificate is worth more than the order total and must be used in full",
        )
    return None


def amount_to_apply(  # noqa: PLR0911 - one return per refusal the contract names
    certificate: Certificate,
    *,
    mode: RedemptionMode,
    requested: tuple[int, str] | None,
    order_total: Amount,
    order_applied: int,
    held: int = 0,
    whole_order: bool | None = None,
) -> Refusal | Amount:
    """What a redemption or a hold the other rules allow applies (or reserves), or why not (contract
    v2). `requested`: the request's amount (minor, currency) if it gave one; `order_applied`: what
    the order has received or holds already (its certificates' applied value, net of refunds, and
    live holds); `held`: what the certificate's live holds reserve (available = balance - held).
    `full` mode applies the whole balance (a certificate's value until a `partial` workspace used
    part of it); `partial` applies what was asked, by default the lesser of what is available and
    what the order still owes. `whole_order`: whether `order_applied` counts (by default in
    `partial` mode only: `full` keeps v1's rule for redeems, the request's own order total;
    holds count it in both modes).
    Precedence: exceeds_order_total, exceeds_order_due, insufficient_balance."""
    balance = certificate.balance_minor
    available = balance - held
    if balance <= 0:
        return Refusal("already_redeemed", "nothing is left on the certificate")
    currency = certificate.amount.currency
    if requested is not None:
        minor, requested_currency = requested
        if minor <= 0 or requested_currency != currency:
            return Refusal("invalid_amount", f"the amount must be positive and in {currency}")
        if mode == "full" and minor != balance:
            return Refusal(
                "invalid_amount", f"this workspace redeems certificates in full: the amount must be {balance}"
            )
    # `full` keeps v1's rule (a workspace that changes nothing behaves as v1): each request's own
    # order_total, whatever other certificates paid on the order (decision 26)
    counts_order = mode == "partial" if whole_order is None else whole_order
    due = order_total.minor - (order_applied if counts_order else 0)
    if mode == "full":
        amount = balance
    elif requested is not None:
        amount = requested[0]
    else:
        amount = min(available, due)
    if amount > order_total.minor or order_total.minor == 0:
        return Refusal(
            "exceeds_order_total",
            "the certificate is worth more than the order total and must be used in full"
            if mode == "full" else "the amount is more than the order total",
        )
    if amount > due or due <= 0:
        return Refusal("exceeds_order_due", f"the order's other certificates cover it: it still owes {max(due, 0)}")
    if amount > available or amount <= 0:
        return Refusal("insufficient_balance", f"the certificate has {max(available, 0)} available")
    return Amount(amount, currency)


def refuse_refund(
    certificate: Certificate | None,
    *,
    applied: Amount | None,
    refunded_before: int,
    amount: Amount,
    mode: RedemptionMode,
) -> Refusal | None:
    """A refund of `amount` of a redemption that `applied` (None: no redemption of that id on that
    order) to `certificate`, of which `refunded_before` was refunded already. Precedence:
    unknown_redemption, voided, currency_mismatch, exceeds_redeemed, partial_refund_not_allowed
    (`full` mode gives back the whole redemption at once, or nothing)."""
    if applied is None or certificate is None:
        return Refusal("unknown_redemption", "no redemption with this id on this order")
    if certificate.status is Status.VOIDED:
        return Refusal("voided", "the certificate is voided: issue a credit certificate instead")
    if amount.currency != applied.currency:
        return Refusal("currency_mismatch", f"the redemption was in {applied.currency}, not {amount.currency}")
    if refunded_before + amount.minor > applied.minor:
        return Refusal(
            "exceeds_redeemed",
            f"the redemption applied {applied.minor} and {refunded_before} of it is refunded already",
        )
    if mode == "full" and amount.minor != applied.minor:
        return Refusal(
            "partial_refund_not_allowed",
            f"this workspace refunds a redemption in full: the amount must be {applied.minor}",
        )
    return None


_VOID_REFUSAL_BY_STATUS = {
    Status.PENDING: Refusal("not_active", "a pending certificate cannot be voided"),
    Status.REDEEMED: Refusal("already_redeemed", "the certificate has already been used"),
    Status.VOIDED: Refusal("already_voided", "the certificate is already voided"),
    Status.EXPIRED: Refusal("expired", "the certificate has expired"),
}


def refuse_void(certificate: Certificate | None, *, held: int = 0) -> Refusal | None:
    """`held`: what the certificate's live holds reserve (v2: a held certificate is not voided)."""
    if certificate is None:
        return Refusal("not_found", "no certificate with this id in this workspace")
    if (by_status := _VOID_REFUSAL_BY_STATUS.get(certificate.status)) is not None:
        return by_status
    if held > 0:
        return Refusal("held", f"{held} is held for an order: release or capture the hold first")
    return None


def refuse_reactivation(certificate: Certificate | None, *, now: datetime) -> Refusal | None:
    if certificate is None:
        return Refusal("not_found", "no certificate with this id in this workspace")
    if certificate.status is not Status.VOIDED:
        return Refusal("not_voided", f"only a voided certificate can be reactivated, not {certificate.status}")
    if not certificate.was_paid:
        return Refusal("unpaid", "the certificate was voided as never paid: issue a new one")
    if certificate.has_expired_by(now):
        return Refusal("expired", "the certificate's expiry date has passed")
    return None


_HOLD_ENDED = {
    HoldState.CAPTURED: Refusal("already_captured", "the hold has been captured"),
    HoldState.RELEASED: Refusal("hold_released", "the hold has been released"),
    HoldState.EXPIRED: Refusal("hold_expired", "the hold has expired"),
}


def refuse_ended_hold(hold: Hold | None, *, now: datetime) -> Refusal | None:
    """Why a capture or a release cannot use this hold: unknown, ended, or past its `expires_at` by
    `now` (a hold expires at that moment, before any tick marks it)."""
    if hold is None:
        return Refusal("unknown_hold", "no hold with this id in this workspace")
    if (ended := _HOLD_ENDED.get(hold.state)) is not None:
        return ended
    if not hold.is_live(now):
        return _HOLD_ENDED[HoldState.EXPIRED]
    return None
