"""`giftcert certificates ...`: what an operator does with certificates from a terminal.

Every command goes through the same operations and ledger functions as the other doors (HTTP,
Kafka), so a void from here is decided and published exactly like a `void` message. Output is for
people by default; `--json` prints one JSON document for scripts. A full code is printed only by
`issue` and never by search, show or export (which print `code_last4`).

One module per command group: lookup (search, show), exporting (export), issuing (issue),
operator_commands (void, reactivate), delivery (pdf, resend); output holds what they print alike."""

import typer

from giftcert_services.cli.certificates import delivery, exporting, issuing, lookup, operator_commands
from giftcert_services.cli.certificates.output import EXIT_STATUSES

app = typer.Typer(help=f"Search, export, issue, void and deliver certificates. {EXIT_STATUSES}", no_args_is_help=True)
app.command("search")(lookup.search)
app.command("show")(lookup.show)
app.command("export")(exporting.export)
app.command("issue")(issuing.issue)
app.command("void")(operator_commands.void)
app.command("reactivate")(operator_commands.reactivate)
app.command("pdf")(delivery.pdf)
app.command("resend")(delivery.resend)
