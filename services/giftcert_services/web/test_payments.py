"""The test payment page of the embedded stack (`giftcert dev`, the demo, the browser tests): it
plays the payment system. Paying publishes `payment-completed` on the broker, as the payment system
would, so the ledger worker activates the certificate exactly as in production (not the offline
payment path). Served only where GIFTCERT_PORTAL_TEST_PAYMENTS is on; a 404 elsewhere."""

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from giftcert.domain.certificate import Status
from giftcert.locales import gettext_noop
from giftcert_contracts.inbound import PaymentCompleted
from giftcert_contracts.topics import Topic
from giftcert_services.api.access import Deps, WorkspacePath
from giftcert_services.runtime.broker import build_broker
from giftcert_services.web.pages import render, web_of, workspace_locale
from giftcert_services.web.portal import not_found
from giftcert_services.web.security import CSRF_FIELD, csrf_problem

router = APIRouter(prefix="/portal/{workspace}/test-payment", include_in_schema=False)


@router.get("/{certificate_id}", response_class=HTMLResponse)
async def payment_page(request: Request, workspace: WorkspacePath, deps: Deps, certificate_id: UUID) -> Response:
    if not web_of(request).settings.portal_test_payments:
        return not_found(request)
    async with deps.new_uow() as uow:
        certificate = await uow.certificates.get(workspace, certificate_id)
    if certificate is None:
        return not_found(request, gettext_noop("We know of no such purchase."))
    return render(request, "portal/test_payment.html", workspace=workspace, certificate=certificate, error=None,
                  workspace_locale=await workspace_locale(deps, workspace))


@router.post("/{certificate_id}", response_class=HTMLResponse)
async def pay(request: Request, workspace: WorkspacePath, deps: Deps, certificate_id: UUID) -> Response:
    web = web_of(request)
    if not web.settings.portal_test_payments:
        return not_found(request)
    async with deps.new_uow() as uow:
        certificate = await uow.certificates.get(workspace, certificate_id)
    if certificate is None:
        return not_found(request, gettext_noop("We know of no such purchase."))
    received = await request.form()
    problem = csrf_problem(request, str(received.get(CSRF_FIELD) or ""), web.signer, web.settings)
    if problem is not None:
        return render(request, "portal/test_payment.html", status_code=403, workspace=workspace,
                      certificate=certificate, error=problem, workspace_locale=await workspace_locale(deps, workspace))
    if certificate.status is Status.PENDING:
        payment = PaymentCompleted(
            workspace_id=workspace, payment_id=f"test-payment-{certificate_id}", certificate_id=certificate_id,
            amount=certificate.amount.to_money(), completed_at=deps.clock.now(),
        )
        broker = build_broker(deps.settings, access_log=False)
        await broker.start()
        try:
            await broker.publish(
                payment.model_dump(mode="json"), topic=deps.settings.topic(Topic.PAYMENT_COMPLETED),
                key=str(certificate_id).encode(),
            )
        finally:
            await broker.stop()
    return RedirectResponse(f"{request.url.path.split('/test-payment/')[0]}/certificates/{certificate_id}",
                            status_code=303)
