"""`giftcert apikey create|list|revoke`: the secret is printed once, kept only as a digest, and
accepted by `authenticate` until the key is revoked."""

import asyncio
import json
import re

import pytest
from click.testing import Result
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from giftcert.domain.api_key import Scope
from giftcert.operations.api_keys import authenticate
from giftcert.store.unit_of_work import UnitOfWorkFactory
from giftcert_services.cli.main import app

pytestmark = pytest.mark.integration


async def giftcert(database_url: str, *args: str) -> Result:
    environment = {"GIFTCERT_DATABASE_URL": database_url, "COLUMNS": "200"}
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=environment)


def secret_in(result: Result) -> str:
    assert result.exit_code == 0, result.output
    found = re.search(r"^secret: (\S+)$", result.stdout, re.MULTILINE)
    assert found is not None, result.stdout
    return found.group(1)


async def test_create_prints_a_secret_that_authenticate_accepts_for_its_workspace_and_scope(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    created = await giftcert(database_url, "apikey", "create", workspace, "--scope", "admin", "--label", "back office")
    secret = secret_in(created)
    assert "cannot be shown again" in created.stderr

    key = await authenticate(UnitOfWorkFactory(db, event_source="urn:test")(), secret)
    assert key is not None
    assert key.workspace_id == workspace
    assert key.scope is Scope.ADMIN
    assert key.label == "back office"


async def test_the_database_holds_only_a_digest_and_list_never_prints_a_secret(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    secret = secret_in(await giftcert(database_url, "apikey", "create", workspace, "--scope", "portal"))

    async with db.connect() as connection:
        stored = [
            " ".join(str(value) for value in row)
            for row in await connection.execute(text("SELECT * FROM api_keys WHERE workspace_id = :ws"),
                                                {"ws": workspace})
        ]
    assert len(stored) == 1
    assert secret not in stored[0]
    assert secret.removeprefix("gck_") not in stored[0]

    listed = await giftcert(database_url, "apikey", "list", workspace)
    assert listed.exit_code == 0, listed.output
    assert "portal" in listed.stdout
    assert secret not in listed.output
    as_json = json.loads((await giftcert(database_url, "apikey", "list", workspace, "--json")).stdout)
    assert [key["scope"] for key in as_json["api_keys"]] == ["portal"]
    assert "secret" not in as_json["api_keys"][0]


async def test_a_revoked_key_is_no_longer_accepted_and_revoking_it_again_exits_1(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    created = await giftcert(database_url, "apikey", "create", workspace, "--scope", "portal", "--json")
    made = json.loads(created.stdout)

    wrong_workspace = await giftcert(database_url, "apikey", "revoke", f"{workspace}-other", made["key_id"])
    assert wrong_workspace.exit_code == 1  # a key is revoked only through its own workspace
    revoked = await giftcert(database_url, "apikey", "revoke", workspace, made["key_id"])
    assert revoked.exit_code == 0, revoked.output
    assert await authenticate(UnitOfWorkFactory(db, event_source="urn:test")(), made["secret"]) is None
    again = await giftcert(database_url, "apikey", "revoke", workspace, made["key_id"])
    assert again.exit_code == 1
    assert "no live API key" in again.stderr
    listed = await giftcert(database_url, "apikey", "list", workspace)
    assert "revoked" in listed.stdout


async def test_create_refuses_an_unknown_scope(database_url: str, workspace: str) -> None:
    refused = await giftcert(database_url, "apikey", "create", workspace, "--scope", "root")
    assert refused.exit_code == 2
    assert "--scope" in refused.stderr


async def test_create_makes_a_booking_key_for_the_booking_platform(
    db: AsyncEngine, database_url: str, workspace: str
) -> None:
    secret = secret_in(await giftcert(database_url, "apikey", "create", workspace, "--scope", "booking"))
    key = await authenticate(UnitOfWorkFactory(db, event_source="urn:test")(), secret)
    assert key is not None
    assert key.scope is Scope.BOOKING
    assert not key.scope.allows(Scope.ADMIN)
    assert not key.scope.allows(Scope.PORTAL)
    listed = await giftcert(database_url, "apikey", "list", workspace)
    assert "booking" in listed.stdout
