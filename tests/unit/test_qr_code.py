"""The certificate's own QR encoder makes, module for module, the symbol segno makes for the same text
at version 1, level Q, mask 0: segno, a general encoder, is the reference. Except where segno strays
from the standard: when the data and terminator end on a codeword boundary (7, 10 or 16 characters,
never a redemption code's 12), segno adds a zero codeword before the pad codewords."""

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st

from giftcert.domain.codes import ALPHABET, LENGTH
from giftcert.rendering.qr_code import ALPHANUMERIC, CAPACITY, DATA_MASK, DATA_MODULES, MASK, SIZE, qr_matrix

ON_A_CODEWORD_BOUNDARY = {7, 10, 16}


def _segno_rows(text: str) -> list[bytes]:
    symbol = segno.make(text, error="q", version=1, mask=MASK, micro=False, mode="alphanumeric", boost_error=False)
    return [bytes(row) for row in symbol.matrix]


@given(st.text(alphabet=ALPHABET, min_size=LENGTH, max_size=LENGTH))
def test_a_redemption_code_gives_the_symbol_segno_makes(code: str) -> None:
    assert qr_matrix(code) == _segno_rows(code)


@given(st.text(alphabet=ALPHANUMERIC, min_size=1, max_size=CAPACITY).filter(
    lambda text: len(text) not in ON_A_CODEWORD_BOUNDARY
))
def test_any_alphanumeric_text_that_fits_gives_the_symbol_segno_makes(text: str) -> None:
    assert qr_matrix(text) == _segno_rows(text)


def _data_codewords(rows: list[bytes]) -> bytes:
    """The 13 data codewords read back from the symbol's data modules, the mask undone."""
    symbol = b"".join(rows)
    bits = int("".join(str(symbol[index]) for index in DATA_MODULES), 2) ^ DATA_MASK
    return bits.to_bytes(len(DATA_MODULES) // 8, "big")[:13]


def test_data_ending_on_a_codeword_boundary_is_followed_by_the_pad_codewords() -> None:
    mode_and_count = bytes([0b0010_0000, 0b0101_0000])  # alphanumeric, 10 characters; then 55 zero bits
    assert _data_codewords(qr_matrix("0" * 10)) == mode_and_count + bytes(7) + b"\xec\x11\xec\x11"


def test_the_symbol_is_21_rows_of_21_modules() -> None:
    rows = qr_matrix("ABCDEFGHJKMN")
    assert len(rows) == SIZE
    assert {len(row) for row in rows} == {SIZE}
    assert {module for row in rows for module in row} == {0, 1}


@pytest.mark.parametrize("text", ["A" * (CAPACITY + 1), "abcdefghjkmn", "ABCD_EFGH"])
def test_text_a_version_1_symbol_cannot_hold_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="version 1 QR code"):
        qr_matrix(text)
