"""A certificate's details as the console shows them, on the fake store and on PostgreSQL: its value
history is its ledger entries oldest first (signed amounts, the order each names), and what is
available is its balance less its live holds, by the balance inquiry's own rule."""

from giftcert.operations.details import certificate_details
from giftcert.ports import NewUnitOfWork
from giftcert.store.ledger import EntryKind
from tests.fakes import FixedClock
from tests.handlers.hold_steps import eur, placed
from tests.handlers.steps import active, configure, redeemed


async def test_the_value_history_is_the_ledgers_entries_with_their_signs_and_orders(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    used = await redeemed(new_uow, clock, shop)
    details = await certificate_details(new_uow(), shop, used.id, now=clock.now())
    history = [(e.kind, e.amount.minor, e.order_id) for e in details.entries]
    assert history == [(EntryKind.ISSUED, used.amount.minor, None),
                       (EntryKind.REDEEMED, -used.amount.minor, "order-1")]
    assert details.available is not None
    assert details.available.minor == details.certificate.balance_minor == 0


async def test_what_live_holds_reserve_is_not_available_on_the_certificates_page(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    await configure(new_uow, clock, shop, redemption_mode="partial")
    certificate = await active(new_uow, clock, shop)
    await placed(new_uow, clock, shop, certificate.code, order_total=eur(1200))
    details = await certificate_details(new_uow(), shop, certificate.id, now=clock.now())
    assert details.certificate.balance_minor == certificate.amount.minor
    assert details.available is not None
    assert details.available.minor == certificate.amount.minor - 1200
    assert [(e.kind, e.amount.minor) for e in details.entries] == [
        (EntryKind.ISSUED, certificate.amount.minor), (EntryKind.HOLD, -1200)]
    assert (await certificate_details(new_uow(), shop, certificate.id)).available is None  # no `now`: not asked
