"""The decisions of the contract's "Rules the outcomes follow", as pure functions.

Each returns None when the command may proceed, or the refusal (a contract reason code and a
detail for people). Nothing here reads a clock or a store: the caller passes what is needed.
Details never contain a redemption code.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from giftcert.domain.certificate import Certificate, Status
from giftcert.domain.money import Amount
from giftcert.domain.product import Product, offered_products
from giftcert.domain.workspace import WorkspaceSettings


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
) -> Refusal | Sale:
    """A workspace without active products sells any amount in its range, and a certificate bought in
    a segment redeems only in it. With products, the purchase must fit one offered to the buyer's
    segment; the product says whether redemption is restricted to that segment. `printed`: the
    customer's text the certificate prints (names, message), refused by `refuse_unprintable` with
    `first_unprintable` (the fonts' rule, rendering/fonts.py, which the ledger passes in)."""
    if (unprintable := refuse_unprintable(printed, first_unprintable)) is not None:
        return unprintable
    if channel == "portal" and not workspace.portal_enabled:
        return Refusal("portal_disabled", "the public portal is disabled for this workspace")
    if amount.currency != workspace.currency:
        return Refusal(
            "currency_not_supported",
            f"this workspace sells certificates in {workspace.currency}, not {amount.currency}",
        )
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
) -> Refusal | None:
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
    if certificate.amount.minor > order_total.minor:
        return Refusal(
            "exceeds_order_total",
            "the certificate is worth more than the order total and must be used in full",
        )
    return None


_VOID_REFUSAL_BY_STATUS = {
    Status.PENDING: Refusal("not_active", "a pending certificate cannot be voided"),
    Status.REDEEMED: Refusal("already_redeemed", "the certificate has already been used"),
    Status.VOIDED: Refusal("already_voided", "the certificate is already voided"),
    Status.EXPIRED: Refusal("expired", "the certificate has expired"),
}


def refuse_void(certificate: Certificate | None) -> Refusal | None:
    if certificate is None:
        return Refusal("not_found", "no certificate with this id in this workspace")
    return _VOID_REFUSAL_BY_STATUS.get(certificate.status)


def refuse_reactivation(certificate: Certificate | None, *, now: datetime) -> Refusal | None:
    if certificate is None:
        return Refusal("not_found", "no certificate with this id in this workspace")
    if certificate.status is not Status.VOIDED:
        return Refusal("not_voided", f"only a voided certificate can be reactivated, not {certificate.status}")
    if certificate.has_expired_by(now):
        return Refusal("expired", "the certificate's expiry date has passed")
    return None
