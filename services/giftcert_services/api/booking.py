"""The booking platform's routes (scope `booking`): its commands, one declaration each, decided by
the ledger exactly as their Kafka messages (booking_routes.py says how), and the balance inquiry
(balance.py). Holds, captures, releases and refunds are declared here as they come."""

from fastapi import APIRouter

from giftcert.ledger.redemption import redeem_certificate
from giftcert_contracts.inbound import RedeemCertificate
from giftcert_contracts.outbound import CertificateRedeemed, Event, RedemptionRejected
from giftcert_contracts.topics import Topic
from giftcert_services.api.booking_routes import BookingRoute, add_booking_route
from giftcert_services.runtime.bootstrap import Dependencies

router = APIRouter(prefix="/v1/workspaces/{workspace}", tags=["booking"])


async def _redeem(command: RedeemCertificate, deps: Dependencies) -> Event:
    return await redeem_certificate(command, deps.new_uow(), deps.clock, deps.settings.guessing_limit)


REDEEM = BookingRoute(
    path="/redemptions", name="redeem", command=RedeemCertificate, topic=Topic.BOOKING_REDEEM_REQUEST,
    decide=_redeem, accepted=CertificateRedeemed, refused=RedemptionRejected,
    summary="Redeem a code as payment for an order",
    description="The `booking-redeem-request` of the contract over HTTP: the same decision, under the same "
    "`request_id`, as the Kafka message (a request sent on one door and repeated on the other gets the "
    "stored decision). 200 with `certificate-redeemed`; a refusal is 409 with `redemption-rejected` in "
    "`error.decision` (429 for `too_many_attempts`). The event is also published, as for the message.",
)

for route in (REDEEM,):
    add_booking_route(router, route)
