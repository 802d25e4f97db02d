"""The sales report's v2 figures on PostgreSQL, after the ledger's own handlers moved value: liability
and breakage are balances (value - applied + refunded), not values, by kind; value redeemed and
refunded is counted in the period it happened in.

One `partial` workspace with expiry_days 30 and three certificates issued 2025-01-10 10:00 UTC:
purchased P EUR 50, promotional M EUR 20, credit C EUR 30 (so each expires 2025-02-09 10:00)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from giftcert.domain.certificate import Status
from giftcert.ledger.capture import capture_holds
from giftcert.ledger.expiry import check_expiries
from giftcert.ledger.hold import hold_certificates
from giftcert.ledger.payment import activate_certificate
from giftcert.ledger.purchase import create_certificate
from giftcert.ledger.redemption import redeem_certificate
from giftcert.ledger.refund import refund_certificate
from giftcert.operations.reports import SalesReport, sales_report
from giftcert.store.certificates import KEPT_BALANCE, CertificateRepository
from giftcert.store.ledger import LedgerRepository
from giftcert.store.schema import certificates
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.inbound import (
    CaptureHold,
    CheckExpiries,
    HoldCertificate,
    PaymentCompleted,
    PurchaseRequested,
    RedeemCertificate,
    RefundCertificate,
)
from giftcert_contracts.outbound import CertificateRedeemed, CertificateRefunded, HoldPlaced
from giftcert_services.integrator import requests as messages
from tests.fakes import FixedClock
from tests.integration.test_reports import certificate, insert
from tests.scenario import code_of, configure

pytestmark = pytest.mark.integration

ISSUED = datetime(2025, 1, 10, 10, 0, tzinfo=UTC)
JANUARY, FEBRUARY = (date(2025, 1, 1), date(2025, 1, 31)), (date(2025, 2, 1), date(2025, 2, 28))


def eur(minor: int) -> dict[str, Any]:
    return {"minor": minor, "currency": "EUR"}


def _text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class Shop:
    db: AsyncEngine
    workspace: str
    clock: FixedClock
    factory: UnitOfWorkFactory
    codes: dict[str, str]
    """Kind -> the code of that kind's certificate."""
    ids: dict[str, UUID]

    async def at(self, moment: datetime) -> None:
        self.clock.advance(moment - self.clock.now())

    async def redeem(self, kind: str, minor: int) -> CertificateRedeemed:
        body = messages.redeem(self.workspace, self.codes[kind], amount=eur(minor),
                               requested_at=_text(self.clock.now()))
        reply = await redeem_certificate(RedeemCertificate.model_validate(body), self.factory(), self.clock)
        assert isinstance(reply, CertificateRedeemed), reply
        return reply

    async def refund(self, redemption: CertificateRedeemed, minor: int) -> CertificateRefunded:
        body = messages.refund(self.workspace, redemption.order_id, str(redemption.request_id), amount=eur(minor),
                               requested_at=_text(self.clock.now()))
        reply = await refund_certificate(RefundCertificate.model_validate(body), self.factory(), self.clock)
        assert isinstance(reply, CertificateRefunded), reply
        return reply

    async def tick(self) -> int:
        tick = CheckExpiries.model_validate(messages.tick(self.workspace, _text(self.clock.now())))
        return await check_expiries(tick, self.factory, batch_size=100)

    async def report(self, period: tuple[date, date]) -> SalesReport:
        async with self.db.connect() as connection:
            return await sales_report(connection, self.workspace, start=period[0], end=period[1], currency="EUR")


async def _issue(shop: Shop, kind: str, minor: int, **extra: Any) -> None:
    admin = {"channel": "admin", "reason": "a goodwill gesture"} if kind != "purchased" else {}
    body = messages.purchase(shop.workspace, amount=eur(minor), requested_at=_text(ISSUED), kind=kind,
                             **admin, **extra)
    command = PurchaseRequested.model_validate(body)
    await create_certificate(command, shop.factory(), shop.clock)
    if kind == "purchased":
        payment = messages.payment(shop.workspace, str(command.certificate_id), amount=eur(minor),
                                   completed_at=_text(ISSUED))
        await activate_certificate(PaymentCompleted.model_validate(payment), shop.factory(), shop.clock)
    shop.ids[kind] = command.certificate_id
    shop.codes[kind] = await code_of(shop.db, command.certificate_id)


async def opened_shop(db: AsyncEngine, workspace: str) -> Shop:
    """The workspace of the module's docstring, its three certificates issued, the clock at ISSUED."""
    await configure(db, workspace, redemption_mode="partial", expiry_days=30)
    made = Shop(db, workspace, FixedClock(ISSUED), UnitOfWorkFactory(db, event_source="urn:test"), {}, {})
    await _issue(made, "purchased", 5000)
    await _issue(made, "promotional", 2000)
    await _issue(made, "credit", 3000, replaces_order_id="order-cancelled-tour")
    return made


@pytest.fixture
async def shop(db: AsyncEngine, workspace: str) -> Shop:
    return await opened_shop(db, workspace)


async def test_liability_is_the_balances_by_kind_before_anything_is_redeemed(shop: Shop) -> None:
    report = await shop.report(JANUARY)
    assert report.liability_by_kind == {"purchased": 5000, "promotional": 2000, "credit": 3000}
    assert report.outstanding_liability_minor == 10000
    assert (report.redeemed_value_minor, report.redemption_count, report.refunded_value_minor) == (0, 0, 0)


async def test_a_partial_redemption_lowers_liability_by_what_it_applied_and_a_refund_raises_it_back(
    shop: Shop,
) -> None:
    await shop.at(ISSUED + timedelta(days=1))
    redeemed = await shop.redeem("purchased", 3000)
    await shop.redeem("promotional", 500)
    after_redemptions = await shop.report(JANUARY)
    assert after_redemptions.liability_by_kind == {"purchased": 2000, "promotional": 1500, "credit": 3000}
    assert after_redemptions.outstanding_liability_minor == 6500  # not 10000: the values; P is still active

    await shop.at(ISSUED + timedelta(days=2))
    await shop.refund(redeemed, 1000)
    after_refund = await shop.report(JANUARY)
    assert after_refund.liability_by_kind == {"purchased": 3000, "promotional": 1500, "credit": 3000}
    assert after_refund.outstanding_liability_minor == 7500


async def test_liability_is_what_the_ledgers_entries_say_the_active_certificates_hold(shop: Shop) -> None:
    await shop.at(ISSUED + timedelta(days=1))
    await shop.refund(await shop.redeem("credit", 1200), 200)
    report = await shop.report(JANUARY)
    async with shop.db.connect() as connection:
        ledger = LedgerRepository(connection)
        balances = {kind: await ledger.balance(certificate) for kind, certificate in shop.ids.items()}
    assert report.liability_by_kind == balances == {"purchased": 5000, "promotional": 2000, "credit": 2000}


async def test_redeemed_and_refunded_value_count_in_the_period_they_happened_in_by_kind(shop: Shop) -> None:
    await shop.at(ISSUED + timedelta(days=1))
    first = await shop.redeem("purchased", 3000)
    await shop.redeem("purchased", 1000)
    await shop.redeem("credit", 2500)
    await shop.refund(first, 500)
    await shop.at(datetime(2025, 2, 1, 0, 0, tzinfo=UTC))  # the first instant of February
    await shop.redeem("promotional", 700)
    await shop.refund(first, 300)

    january = await shop.report(JANUARY)
    assert january.redeemed_value_by_kind == {"purchased": 4000, "promotional": 0, "credit": 2500}
    assert january.redemption_count_by_kind == {"purchased": 2, "promotional": 0, "credit": 1}
    assert (january.redeemed_value_minor, january.redemption_count) == (6500, 3)  # gross: refunds not deducted
    assert (january.refunded_value_minor, january.refund_count) == (500, 1)

    february = await shop.report(FEBRUARY)
    assert february.redeemed_value_by_kind == {"purchased": 0, "promotional": 700, "credit": 0}
    assert (february.redeemed_value_minor, february.redemption_count) == (700, 1)
    assert (february.refunded_value_minor, february.refund_count) == (300, 1)


async def test_a_hold_leaves_liability_as_it_is_and_its_capture_counts_as_a_redemption(shop: Shop) -> None:
    await shop.at(ISSUED + timedelta(days=1))
    body = messages.hold(shop.workspace, shop.codes["purchased"], amount=eur(4000),
                         requested_at=_text(shop.clock.now()))
    (held,) = await hold_certificates([HoldCertificate.model_validate(body)], shop.factory(), shop.clock)
    assert isinstance(held, HoldPlaced), held
    holding = await shop.report(JANUARY)
    assert holding.liability_by_kind["purchased"] == 5000  # held value is still owed
    assert (holding.redeemed_value_minor, holding.redemption_count) == (0, 0)

    capture = messages.capture(shop.workspace, str(held.hold_id), amount=eur(2500),
                               requested_at=_text(shop.clock.now()))
    (captured, *_released) = await capture_holds([CaptureHold.model_validate(capture)], shop.factory(), shop.clock)
    assert isinstance(captured, CertificateRedeemed), captured
    after = await shop.report(JANUARY)
    assert after.liability_by_kind["purchased"] == 2500  # the rest of the hold was released
    assert after.redeemed_value_by_kind["purchased"] == 2500
    assert after.redemption_count_by_kind["purchased"] == 1


async def test_breakage_is_the_balance_left_at_expiry_not_the_value(shop: Shop) -> None:
    await shop.at(ISSUED + timedelta(days=1))
    await shop.redeem("purchased", 3000)
    await shop.redeem("promotional", 2000)  # all of it: redeemed, never expires
    await shop.at(datetime(2025, 2, 20, tzinfo=UTC))
    assert await shop.tick() == 2  # P and C; M was redeemed

    february = await shop.report(FEBRUARY)
    assert february.breakage_by_kind == {"purchased": 2000, "promotional": 0, "credit": 3000}
    assert february.breakage_minor == 5000  # not 8000, the values of P and C
    assert february.outstanding_liability_minor == 0
    assert (await shop.report(JANUARY)).breakage_minor == 0  # they expired in February


async def test_a_certificate_refunded_back_to_active_after_expiry_leaves_breakage_for_liability(
    shop: Shop,
) -> None:
    await shop.at(ISSUED + timedelta(days=1))
    redeemed = await shop.redeem("purchased", 3000)
    await shop.at(datetime(2025, 2, 20, tzinfo=UTC))
    await shop.tick()
    await shop.at(datetime(2025, 2, 25, tzinfo=UTC))
    refunded = await shop.refund(redeemed, 1000)  # within refund_validity_days: active again
    assert refunded.status_after == "active"

    february = await shop.report(FEBRUARY)
    # P's 2000 left at expiry came back with the refund: counted once, in the liability (3000)
    assert february.breakage_by_kind == {"purchased": 0, "promotional": 2000, "credit": 3000}
    assert february.liability_by_kind == {"purchased": 3000, "promotional": 0, "credit": 0}


async def test_the_reports_balance_is_the_balance_a_certificate_is_read_with(db: AsyncEngine, workspace: str) -> None:
    """KEPT_BALANCE is certificate_from_row's rule in SQL, for rows written before balances were kept
    (NULL) and for a redeemed row whose column a release without balances left stale."""
    made = [
        certificate(workspace, f"{status.value[:3].upper()}{n}", status, 5000, created="2025-01-10T10:00",
                    activated=None if status is Status.PENDING else "2025-01-10T10:00")
        for status in Status for n in range(2)
    ]
    await insert(db, made)
    async with db.begin() as connection:
        for row in made[::2]:  # one of each status without a kept balance
            await connection.execute(update(certificates).where(certificates.c.id == row.id).values(balance_minor=None))
        stale = next(row for row in made[1::2] if row.status is Status.REDEEMED)
        await connection.execute(update(certificates).where(certificates.c.id == stale.id).values(balance_minor=700))
        kept: dict[UUID, int] = dict((await connection.execute(
            select(certificates.c.id, KEPT_BALANCE).where(certificates.c.workspace_id == workspace)
        )).all())
        repository = CertificateRepository(connection)
        read = {row.id: (await repository.get(workspace, row.id)) for row in made}
    assert kept == {row_id: found.balance_minor for row_id, found in read.items() if found}
    assert sorted(kept.values()) == [0] * 4 + [5000] * 6  # pending and redeemed: 0; active, voided, expired: 5000
