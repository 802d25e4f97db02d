"""`python -m bench.profile [--count N] [--out var/bench]`: where one certificate's CPU goes in the
libraries that draw and send it, in this process, fonts registered and caches warm first.

Two readings of the same `count` certificates (one sample document each, as the activation scenario
sends): the CPU time (`time.process_time`) of each stage run alone, and cProfile's share of the
parts inside it (the QR code by segno, the lines measured, shaped and drawn, reportlab writing the
file, the email built as an `EmailMessage` and flattened). Written to `<out>/profile.md`; the
activation scenario's per-process CPU (bench/activation.py) says the same for the processes, the
database and the broker included."""

import argparse
import cProfile
import pstats
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from bench.activation import sample_document
from giftcert.mail.compose import compose_certificate_email
from giftcert.rendering.certificate_pdf import render_certificate_pdf
from giftcert.rendering.fonts import faces

PARTS: tuple[tuple[str, str, str], ...] = (
    # (what, file ends with, function): cProfile's cumulative time of that function
    ("PDF: the QR code (segno's matrix)", "segno/__init__.py", "make_qr"),
    ("PDF: the QR code drawn (one rectangle per run)", "certificate_pdf.py", "_draw_qr"),
    ("PDF: text lines (bidi, font per run, HarfBuzz shaping, drawing)", "lines.py", "draw_line"),
    ("PDF: fitting text to its width", "certificate_pdf.py", "_size_to_fit"),
    ("PDF: reportlab writing the file (font subsets, compression, xref)", "canvas.py", "save"),
    ("PDF: all", "certificate_pdf.py", "render_certificate_pdf"),
    ("email: flattened to bytes (`as_bytes`)", "message.py", "as_bytes"),
    ("email: all (headers, text and HTML parts, the PDF attached, flattened)", "compose.py",
     "compose_certificate_email"),
)


def _compose(pdf: bytes) -> object:
    return compose_certificate_email(
        sample_document(), mail_from="Acme Tours <gifts@acme.example>", to_email="robin@example.com", pdf=pdf,
        certificate_id=uuid4(), sent_at=datetime.now(UTC),
    )


def _cpu_ms(run: Callable[[], object], count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        run()
    return (time.process_time() - started) * 1000 / count


def profile(count: int) -> str:
    faces()
    document = sample_document()
    pdf = render_certificate_pdf(document)
    _compose(pdf)  # catalogs compiled, header classes made
    pdf_ms = _cpu_ms(lambda: render_certificate_pdf(document), count)
    email_ms = _cpu_ms(lambda: _compose(pdf), count)

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        _compose(render_certificate_pdf(document))
    profiler.disable()
    stats = pstats.Stats(profiler)
    cumulative: dict[tuple[str, str], float] = {}
    for (filename, _, function), (_, _, _, total, _) in stats.stats.items():  # type: ignore[attr-defined]
        for _, ends, name in PARTS:
            if function == name and filename.endswith(ends):
                cumulative[ends, name] = cumulative.get((ends, name), 0.0) + total
    whole = cumulative.get(("certificate_pdf.py", "render_certificate_pdf"), 0.0) + cumulative.get(
        ("compose.py", "compose_certificate_email"), 0.0
    )
    lines = [
        (f"CPU per certificate in one process, {count} certificates ({len(pdf):,} bytes of PDF), "
         f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC:"),
        "",
        "| stage (unprofiled, `time.process_time`) | ms a certificate |",
        "|---|---:|",
        f"| PDF drawn (reportlab canvas, segno, embedded TrueType subsets) | {pdf_ms:.2f} |",
        f"| email composed and flattened (`EmailMessage`, PDF attached) | {email_ms:.2f} |",
        f"| both | {pdf_ms + email_ms:.2f} |",
        "",
        "| part (cProfile, cumulative; its share of PDF + email under the profiler) | share |",
        "|---|---:|",
        *(
            f"| {what} | {100 * cumulative.get((ends, name), 0.0) / whole:.0f}% |"
            for what, ends, name in PARTS
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("var/bench"))
    arguments = parser.parse_args()
    table = profile(arguments.count)
    arguments.out.mkdir(parents=True, exist_ok=True)
    (arguments.out / "profile.md").write_text(table)
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
