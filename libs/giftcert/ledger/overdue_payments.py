"""Parked payments whose grace period is over: each is settled now, which refuses it as
`unknown_certificate` (the payment system refunds) unless its certificate has appeared meanwhile."""

from datetime import timedelta

from giftcert.clock import Clock
from giftcert.ledger.settlement import settle_payment
from giftcert.ports import UnitOfWork


async def settle_overdue_payments(uow: UnitOfWork, clock: Clock, *, grace: timedelta, batch_size: int) -> int:
    """One batch in one transaction; returns how many payments were settled."""
    async with uow:
        now = clock.now()
        payments = await uow.parked_payments.take_overdue(now - grace, batch_size)
        for payment in payments:
            await settle_payment(uow, payment, now)
        await uow.commit()
    return len(payments)
