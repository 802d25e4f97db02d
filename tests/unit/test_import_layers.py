"""Imports inside libs/giftcert point one way: down the layers below, never up, never sideways.

Bottom to top (README, Layout):
  clock, metrics, pacing  tools any layer may use; they import nothing of ours
  domain      money, codes, the certificate and its rules, the reports' figures
  locales     gettext catalogs and Babel's formats for a locale
  rendering   the certificate and sales-report PDFs, from domain values
  mail        composing and sending email, from domain values
  messaging   what the inbox and outbox hold (keys, rows, lanes), trace context; no SQL
  store       PostgreSQL: tables, repositories, the unit of work, the inbox's and outbox's SQL
  ports       the unit of work and its repositories as protocols, what handlers are typed against
  ledger      one handler per inbound message
  operations  the portal's and operators' commands and queries
  delivery    the PDF worker's and the mailer's handlers: rendering and mail for a certificate
  settings    the process's configuration (wiring: it may name anything below)
  embedded    PostgreSQL and Tansu as child processes, for development and tests

Rendering and mail sit low because they need nothing but domain values: neither may reach into the
store or the ledger. A module may import its own package and any package of a lower layer. The
imports are read with `ast` (nothing is executed), wherever they are: at the top, inside functions,
under TYPE_CHECKING. Run on its own: `.venv/bin/pytest tests/unit/test_import_layers.py`."""

import ast
from pathlib import Path

LIBS = Path(__file__).resolve().parents[2] / "libs" / "giftcert"
LAYERS: tuple[tuple[str, ...], ...] = (
    ("clock", "metrics", "pacing"),
    ("domain",),
    ("locales",),
    ("rendering",),
    ("mail",),
    ("messaging",),
    ("store",),
    ("ports",),
    ("ledger",),
    ("operations",),
    ("delivery",),
    ("settings",),
    ("embedded",),
)
LAYER_OF = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def _package(module: str) -> str | None:
    """`giftcert.store.inbox` -> `store`; None for a module outside giftcert."""
    parts = module.split(".")
    return parts[1] if parts[0] == "giftcert" and len(parts) > 1 else None


def _imported(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, module) for each import of `path`, relative ones resolved."""
    here = ["giftcert", *path.relative_to(root).with_suffix("").parts]  # a package's __init__ counts as in it
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, module))
    return found


def upward_imports(root: Path) -> list[str]:
    """Every import in the tree at `root` (a libs/giftcert) of a package not below the importer's."""
    wrong: list[str] = []
    for path in sorted(root.rglob("*.py")):
        own = path.relative_to(root).parts[0].removesuffix(".py")
        for line, module in _imported(path, root):
            target = _package(module)
            if target is None or target == own:
                continue
            if LAYER_OF[target] >= LAYER_OF[own]:
                wrong.append(f"{path.relative_to(root)}:{line} ({own}) imports {module} ({target})")
    return wrong


def test_every_package_of_giftcert_has_a_layer() -> None:
    packages = {p.name.removesuffix(".py") for p in LIBS.iterdir() if p.name != "__init__.py"}
    packages = {name for name in packages if not name.startswith("__")}
    assert packages == set(LAYER_OF)


def test_no_import_in_giftcert_runs_up_or_sideways() -> None:
    assert upward_imports(LIBS) == []


def test_an_import_running_up_is_found(tmp_path: Path) -> None:
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "money.py").write_text("def f():\n    from giftcert.store import schema\n")
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "schema.py").write_text("from ..ledger import purchase\nfrom giftcert.domain import money\n")
    assert upward_imports(tmp_path) == [
        "domain/money.py:2 (domain) imports giftcert.store (store)",
        "store/schema.py:1 (store) imports giftcert.ledger (ledger)",
    ]
