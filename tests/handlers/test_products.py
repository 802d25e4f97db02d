"""Certificate products through the message door: a purchase-requested message is held to the
workspace's products exactly as the HTTP door is (one rule, giftcert.domain.rules.decide_purchase),
and a product restricting redemption to a segment is kept to it at checkout."""

from uuid import uuid4

from giftcert.domain.product import Product
from giftcert.ledger.payment import activate_certificate
from giftcert.ledger.purchase import create_certificate
from giftcert.ledger.redemption import redeem_certificate
from giftcert.ports import NewUnitOfWork
from giftcert_contracts.outbound import CertificateActivated, CertificateCreated, CertificateRedeemed, PurchaseRejected
from tests.fakes import FixedClock
from tests.handlers.steps import payment, purchase, redeem, stored_certificate


async def _sells(new_uow: NewUnitOfWork, clock: FixedClock, shop: str, **fields: object) -> Product:
    product = Product(id=uuid4(), workspace_id=shop, name=f"product {uuid4().hex[:6]}", **fields)  # type: ignore[arg-type]
    async with new_uow() as uow:
        await uow.products.put(product, clock.now())
        await uow.commit()
    return product


async def test_a_purchase_fitting_no_products_amount_is_refused_as_out_of_range(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    await _sells(new_uow, clock, shop, fixed_amounts=(2500, 10000))
    reply = await create_certificate(purchase(shop, clock, amount={"minor": 5000, "currency": "EUR"}), new_uow(), clock)
    assert isinstance(reply, PurchaseRejected)
    assert reply.reason == "amount_out_of_range"


async def test_a_purchase_outside_the_products_segments_is_refused_as_segment_not_allowed(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    await _sells(new_uow, clock, shop, fixed_amounts=(5000,), segments=("b2b",))
    for segment in ("b2c", None):
        reply = await create_certificate(purchase(shop, clock, segment=segment), new_uow(), clock)
        assert isinstance(reply, PurchaseRejected)
        assert reply.reason == "segment_not_allowed"


async def test_a_certificate_remembers_its_product_and_redeems_in_any_segment_unless_restricted(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    product = await _sells(new_uow, clock, shop, fixed_amounts=(5000,), segments=("b2c",))
    request = purchase(shop, clock, segment="b2c")
    assert isinstance(await create_certificate(request, new_uow(), clock), CertificateCreated)
    assert isinstance(await activate_certificate(payment(request, clock), new_uow(), clock), CertificateActivated)
    certificate = await stored_certificate(new_uow, shop, request.certificate_id)
    assert (certificate.product_id, certificate.segment) == (product.id, None)
    reply = await redeem_certificate(redeem(shop, certificate.code, clock, segment="b2b"), new_uow(), clock)
    assert isinstance(reply, CertificateRedeemed)


async def test_a_restricted_products_certificate_redeems_only_in_the_segment_it_was_bought_in(
    new_uow: NewUnitOfWork, clock: FixedClock, shop: str
) -> None:
    await _sells(
        new_uow, clock, shop, fixed_amounts=(5000,), segments=("b2b", "b2c"), segment_restricted_redemption=True
    )
    request = purchase(shop, clock, segment="b2b")
    await create_certificate(request, new_uow(), clock)
    await activate_certificate(payment(request, clock), new_uow(), clock)
    certificate = await stored_certificate(new_uow, shop, request.certificate_id)
    refused = await redeem_certificate(redeem(shop, certificate.code, clock, segment="b2c"), new_uow(), clock)
    assert getattr(refused, "reason", None) == "segment_not_allowed"
    accepted = await redeem_certificate(redeem(shop, certificate.code, clock, segment="b2b"), new_uow(), clock)
    assert isinstance(accepted, CertificateRedeemed)
