"""The booking platform's routes (scope `booking`): its commands, one declaration each, decided by
the ledger exactly as their Kafka messages (booking_routes.py says how), and the balance inquiry
(balance.py)."""

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from fastapi import APIRouter
from pydantic import BaseModel

from giftcert.clock import Clock
from giftcert.domain.guessing import GuessingLimit
from giftcert.ledger.capture import capture_holds
from giftcert.ledger.hold import hold_certificates
from giftcert.ledger.redemption import redeem_certificates
from giftcert.ledger.refund import refund_certificates
from giftcert.ledger.release import release_holds
from giftcert.ports import UnitOfWork
from giftcert_contracts.inbound import CaptureHold, HoldCertificate, RedeemCertificate, RefundCertificate, ReleaseHold
from giftcert_contracts.outbound import (
    CaptureRejected,
    CertificateRedeemed,
    CertificateRefunded,
    Event,
    HoldPlaced,
    HoldRejected,
    HoldReleased,
    RedemptionRejected,
    RefundRejected,
    ReleaseRejected,
)
from giftcert_contracts.topics import Topic
from giftcert_services.api.booking_routes import BookingRoute, add_booking_route
from giftcert_services.runtime.bootstrap import Dependencies

router = APIRouter(prefix="/v1/workspaces/{workspace}", tags=["booking"])
C = TypeVar("C", bound=BaseModel)


def alone(
    handler: Callable[[Sequence[C], UnitOfWork, Clock], Awaitable[list[Event]]],
) -> Callable[[C, Dependencies], Awaitable[Event]]:
    """The Kafka door's batch handler deciding one request, in its own unit of work."""

    async def decide(command: C, deps: Dependencies) -> Event:
        (reply,) = await handler([command], deps.new_uow(), deps.clock)
        return reply

    return decide


def alone_under_the_guessing_limit(
    handler: Callable[[Sequence[C], UnitOfWork, Clock, GuessingLimit], Awaitable[list[Event]]],
) -> Callable[[C, Dependencies], Awaitable[Event]]:
    """The same for a handler that looks a code up: the workspace's limit on unknown codes applies."""

    async def decide(command: C, deps: Dependencies) -> Event:
        (reply,) = await handler([command], deps.new_uow(), deps.clock, deps.settings.guessing_limit)
        return reply

    return decide


REDEEM = BookingRoute(
    path="/redemptions", name="redeem", command=RedeemCertificate, topic=Topic.BOOKING_REDEEM_REQUEST,
    decide=alone_under_the_guessing_limit(redeem_certificates),
    accepted=CertificateRedeemed, refused=RedemptionRejected,
    summary="Redeem a code as payment for an order",
    description="The `booking-redeem-request` of the contract over HTTP: the same decision, under the same "
    "`request_id`, as the Kafka message (a request sent on one door and repeated on the other gets the "
    "stored decision). 200 with `certificate-redeemed`; a refusal is 409 with `redemption-rejected` in "
    "`error.decision` (429 for `too_many_attempts`). The event is also published, as for the message.",
)


HOLD = BookingRoute(
    path="/holds", name="hold", command=HoldCertificate, topic=Topic.BOOKING_HOLD_REQUEST,
    decide=alone_under_the_guessing_limit(hold_certificates), accepted=HoldPlaced, refused=HoldRejected,
    summary="Hold value on a code while the customer finishes checkout",
    description="The `booking-hold-request` of the contract over HTTP: the `request_id` becomes the `hold_id`. "
    "200 with `hold-placed` (`amount_held`, `available_after`, `hold_expires_at`); a refusal is 409 with "
    "`hold-rejected` in `error.decision` (429 for `too_many_attempts`).",
)
CAPTURE = BookingRoute(
    path="/captures", name="capture", command=CaptureHold, topic=Topic.BOOKING_CAPTURE_REQUEST,
    decide=alone(capture_holds), accepted=CertificateRedeemed, refused=CaptureRejected,
    summary="Capture a hold, in full or in part",
    description="The `booking-capture-request` of the contract over HTTP. 200 with `certificate-redeemed` "
    "(`hold_id` set); what was held beyond the captured amount is released and published as `hold-released`. "
    "A refusal is 409 with `capture-rejected` in `error.decision`.",
)
RELEASE = BookingRoute(
    path="/releases", name="release", command=ReleaseHold, topic=Topic.BOOKING_RELEASE_REQUEST,
    decide=alone(release_holds), accepted=HoldReleased, refused=ReleaseRejected,
    summary="Release a hold (the checkout was abandoned)",
    description="The `booking-release-request` of the contract over HTTP. 200 with `hold-released`; a refusal "
    "is 409 with `release-rejected` in `error.decision`.",
)
REFUND = BookingRoute(
    path="/refunds", name="refund", command=RefundCertificate, topic=Topic.BOOKING_REFUND_REQUEST,
    decide=alone(refund_certificates), accepted=CertificateRefunded, refused=RefundRejected,
    summary="Give back value a redemption applied (a cancelled booking)",
    description="The `booking-refund-request` of the contract over HTTP: credits the certificate the redemption "
    "(`redemption_id`: the `request_id` of the redeem or capture, on this `order_id`) came from. 200 with "
    "`certificate-refunded`; a refusal is 409 with `refund-rejected` in `error.decision`.",
)

add_booking_route(router, REDEEM)
add_booking_route(router, HOLD)
add_booking_route(router, CAPTURE)
add_booking_route(router, RELEASE)
add_booking_route(router, REFUND)
