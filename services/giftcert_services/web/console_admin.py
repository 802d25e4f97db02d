"""The console's dashboard, manual certificates, bulk upload, workspace settings and products. A
manual or bulk certificate is decided by the ledger as a `purchase-requested` of channel `admin`
would be, and its offline payment as a `payment-completed`, through the same operations as the API
and the CLI (`giftcert certificates issue --csv` reads and reports a file exactly as this page does)."""

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from giftcert.domain.product import Product
from giftcert.domain.workspace import InvalidSettingsError, WorkspaceSettings
from giftcert.locales import Language, gettext_noop
from giftcert.operations.errors import CommandRefusedError
from giftcert.operations.issuing import issue_certificate, record_offline_payment
from giftcert.operations.reports import expiring_certificates, sales_report
from giftcert_services.api.access import Deps, WorkspacePath
from giftcert_services.api.models import SettingsChange
from giftcert_services.cli.bulk_issue import InvalidCsvError, read_rows
from giftcert_services.web.bulk_jobs import BulkJobs
from giftcert_services.web.charts import HEIGHT, WIDTH, amount_bars, revenue_bars
from giftcert_services.web.forms import PurchaseForm, minor_units, purchase_command
from giftcert_services.web.operators import CheckedForm, Operator, console_path
from giftcert_services.web.pages import language_choices, major_units, page_words, render, secure, web_of
from giftcert_services.web.portal import not_found

router = APIRouter(prefix="/console/{workspace}", include_in_schema=False)
MAX_CSV_BYTES = 5_000_000
_PURCHASE_FIELDS = ("amount", "purchaser_name", "purchaser_email", "recipient_name", "recipient_email", "message",
                    "segment", "payment_reference", "certificate_id", "locale", "kind", "reason", "replaces_order_id")


async def _settings(deps: Deps, workspace: str) -> WorkspaceSettings:
    async with deps.new_uow() as uow:
        return await uow.workspaces.get_or_default(workspace)


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, workspace: WorkspacePath, deps: Deps, session: Operator) -> Response:
    settings = await _settings(deps, workspace)
    end = deps.clock.now().date()
    start = (end - timedelta(days=335)).replace(day=1)
    async with deps.engine.connect() as connection:
        report = await sales_report(connection, workspace, start=start, end=end, currency=settings.currency)
        expiring = await expiring_certificates(
            connection, workspace, now=deps.clock.now(), within_days=max(settings.reminder_days, 30), limit=20
        )
    words = page_words(request, settings.locale)
    return render(
        request, "console/dashboard.html", workspace=workspace, session=session, report=report, expiring=expiring,
        revenue=revenue_bars(report, words), amounts=amount_bars(report, words), chart_width=WIDTH,
        chart_height=HEIGHT, settings=settings,
    )


def _manual_page(request: Request, workspace: str, session: Any, settings: WorkspaceSettings, form: PurchaseForm,
                 status_code: int = 200) -> Response:
    return render(request, "console/new.html", status_code=status_code, workspace=workspace, session=session,
                  settings=settings, form=form, languages=language_choices(form.values["locale"] or settings.locale))


@router.get("/new", response_class=HTMLResponse)
async def new_certificate(request: Request, workspace: WorkspacePath, deps: Deps, session: Operator) -> Response:
    settings = await _settings(deps, workspace)
    values = dict.fromkeys(_PURCHASE_FIELDS, "") | {"certificate_id": str(uuid4()), "locale": settings.locale,
                                                    "kind": "purchased"}
    return _manual_page(request, workspace, session, settings, PurchaseForm(values))


@router.post("/new", response_class=HTMLResponse)
async def issue_manual(
    request: Request, workspace: WorkspacePath, deps: Deps, session: Operator, received: CheckedForm
) -> Response:
    settings = await _settings(deps, workspace)
    form = PurchaseForm({name: str(received.get(name) or "").strip() for name in _PURCHASE_FIELDS})
    values = form.values
    amount = minor_units(values["amount"], settings.currency)
    if amount is None:
        form.errors["amount"] = page_words(request, settings.locale).gettext(
            "Enter an amount in {currency}, like 50 or 50.00."
        ).format(currency=settings.currency)
    try:
        certificate_id = UUID(values["certificate_id"])
    except ValueError:
        certificate_id = uuid4()
    command = purchase_command(form, {
        "workspace_id": workspace, "certificate_id": certificate_id,
        "amount": {"minor": amount or 1, "currency": settings.currency},
        "purchaser": {"name": values["purchaser_name"], "email": values["purchaser_email"]},
        "recipient": {"name": values["recipient_name"], "email": values["recipient_email"]},
        "message": values["message"] or None, "segment": values["segment"] or None,
        "locale": values["locale"] or None, "channel": "admin", "requested_at": deps.clock.now(),
        "kind": values["kind"] or "purchased", "reason": values["reason"] or None,
        "replaces_order_id": values["replaces_order_id"] or None,
    })
    if command is not None and command.kind != "purchased" and values["payment_reference"]:
        form.errors["payment_reference"] = gettext_noop("A promotional or credit certificate takes no payment.")
    if command is None or form.errors:
        return _manual_page(request, workspace, session, settings, form, 422)
    try:
        await issue_certificate(command, deps.new_uow, deps.clock)
        if values["payment_reference"] and command.kind == "purchased":
            await record_offline_payment(workspace, certificate_id, values["payment_reference"][:128],
                                         deps.new_uow, deps.clock)
    except CommandRefusedError as refusal:
        form.errors["amount" if refusal.reason == "amount_out_of_range" else "form"] = refusal.detail
        return _manual_page(request, workspace, session, settings, form, 409)
    return RedirectResponse(console_path(workspace, f"/certificates/{certificate_id}?done=issued"), status_code=303)


@router.get("/bulk", response_class=HTMLResponse)
async def bulk_page(request: Request, workspace: WorkspacePath, session: Operator) -> Response:
    return render(request, "console/bulk.html", workspace=workspace, session=session, job=None, error=None)


def _jobs(request: Request) -> BulkJobs:
    jobs: BulkJobs = request.app.state.bulk_jobs
    return jobs


@router.get("/bulk/{job_id}", response_class=HTMLResponse)
async def bulk_job_page(
    request: Request, workspace: WorkspacePath, deps: Deps, session: Operator, job_id: str
) -> Response:
    """The upload's progress while its rows are issued (the page follows it), then its report; from
    any API replica (the upload is in the database)."""
    job = await _jobs(request).get(workspace, job_id, deps)
    if job is None:
        return not_found(request, gettext_noop("No such upload: it may have ended more than an hour ago."))
    return render(request, "console/bulk.html", workspace=workspace, session=session, job=job,
                  error=gettext_noop("The upload stopped on an error; upload the file again to issue the rest.")
                  if job.failed else None)


@router.get("/bulk/{job_id}/progress")
async def bulk_job_progress(
    request: Request, workspace: WorkspacePath, deps: Deps, _: Operator, job_id: str
) -> Response:
    job = await _jobs(request).get(workspace, job_id, deps)
    if job is None:
        response = JSONResponse({"error": "not_found"}, status_code=404)
    else:
        text = page_words(request).gettext("{done} of {total} rows decided").format(
            done=page_words(request).number(job.done), total=page_words(request).number(job.total))
        response = JSONResponse({"done": job.done, "total": job.total, "finished": job.finished, "text": text})
    secure(response, web_of(request))
    return response


@router.post("/bulk", response_class=HTMLResponse)
async def bulk_upload(
    request: Request, workspace: WorkspacePath, deps: Deps, session: Operator, received: CheckedForm
) -> Response:
    """Reads and checks the file, then issues its rows in the background (bulk_jobs.py): the answer
    is the upload's page, which follows them."""
    upload = received.get("file")
    error = None
    if not isinstance(upload, UploadFile):
        error = gettext_noop("Choose a CSV file.")
    else:
        content = await upload.read(MAX_CSV_BYTES + 1)
        try:
            if len(content) > MAX_CSV_BYTES:
                raise InvalidCsvError("the file is larger than 5 MB; split it")
            rows = read_rows(content.decode("utf-8-sig"))
        except UnicodeDecodeError:
            error = gettext_noop("The file is not UTF-8 text.")
        except InvalidCsvError as problem:
            error = page_words(request).gettext("Nothing was issued: {problem}").format(problem=problem)
        else:
            job_id = await _jobs(request).start(workspace, rows, deps)
            return RedirectResponse(console_path(workspace, f"/bulk/{job_id}"), status_code=303)
    return render(request, "console/bulk.html", status_code=422, workspace=workspace, session=session, job=None,
                  error=error)


_SETTINGS_TEXTS = ("name", "currency", "min_amount", "max_amount", "expiry_days", "reminder_days", "locale",
                   "redemption_mode", "hold_seconds_default", "hold_seconds_max", "refund_validity_days",
                   "pending_days")
_WHOLE_NUMBERS = ("expiry_days", "reminder_days", "hold_seconds_default", "hold_seconds_max", "refund_validity_days",
                  "pending_days")
_TOGGLES = ("portal_enabled", "send_activation_email", "remaining_balance_email")
"""Check boxes: a box left unticked is sent as nothing, so its setting is off."""
_FORM_FIELD = {"min_minor": "min_amount", "max_minor": "max_amount"}
"""A setting's form field where its name differs (amounts are typed in major units)."""
REDEMPTION_MODE_LABELS = {
    "full": gettext_noop("Its whole value pays one booking"),
    "partial": gettext_noop("Any amount up to its balance; the rest stays for later bookings"),
}


def _settings_values(settings: WorkspaceSettings) -> dict[str, str]:
    """The form's fields as the settings fill them."""
    return {
        "name": settings.name, "currency": settings.currency,
        "min_amount": major_units(settings.min_minor, settings.currency),
        "max_amount": major_units(settings.max_minor, settings.currency), "locale": settings.locale,
        "redemption_mode": settings.redemption_mode,
    } | {name: "on" if getattr(settings, name) else "" for name in _TOGGLES} | {
        name: str(getattr(settings, name)) for name in _WHOLE_NUMBERS
    }


def _settings_page(request: Request, workspace: str, session: Any, settings: WorkspaceSettings,
                   values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                   error: str | None = None, notice: str | None = None, status_code: int = 200) -> Response:
    values = values or _settings_values(settings)
    return render(request, "console/settings.html", status_code=status_code, workspace=workspace, session=session,
                  settings=settings, values=values, errors=errors or {}, error=error, notice=notice,
                  languages=language_choices(values["locale"] or settings.locale),
                  redemption_modes=REDEMPTION_MODE_LABELS)


@router.get("/settings", response_class=HTMLResponse)
async def settings_page(request: Request, workspace: WorkspacePath, deps: Deps, session: Operator) -> Response:
    return _settings_page(request, workspace, session, await _settings(deps, workspace))


def _field_error(words: Language, problem: Mapping[str, Any]) -> str:
    """The API model's refusal of one field, as the page says it (the bounds are the model's own)."""
    bounds = problem.get("ctx") or {}
    if problem["type"] == "greater_than_equal":
        return words.gettext("Enter a whole number of at least {minimum}.").format(minimum=words.number(bounds["ge"]))
    if problem["type"] == "less_than_equal":
        return words.gettext("Enter a whole number of at most {maximum}.").format(maximum=words.number(bounds["le"]))
    if problem["type"] == "literal_error":
        return words.gettext("Choose from the list.")
    return str(problem["msg"])


@router.post("/settings", response_class=HTMLResponse)
async def change_settings(
    request: Request, workspace: WorkspacePath, deps: Deps, session: Operator, form: CheckedForm
) -> Response:
    """The API's `PATCH .../settings` from a form: its model's checks per field, then the settings' own
    rules (WorkspaceSettings); each refusal is shown next to the field it is about. A field left
    empty (or absent) keeps its setting, as a field the API is not given does."""
    current = await _settings(deps, workspace)
    words = page_words(request, current.locale)
    values = {name: str(form.get(name) or "").strip() for name in _SETTINGS_TEXTS}
    values |= {name: "on" if form.get(name) == "on" else "" for name in _TOGGLES}
    currency = values["currency"].upper()
    errors: dict[str, str] = {}
    numbers: dict[str, int | None] = {}
    for name in _WHOLE_NUMBERS:
        numbers[name] = _whole(values[name])
        if values[name] and numbers[name] is None:
            errors[name] = words.gettext("Enter a whole number.")
    for name in ("min_amount", "max_amount"):
        if values[name] and minor_units(values[name], currency) is None:
            errors[name] = words.gettext("Enter an amount in {currency}, like 50 or 50.00.").format(currency=currency)
    try:
        change = SettingsChange.model_validate({
            "name": values["name"], "currency": currency,
            "min_minor": minor_units(values["min_amount"], currency),
            "max_minor": minor_units(values["max_amount"], currency),
            "locale": values["locale"] or None, "redemption_mode": values["redemption_mode"] or None,
        } | {name: values[name] == "on" for name in _TOGGLES} | numbers)
        if errors:
            return _settings_page(request, workspace, session, current, values, errors, status_code=422)
        updated = dataclasses.replace(current, **change.model_dump(exclude_none=True))
    except ValidationError as problem:
        for found in problem.errors():
            name = str(found["loc"][0]) if found["loc"] else "form"
            errors.setdefault(_FORM_FIELD.get(name, name), _field_error(words, found))
        return _settings_page(request, workspace, session, current, values, errors, status_code=422)
    except InvalidSettingsError as problem:
        errors[_FORM_FIELD.get(problem.field, problem.field)] = str(problem)
        return _settings_page(request, workspace, session, current, values, errors, status_code=422)
    except ValueError as problem:
        return _settings_page(request, workspace, session, current, values, error=str(problem), status_code=422)
    async with deps.new_uow() as uow:
        await uow.workspaces.put(updated, deps.clock.now())
        await uow.commit()
    return _settings_page(request, workspace, session, updated, notice=gettext_noop("Settings saved."))


def _whole(text: str) -> int | None:
    """The whole number typed (`-5` too: the model's range refuses it), or None."""
    try:
        return int(text) if text else None
    except ValueError:
        return None


async def _products_page(request: Request, deps: Deps, workspace: str, session: Any, error: str | None = None,
                         status_code: int = 200) -> Response:
    async with deps.new_uow() as uow:
        products = await uow.products.of_workspace(workspace)
    return render(request, "console/products.html", status_code=status_code, workspace=workspace, session=session,
                  products=products, settings=await _settings(deps, workspace), error=error)


@router.get("/products", response_class=HTMLResponse)
async def products_page(request: Request, workspace: WorkspacePath, deps: Deps, session: Operator) -> Response:
    return await _products_page(request, deps, workspace, session)


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@router.post("/products", response_class=HTMLResponse)
async def add_product(
    request: Request, workspace: WorkspacePath, deps: Deps, session: Operator, form: CheckedForm
) -> Response:
    currency = (await _settings(deps, workspace)).currency
    amounts = [minor_units(text, currency) for text in _list(str(form.get("fixed_amounts") or ""))]
    low, high = (str(form.get(name) or "").strip() for name in ("min_amount", "max_amount"))
    try:
        if any(amount is None or amount <= 0 for amount in amounts):
            raise ValueError(page_words(request).gettext(
                "Fixed amounts are amounts in {currency}, separated by commas."
            ).format(currency=currency))
        product = Product(
            id=uuid4(), workspace_id=workspace, name=str(form.get("name") or "").strip()[:200],
            fixed_amounts=tuple(sorted({a for a in amounts if a})),
            min_minor=minor_units(low, currency) if low else None,
            max_minor=minor_units(high, currency) if high else None,
            segments=tuple(dict.fromkeys(s[:64] for s in _list(str(form.get("segments") or "")))),
            segment_restricted_redemption=form.get("segment_restricted_redemption") == "on",
        )
    except ValueError as problem:
        return await _products_page(request, deps, workspace, session, error=str(problem), status_code=422)
    async with deps.new_uow() as uow:
        await uow.products.put(product, deps.clock.now())
        await uow.commit()
    return RedirectResponse(console_path(workspace, "/products"), status_code=303)


@router.post("/products/{product_id}/active")
async def toggle_product(
    request: Request, workspace: WorkspacePath, deps: Deps, _: Operator, __: CheckedForm, product_id: UUID
) -> Response:
    async with deps.new_uow() as uow:
        product = await uow.products.get(workspace, product_id)
        if product is not None:
            await uow.products.put(dataclasses.replace(product, active=not product.active), deps.clock.now())
            await uow.commit()
    del request
    return RedirectResponse(console_path(workspace, "/products"), status_code=303)
