"""Decode each inbound command and call its handler; nothing else happens here."""

from faststream.kafka import KafkaRouter

from giftcert.ledger.capture import capture_holds
from giftcert.ledger.hold import hold_certificates
from giftcert.ledger.payment import activate_certificates
from giftcert.ledger.purchase import create_certificate
from giftcert.ledger.redemption import redeem_certificates
from giftcert.ledger.release import release_holds
from giftcert.ledger.voiding import reactivate_certificate, void_certificate
from giftcert_contracts.inbound import (
    CaptureHold,
    HoldCertificate,
    PaymentCompleted,
    PurchaseRequested,
    ReactivateCertificate,
    RedeemCertificate,
    ReleaseHold,
    VoidCertificate,
)
from giftcert_contracts.topics import Topic
from giftcert_services.ledger.invalid_purchases import answer_invalid_purchases
from giftcert_services.runtime.batch_tracing import Traces
from giftcert_services.runtime.bootstrap import Dependencies
from giftcert_services.runtime.subscription import subscribe, subscribe_batch

SERVICE = "ledger"


def ledger_router(deps: Dependencies) -> KafkaRouter:
    router = KafkaRouter()
    new_uow, clock, guessing = deps.new_uow, deps.clock, deps.settings.guessing_limit

    purchases = KafkaRouter()  # its own router, for the middleware that answers invalid requests

    @subscribe(purchases, deps, SERVICE, Topic.PURCHASE_REQUESTED, title="purchase-requested")
    async def on_purchase_requested(body: PurchaseRequested) -> None:
        await create_certificate(body, new_uow(), clock)

    router.include_router(purchases, middlewares=[answer_invalid_purchases(deps)])

    @subscribe_batch(router, deps, SERVICE, Topic.PAYMENT_COMPLETED, title="payment-completed", model=PaymentCompleted)
    async def on_payments_completed(batch: list[PaymentCompleted], traces: Traces) -> None:
        await activate_certificates(batch, new_uow(), clock, traces)

    @subscribe_batch(
        router, deps, SERVICE, Topic.BOOKING_REDEEM_REQUEST, title="booking-redeem-request",
        model=RedeemCertificate,
    )
    async def on_booking_redeem_requests(batch: list[RedeemCertificate], traces: Traces) -> None:
        await redeem_certificates(batch, new_uow(), clock, guessing, traces)

    @subscribe(router, deps, SERVICE, Topic.VOID, title="void")
    async def on_void(body: VoidCertificate) -> None:
        await void_certificate(body, new_uow(), clock)

    @subscribe(router, deps, SERVICE, Topic.REACTIVATE, title="reactivate")
    async def on_reactivate(body: ReactivateCertificate) -> None:
        await reactivate_certificate(body, new_uow(), clock)

    @subscribe_batch(
        router, deps, SERVICE, Topic.BOOKING_HOLD_REQUEST, title="booking-hold-request", model=HoldCertificate,
    )
    async def on_booking_hold_requests(batch: list[HoldCertificate], traces: Traces) -> None:
        await hold_certificates(batch, new_uow(), clock, guessing, traces)

    @subscribe(router, deps, SERVICE, Topic.BOOKING_CAPTURE_REQUEST, title="booking-capture-request")
    async def on_booking_capture_request(body: CaptureHold) -> None:
        await capture_holds([body], new_uow(), clock)

    @subscribe(router, deps, SERVICE, Topic.BOOKING_RELEASE_REQUEST, title="booking-release-request")
    async def on_booking_release_request(body: ReleaseHold) -> None:
        await release_holds([body], new_uow(), clock)

    return router
