"""`giftcert tick`: the scheduler's work done once, for a cron (a Kubernetes CronJob, deploy/k8s/) in
place of `giftcert run scheduler`: one expiry-tick per workspace, now, and one sweep of the payments
whose purchase request did not come within the grace period; then it exits.

The ticks are the scheduler's own (`publish_expiry_ticks`). No advisory lock is taken: a cron starts
one run at a time, and should the scheduler run as well, a second tick only repeats work that is
idempotent (expiry is decided per certificate), it does no harm."""

import asyncio
import logging
from dataclasses import dataclass

import typer
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from giftcert.settings import Settings
from giftcert_services.runtime.bootstrap import bootstrap
from giftcert_services.runtime.broker import build_broker
from giftcert_services.runtime.topics import ensure_topics
from giftcert_services.scheduler.overdue_payments import BATCH_SIZE, OverduePaymentSweeper
from giftcert_services.scheduler.ticker import publish_expiry_ticks, tick_publisher


@dataclass(frozen=True)
class TickOutcome:
    ticks_published: int
    payments_settled: int


async def tick_once(settings: Settings) -> TickOutcome:
    """Creates missing topics first, like every worker: a cron may fire before any worker started."""
    deps = bootstrap(settings)
    broker = build_broker(settings)
    publisher = tick_publisher(broker, deps)
    try:
        await ensure_topics(settings)
        await broker.start()
        ticks = await publish_expiry_ticks(deps, publisher)
        sweeper = OverduePaymentSweeper(deps)
        settled = batch = await sweeper.sweep()
        while batch == BATCH_SIZE:  # a full batch may have left more behind
            batch = await sweeper.sweep()
            settled += batch
        return TickOutcome(ticks_published=ticks, payments_settled=settled)
    finally:
        await broker.stop()
        await deps.close()


def tick(log_level: str = typer.Option("WARNING", help="Python logging level.")) -> None:
    """Publish one expiry-tick per workspace and settle overdue payments, once (for a cron job)."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings()
    except ValidationError as error:  # inputs are hidden from the message: no password is printed
        typer.echo(f"settings refused: {error}", err=True)
        raise typer.Exit(1) from None
    try:
        outcome = asyncio.run(tick_once(settings))
    except (KafkaError, OSError, SQLAlchemyError) as error:
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        typer.echo(f"tick failed: {type(error).__name__}: {first_line}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"published {outcome.ticks_published} expiry-tick(s); settled {outcome.payments_settled} overdue payment(s)"
    )
