"""The rule that lets a rolling upgrade run two releases side by side on one schema: a migration's
upgrade only adds (tables, indexes, columns that are nullable or have a server default), so the
previous release, which names the columns it reads and writes, runs unchanged on the migrated
schema (README, "Upgrading"). A migration that must drop, rename or change something comes in two
releases: first the code that no longer needs it, then the migration; this test names it."""

import ast
from pathlib import Path

import pytest

from giftcert.store.migrate import MIGRATIONS

ADDING = {"create_table", "create_index", "add_column"}
CREATING_SQL = ("CREATE FUNCTION", "CREATE TRIGGER", "CREATE INDEX")
"""Raw SQL (`op.execute`) that only creates: a trigger and its function add behaviour old code
does not see."""
VERSIONS = sorted((MIGRATIONS / "versions").glob("*.py"))


def _upgrade(path: Path) -> ast.FunctionDef:
    tree = ast.parse(path.read_text())
    return next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "upgrade")


def _operations(function: ast.FunctionDef) -> list[ast.Call]:
    return [node for node in ast.walk(function) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "op"]


def _column_may_be_absent_from_inserts(call: ast.Call) -> bool:
    """An added column that old code, which never writes it, can live with."""
    column = next((a for a in call.args if isinstance(a, ast.Call)), None)
    if column is None:
        return False
    keywords = {k.arg: k.value for k in column.keywords}
    nullable = keywords.get("nullable")
    return "server_default" in keywords or nullable is None or (
        isinstance(nullable, ast.Constant) and nullable.value is True
    )


def test_there_are_migrations_to_check() -> None:
    assert len(VERSIONS) >= 4


@pytest.mark.parametrize("path", VERSIONS, ids=[p.stem for p in VERSIONS])
def test_a_migration_only_adds_what_the_previous_release_can_ignore(path: Path) -> None:
    for call in _operations(_upgrade(path)):
        assert isinstance(call.func, ast.Attribute)
        if call.func.attr == "execute":
            (statement,) = call.args
            assert isinstance(statement, ast.Constant), f"{path.name}: op.execute of computed SQL"
            assert str(statement.value).strip().upper().startswith(CREATING_SQL), f"{path.name}: {statement.value}"
            continue
        assert call.func.attr in ADDING, f"{path.name}: op.{call.func.attr} in upgrade()"
        if call.func.attr == "add_column":
            assert _column_may_be_absent_from_inserts(call), f"{path.name}: a NOT NULL column without a default"
