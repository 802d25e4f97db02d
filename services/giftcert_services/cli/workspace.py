"""`giftcert workspace set`: create or update a workspace's settings."""

import dataclasses
from enum import StrEnum
from typing import Any

import typer
from pydantic import TypeAdapter, ValidationError

from giftcert.domain.workspace import (
    HOLD_SECONDS_LIMIT,
    PENDING_DAYS_LIMIT,
    REFUND_VALIDITY_DAYS_LIMIT,
    RedemptionMode,
    WorkspaceSettings,
)
from giftcert_contracts.fields import LocaleTag, Name, WorkspaceId
from giftcert_contracts.money import CurrencyCode
from giftcert_services.cli.database_access import run_with_database
from giftcert_services.runtime.bootstrap import Dependencies

app = typer.Typer(help="Workspace (tenant) settings.", no_args_is_help=True)


async def _set(deps: Dependencies, workspace_id: str, changes: dict[str, object]) -> WorkspaceSettings:
    async with deps.new_uow() as uow:
        current = await uow.workspaces.get_or_default(workspace_id)
        try:
            updated = dataclasses.replace(current, **changes)  # type: ignore[arg-type]
        except ValueError as error:
            raise typer.BadParameter(str(error)) from None
        await uow.workspaces.put(updated, deps.clock.now())
        await uow.commit()
    return updated


def _valid(kind: Any, value: str, name: str) -> str:
    """The value checked by the wire contract's own rule for that field."""
    try:
        return str(TypeAdapter(kind).validate_python(value))
    except ValidationError as error:
        problem = error.errors()[0]
        pattern_broken = problem["type"] == "string_pattern_mismatch"
        message = "one line of text, without control characters" if pattern_broken else problem["msg"]
        raise typer.BadParameter(message, param_hint=name) from None


class _Mode(StrEnum):
    FULL = "full"
    PARTIAL = "partial"


def _mode(mode: _Mode) -> RedemptionMode:
    return "partial" if mode is _Mode.PARTIAL else "full"


@app.command("set")
def set_workspace(
    workspace_id: str = typer.Argument(..., metavar="WORKSPACE"),
    name: str | None = typer.Option(None, help="Name printed on certificates."),
    portal: bool | None = typer.Option(None, "--portal/--no-portal", help="Public purchase portal on or off."),
    currency: str | None = typer.Option(None, help="ISO 4217 currency certificates are sold in."),
    min_minor: int | None = typer.Option(None, min=1, help="Smallest amount, in minor units."),
    max_minor: int | None = typer.Option(None, min=1, max=1_000_000_000, help="Largest amount, in minor units."),
    expiry_days: int | None = typer.Option(None, min=1, max=3650, help="Days from activation to expiry."),
    reminder_days: int | None = typer.Option(None, min=0, max=3650, help="Days before expiry to remind."),
    activation_email: bool | None = typer.Option(
        None, "--activation-email/--no-activation-email",
        help="Email each certificate to its recipient once paid; off when operators deliver it (then `resend`).",
    ),
    redemption_mode: _Mode | None = typer.Option(
        None, help="full: a certificate pays one booking with its whole value; partial: any part of its balance.",
    ),
    hold_seconds_default: int | None = typer.Option(
        None, min=1, max=HOLD_SECONDS_LIMIT, help="How long a hold lasts when its request says not."
    ),
    hold_seconds_max: int | None = typer.Option(
        None, min=1, max=HOLD_SECONDS_LIMIT, help="The longest hold a request may ask for."
    ),
    refund_validity_days: int | None = typer.Option(
        None, min=1, max=REFUND_VALIDITY_DAYS_LIMIT, help="Days an expired certificate is usable again after a refund."
    ),
    pending_days: int | None = typer.Option(
        None, min=0, max=PENDING_DAYS_LIMIT, help="Days a certificate waits for its payment before it is voided "
        "as unpaid; 0 (the default, as in v1): for ever; 7 is the contract's suggestion."
    ),
    remaining_balance_email: bool | None = typer.Option(
        None, "--remaining-balance-email/--no-remaining-balance-email",
        help="Email the recipient what is left after a redemption that leaves a balance (off by default).",
    ),
    locale: str | None = typer.Option(
        None, help="BCP 47 locale of PDFs and emails when a purchase names none (en, de-AT, ja...).",
    ),
) -> None:
    """Create or update WORKSPACE; options not given keep their value (or the default)."""
    workspace_id = _valid(WorkspaceId, workspace_id, "WORKSPACE")
    if name is not None:
        name = _valid(Name, name, "--name")
    if currency is not None:
        currency = _valid(CurrencyCode, currency, "--currency")
    if locale is not None:
        locale = _valid(LocaleTag, locale, "--locale")
    options = {
        "name": name, "portal_enabled": portal, "currency": currency, "min_minor": min_minor,
        "max_minor": max_minor, "expiry_days": expiry_days, "reminder_days": reminder_days,
        "send_activation_email": activation_email,
        "redemption_mode": None if redemption_mode is None else _mode(redemption_mode),
        "hold_seconds_default": hold_seconds_default, "hold_seconds_max": hold_seconds_max,
        "refund_validity_days": refund_validity_days,
        "pending_days": pending_days,
        "remaining_balance_email": remaining_balance_email,
        "locale": locale,
    }
    updated = run_with_database(
        lambda deps: _set(deps, workspace_id, {k: v for k, v in options.items() if v is not None})
    )
    for field in dataclasses.fields(updated):
        typer.echo(f"{field.name}: {getattr(updated, field.name)}")
