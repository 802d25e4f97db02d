"""`giftcert certificates search|show|issue|void|reactivate|pdf|resend` and `workspace set
--activation-email`, run through the Typer app against the session's real PostgreSQL."""

import asyncio
import json
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from click.testing import Result
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from giftcert.domain.codes import display_code
from giftcert.mail.sink import MailFolderSink
from giftcert.operations.issuing import issue_certificate, record_offline_payment
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_contracts.inbound import PurchaseRequested
from giftcert_services.cli.main import app
from giftcert_services.integrator import requests
from tests.scenario import code_of, configure

pytestmark = pytest.mark.integration


class _Stopped:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def giftcert(database_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    """The command as an operator runs it; CliRunner runs its own event loop, so in a thread."""
    environment = {"GIFTCERT_DATABASE_URL": database_url, "COLUMNS": "200"} | (env or {})
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=environment)


async def issued(
    db: AsyncEngine, workspace: str, *, at: datetime | None = None, paid: bool = True, **purchase: Any
) -> UUID:
    """A certificate issued (and paid) at a chosen moment, for searches by date."""
    clock = _Stopped(at or datetime.now(UTC))
    new_uow = UnitOfWorkFactory(db, event_source="urn:test")
    command = PurchaseRequested.model_validate(requests.purchase(workspace, channel="admin", **purchase))
    result = await issue_certificate(command, new_uow, clock)
    if paid:
        await record_offline_payment(workspace, command.certificate_id, f"pay-{uuid4()}", new_uow, clock)
    return result.certificate.id


def found_ids(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [c["certificate_id"] for c in json.loads(result.stdout)["certificates"]]


async def test_search_finds_a_certificate_by_its_code_in_another_spelling_and_shows_only_last4(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace)
    wanted = await issued(db, workspace)
    await issued(db, workspace)
    code = await code_of(db, wanted)
    spelled = display_code(code).lower()  # "abcd-efgh-jkmn"

    as_json = await giftcert(
        database_url, "certificates", "search", "--workspace", workspace, "--code", spelled, "--json"
    )
    assert found_ids(as_json) == [str(wanted)]
    assert code not in as_json.stdout

    human = await giftcert(database_url, "certificates", "search", "--workspace", workspace, "--code", spelled)
    assert human.exit_code == 0, human.output
    assert str(wanted) in human.stdout
    assert code[-4:] in human.stdout
    assert code not in human.stdout
    assert display_code(code) not in human.stdout
    assert "EUR 50.00" in human.stdout


async def test_search_by_purchaser_or_recipient_email_ignores_case(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace)
    for_ann = await issued(db, workspace, recipient={"name": "Ann", "email": "ann@example.com"})
    from_bob = await issued(db, workspace, purchaser={"name": "Bob", "email": "bob@example.com"})
    search = ("certificates", "search", "--workspace", workspace, "--json")

    assert found_ids(await giftcert(database_url, *search, "--recipient-email", "ANN@example.com")) == [str(for_ann)]
    assert found_ids(await giftcert(database_url, *search, "--purchaser-email", "Bob@Example.com")) == [str(from_bob)]


async def test_search_by_status_returns_only_that_status(db: AsyncEngine, database_url: str, workspace: str) -> None:
    await configure(db, workspace)
    pending = await issued(db, workspace, paid=False)
    active = await issued(db, workspace)
    search = ("certificates", "search", "--workspace", workspace, "--json", "--status")

    assert found_ids(await giftcert(database_url, *search, "pending")) == [str(pending)]
    assert found_ids(await giftcert(database_url, *search, "active")) == [str(active)]
    assert found_ids(await giftcert(database_url, *search, "voided")) == []


async def test_search_date_ranges_take_whole_utc_days_or_exact_times(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace, expiry_days=100)
    january = await issued(db, workspace, at=datetime(2026, 1, 10, 10, tzinfo=UTC))
    february = await issued(db, workspace, at=datetime(2026, 2, 15, 10, tzinfo=UTC))
    march = await issued(db, workspace, at=datetime(2026, 3, 20, 10, tzinfo=UTC))
    search = ("certificates", "search", "--workspace", workspace, "--json")

    in_february = await giftcert(database_url, *search, "--created-from", "2026-02-01", "--created-to", "2026-02-28")
    assert found_ids(in_february) == [str(february)]
    up_to_the_day = await giftcert(database_url, *search, "--created-to", "2026-02-15")  # the whole day
    assert found_ids(up_to_the_day) == [str(february), str(january)]
    after_ten = await giftcert(database_url, *search, "--created-from", "2026-02-15T10:00:01Z")
    assert found_ids(after_ten) == [str(march)]
    with_offset = await giftcert(database_url, *search, "--created-to", "2026-02-15T11:00:00+01:00")  # 10:00 UTC
    assert found_ids(with_offset) == [str(january)]
    # expiry = issue + 100 days: 2026-04-20, 2026-05-26, 2026-06-28
    expiring = await giftcert(database_url, *search, "--expires-from", "2026-05-01", "--expires-to", "2026-06-30")
    assert found_ids(expiring) == [str(march), str(february)]

    nonsense = await giftcert(database_url, *search, "--created-from", "last tuesday")
    assert nonsense.exit_code == 2
    assert "--created-from" in nonsense.stderr
    assert "Traceback" not in nonsense.output


async def test_search_pages_with_after_return_every_certificate_once_newest_first(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace)
    same_moment = datetime(2026, 5, 1, 9, tzinfo=UTC)  # ties on created_at are ordered by id
    made = [await issued(db, workspace, at=same_moment if i % 2 else datetime(2026, 5, 1, i, tzinfo=UTC))
            for i in range(7)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page_args = ["--after", cursor] if cursor else []
        result = await giftcert(
            database_url, "certificates", "search", "--workspace", workspace, "--limit", "3", "--json", *page_args
        )
        assert result.exit_code == 0, result.output
        page = json.loads(result.stdout)
        seen += [c["certificate_id"] for c in page["certificates"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == {str(c) for c in made}

    bad_cursor = await giftcert(database_url, "certificates", "search", "--workspace", workspace, "--after", "xyz")
    assert bad_cursor.exit_code == 2
    assert "cursor" in bad_cursor.stderr


async def test_another_workspaces_certificate_is_never_found_shown_or_voided(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    other = f"{workspace}-other"
    await configure(db, workspace)
    await configure(db, other)
    theirs = await issued(db, other, recipient={"name": "Ann", "email": "shared@example.com"})
    code = await code_of(db, theirs)

    by_code = await giftcert(database_url, "certificates", "search", "--workspace", workspace, "--code", code, "--json")
    assert found_ids(by_code) == []
    by_email = await giftcert(
        database_url, "certificates", "search", "--workspace", workspace, "--recipient-email", "shared@example.com",
        "--json",
    )
    assert found_ids(by_email) == []
    shown = await giftcert(database_url, "certificates", "show", str(theirs), "--workspace", workspace)
    assert shown.exit_code == 1
    assert "no certificate" in shown.stderr
    voided = await giftcert(
        database_url, "certificates", "void", str(theirs), "--workspace", workspace, "--reason", "x", "--actor", "y"
    )
    assert voided.exit_code == 1
    assert "not_found" in voided.stderr


async def test_show_prints_the_certificate_with_its_activity_and_only_the_last4_of_its_code(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace)
    certificate_id = await issued(db, workspace)
    code = await code_of(db, certificate_id)

    human = await giftcert(database_url, "certificates", "show", str(certificate_id), "--workspace", workspace)
    assert human.exit_code == 0, human.output
    assert "status: active" in human.stdout
    assert f"code_last4: {code[-4:]}" in human.stdout
    assert code not in human.stdout
    assert "activity:" in human.stdout

    as_json = await giftcert(
        database_url, "certificates", "show", str(certificate_id), "--workspace", workspace, "--json"
    )
    shown = json.loads(as_json.stdout)
    assert shown["status"] == "active"
    assert shown["channel"] == "admin"
    assert shown["activity"][0]["kind"] == "created"


async def test_issue_with_a_payment_reference_is_active_at_once_and_the_same_id_issues_nothing_new(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace, currency="CHF")
    certificate_id = str(uuid4())
    issue = (
        "certificates", "issue", "--workspace", workspace, "--amount-minor", "7500",
        "--purchaser-name", "Pat", "--purchaser-email", "pat@example.com",
        "--recipient-name", "Robin", "--recipient-email", "robin@example.com",
        "--certificate-id", certificate_id, "--payment-reference", "till-42",
    )

    first = await giftcert(database_url, *issue, "--json")
    assert first.exit_code == 0, first.output
    made = json.loads(first.stdout)
    assert made["certificate_id"] == certificate_id
    assert made["status"] == "active"
    assert made["amount"] == {"minor": 7500, "currency": "CHF"}  # the workspace's currency
    assert made["code"] == display_code(await code_of(db, certificate_id))  # the operator's look-up
    assert made["created_now"] is True

    again = await giftcert(database_url, *issue)
    assert again.exit_code == 0, again.output
    assert "issued before" in again.stdout
    assert "status: active" in again.stdout
    async with db.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM certificates WHERE workspace_id = :ws"), {"ws": workspace}
        )
    assert count == 1


async def test_issue_without_a_payment_reference_leaves_the_certificate_pending(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace)
    result = await giftcert(
        database_url, "certificates", "issue", "--workspace", workspace, "--amount-minor", "5000",
        "--purchaser-name", "Pat", "--purchaser-email", "pat@example.com",
        "--recipient-name", "Robin", "--recipient-email", "robin@example.com", "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "pending"


async def test_issue_refused_by_the_workspace_rules_exits_1_with_the_reason_code(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace, max_minor=10_000)
    common = (
        "certificates", "issue", "--workspace", workspace,
        "--purchaser-name", "Pat", "--purchaser-email", "pat@example.com",
        "--recipient-name", "Robin", "--recipient-email", "robin@example.com",
    )
    too_much = await giftcert(database_url, *common, "--amount-minor", "20000")
    assert too_much.exit_code == 1
    assert "amount_out_of_range" in too_much.stderr
    assert "Traceback" not in too_much.output

    bad_email = await giftcert(
        database_url, "certificates", "issue", "--workspace", workspace, "--amount-minor", "5000",
        "--purchaser-name", "Pat", "--purchaser-email", "not-an-email",
        "--recipient-name", "Robin", "--recipient-email", "robin@example.com",
    )
    assert bad_email.exit_code == 2
    assert "--purchaser-email" in bad_email.stderr

    missing = await giftcert(database_url, "certificates", "issue", "--workspace", workspace, "--amount-minor", "5000")
    assert missing.exit_code == 2
    assert "--recipient-email" in missing.stderr


async def test_void_then_reactivate_go_through_the_ledger_and_the_activity_log(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace)
    certificate_id = str(await issued(db, workspace))
    operator = ("--workspace", workspace, "--actor", "ops@example.com")

    voided_request = str(uuid4())
    voided = await giftcert(
        database_url, "certificates", "void", certificate_id, *operator, "--reason", "fraud check",
        "--request-id", voided_request,
    )
    assert voided.exit_code == 0, voided.output
    assert f"voided certificate {certificate_id}" in voided.stdout
    reactivated = await giftcert(
        database_url, "certificates", "reactivate", certificate_id, *operator, "--reason", "cleared", "--json"
    )
    assert reactivated.exit_code == 0, reactivated.output
    assert json.loads(reactivated.stdout)["outcome"] == "certificate-reactivated"

    shown = json.loads((await giftcert(database_url, "certificates", "show", certificate_id, "--workspace", workspace,
                                       "--json")).stdout)
    assert shown["status"] == "active"
    kinds = [(e["kind"], e.get("reason")) for e in shown["activity"]]
    assert ("voided", "fraud check") in kinds
    assert ("reactivated", "cleared") in kinds
    repeated = await giftcert(
        database_url, "certificates", "void", certificate_id, *operator, "--reason", "fraud check",
        "--request-id", voided_request, "--json",
    )  # a repeat of a decided request gets the stored answer, as a repeated void message would
    assert repeated.exit_code == 0, repeated.output
    assert json.loads(repeated.stdout)["outcome"] == "certificate-voided"
    assert "status: active" in (await giftcert(database_url, "certificates", "show", certificate_id,
                                               "--workspace", workspace)).stdout


async def test_a_void_request_id_again_with_another_reason_exits_1_as_idempotency_key_reused(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace)
    certificate_id = str(await issued(db, workspace))
    request = ("--workspace", workspace, "--actor", "ops@example.com", "--request-id", str(uuid4()))
    voided = await giftcert(database_url, "certificates", "void", certificate_id, *request, "--reason", "fraud")
    assert voided.exit_code == 0, voided.output
    other = await giftcert(database_url, "certificates", "void", certificate_id, *request, "--reason", "typo")
    assert other.exit_code == 1
    assert "idempotency_key_reused" in other.stderr
    assert "Traceback" not in other.output


async def test_a_refused_void_exits_1_with_the_reason_code_and_detail(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    await configure(db, workspace)
    pending = str(await issued(db, workspace, paid=False))

    refused = await giftcert(
        database_url, "certificates", "void", pending, "--workspace", workspace, "--reason", "r", "--actor", "a"
    )
    assert refused.exit_code == 1
    assert "not_active" in refused.stderr
    assert "pending" in refused.stderr
    assert "Traceback" not in refused.output
    not_voided = await giftcert(
        database_url, "certificates", "reactivate", pending, "--workspace", workspace, "--reason", "r", "--actor", "a"
    )
    assert not_voided.exit_code == 1
    assert "not_voided" in not_voided.stderr


async def test_pdf_writes_the_certificate_document_and_refuses_a_pending_one(
    db: AsyncEngine, database_url: str, workspace: str, tmp_path: Path
) -> None:
    await configure(db, workspace)
    active = await issued(db, workspace)
    pending = await issued(db, workspace, paid=False)
    target = tmp_path / "certificate.pdf"

    written = await giftcert(database_url, "certificates", "pdf", str(active), "--workspace", workspace,
                             "--output", str(target))
    assert written.exit_code == 0, written.output
    assert target.read_bytes().startswith(b"%PDF")

    refused = await giftcert(database_url, "certificates", "pdf", str(pending), "--workspace", workspace,
                             "--output", str(tmp_path / "pending.pdf"))
    assert refused.exit_code == 1
    assert "not paid" in refused.stderr
    assert not (tmp_path / "pending.pdf").exists()


async def test_resend_emails_the_certificate_to_its_recipient_through_smtp(
    db: AsyncEngine, database_url: str, workspace: str, mail_sink: MailFolderSink, mail_folder: Path
) -> None:
    await configure(db, workspace, send_activation_email=False)
    recipient = f"resend-{uuid4().hex[:8]}@example.com"
    certificate_id = await issued(db, workspace, recipient={"name": "Robin", "email": recipient})
    smtp = {"GIFTCERT_SMTP_HOST": mail_sink.host, "GIFTCERT_SMTP_PORT": str(mail_sink.port),
            "GIFTCERT_SMTP_SECURITY": "none"}

    sent = await giftcert(database_url, "certificates", "resend", str(certificate_id), "--workspace", workspace,
                          env=smtp)
    assert sent.exit_code == 0, sent.output
    assert recipient in sent.stdout
    received = [
        message for path in mail_folder.glob("*.eml")
        if recipient in str((message := message_from_bytes(path.read_bytes(), policy=default))["To"])
    ]
    assert len(received) == 1
    attachments = [part.get_content_type() for part in received[0].iter_attachments()]
    assert "application/pdf" in attachments

    pending = await issued(db, workspace, paid=False)
    refused = await giftcert(database_url, "certificates", "resend", str(pending), "--workspace", workspace, env=smtp)
    assert refused.exit_code == 1
    assert "not_active" in refused.stderr


async def test_workspace_set_turns_the_activation_email_off_and_on(database_url: str, workspace: str) -> None:
    off = await giftcert(database_url, "workspace", "set", workspace, "--no-activation-email")
    assert off.exit_code == 0, off.output
    assert "send_activation_email: False" in off.stdout
    on = await giftcert(database_url, "workspace", "set", workspace, "--activation-email")
    assert "send_activation_email: True" in on.stdout


async def test_workspace_set_sets_the_default_locale_and_refuses_one_that_is_no_bcp_47_tag(
    database_url: str, workspace: str
) -> None:
    assert "locale: en" in (await giftcert(database_url, "workspace", "set", workspace)).stdout
    german = await giftcert(database_url, "workspace", "set", workspace, "--locale", "de-AT")
    assert german.exit_code == 0, german.output
    assert "locale: de-AT" in german.stdout
    refused = await giftcert(database_url, "workspace", "set", workspace, "--locale", "deutsch!")
    assert refused.exit_code != 0
