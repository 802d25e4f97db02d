"""Redemption codes: 12 characters from an alphabet without look-alikes, drawn from a CSPRNG.

A code is a bearer secret. Matching ignores case, spaces and dashes; only `last4` may be shown
outside the PDF, the recipient's email and operator look-ups.
"""

import re
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
LENGTH = 12
_SEPARATORS = re.compile(r"[\s\-]+")


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_code(entered: str) -> str | None:
    """The canonical form of what a customer typed, or None when it cannot be any code."""
    candidate = _SEPARATORS.sub("", entered).upper()
    if len(candidate) != LENGTH or any(ch not in ALPHABET for ch in candidate):
        return None
    return candidate


def display_code(code: str) -> str:
    """`ABCD-EFGH-JKMN`: how the PDF and the email print a code."""
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


def last4(code: str) -> str:
    return code[-4:]
