"""The QR code of a redemption code: version 1 (21 x 21 modules), alphanumeric mode, error correction
level Q, mask 0.

Everything but the data is fixed, so the layout (finder, timing and format modules, the order in which
the data modules are filled, which of them the mask inverts) is worked out once per process; a code
then costs its Reed-Solomon check bytes and one write per data module: about 25 us, where segno, a
general encoder, takes some 300 us (a third of the certificate page) to lay out and mask the whole
symbol module by module. Any mask makes a valid QR code and a version 1 symbol scans whichever it has.
Level Q is the highest that holds a 12-character code; the symbols are those segno makes for
`segno.make(text, error="q", version=1, mask=0, boost_error=False)`."""

from collections.abc import Iterator

SIZE = 21
MASK = 0
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
CAPACITY = 16
"""Alphanumeric characters that fit in a version 1 symbol at level Q."""
DATA_CODEWORDS = 13
CHECK_CODEWORDS = 13
LEVEL_Q = 0b11
ALPHANUMERIC_MODE = 0b0010
FINDER_CORNERS = ((0, 0), (0, SIZE - 7), (SIZE - 7, 0))
TIMING = 6
"""The row and the column of the timing patterns."""
DARK_MODULE = (SIZE - 8, 8)


def _finder_modules() -> Iterator[tuple[tuple[int, int], bool]]:
    """The three finder patterns with their light separators: rings around each pattern's centre,
    dark at distances 0, 1 and 3."""
    for top, left in FINDER_CORNERS:
        for row in range(max(top - 1, 0), min(top + 8, SIZE)):
            for column in range(max(left - 1, 0), min(left + 8, SIZE)):
                yield (row, column), max(abs(row - top - 3), abs(column - left - 3)) in {0, 1, 3}


def _format_bits() -> int:
    """Level and mask, with their BCH(15, 5) check bits, XOR-ed with the standard's pattern."""
    data = LEVEL_Q << 3 | MASK
    remainder = data
    for _ in range(10):
        remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537)
    return (data << 10 | remainder) ^ 0x5412


def _format_positions() -> Iterator[tuple[int, int]]:
    """Where format bits 0 to 14 go, twice: beside the top-left finder, then split between the other two."""
    yield from [(row, 8) for row in (0, 1, 2, 3, 4, 5, 7, 8)] + [(8, column) for column in (7, 5, 4, 3, 2, 1, 0)]
    yield from [(8, SIZE - 1 - bit) for bit in range(8)] + [(SIZE - 15 + bit, 8) for bit in range(8, 15)]


def _function_modules() -> dict[tuple[int, int], bool]:
    """Every module that does not carry data, and whether it is dark."""
    modules = dict(_finder_modules())
    for index in range(SIZE):
        modules.setdefault((TIMING, index), index % 2 == 0)
        modules.setdefault((index, TIMING), index % 2 == 0)
    bits = _format_bits()
    for index, position in enumerate(_format_positions()):
        modules[position] = bool(bits >> (index % 15) & 1)
    modules[DARK_MODULE] = True
    return modules


def _placement_order() -> Iterator[tuple[int, int]]:
    """Column pairs from the right, skipping the timing column, zigzagging up and down."""
    for index, right in enumerate(range(SIZE - 1, 0, -2)):
        pair = right if right > TIMING else right - 1
        for row in reversed(range(SIZE)) if index % 2 == 0 else range(SIZE):
            yield row, pair
            yield row, pair - 1


FUNCTION_MODULES = _function_modules()
FUNCTION_PATTERNS = bytes(FUNCTION_MODULES.get((row, column), False) for row in range(SIZE) for column in range(SIZE))
"""The symbol, row after row, with every data module light."""
DATA_MODULES = tuple(row * SIZE + column for row, column in _placement_order() if (row, column) not in FUNCTION_MODULES)
"""Where in the symbol each bit of the codewords goes, first bit first."""
DATA_MASK = int("".join("1" if sum(divmod(index, SIZE)) % 2 == 0 else "0" for index in DATA_MODULES), 2)
"""The codewords' bits that mask 0 inverts: those of the modules whose row and column add up to an even number."""
BINARY_DIGITS = bytes.maketrans(b"01", b"\x00\x01")


def _gf_multiply(a: int, b: int) -> int:
    """Multiplication in GF(256) modulo the QR polynomial x^8 + x^4 + x^3 + x^2 + 1."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        a = (a << 1) ^ (0x11D if a & 0x80 else 0)
        b >>= 1
    return product


def _generator() -> list[int]:
    """The Reed-Solomon generator polynomial of degree 13, highest term first and omitted (it is 1)."""
    coefficients, root = [0] * (CHECK_CODEWORDS - 1) + [1], 1
    for _ in range(CHECK_CODEWORDS):
        for index in range(CHECK_CODEWORDS):
            coefficients[index] = _gf_multiply(coefficients[index], root)
            if index + 1 < CHECK_CODEWORDS:
                coefficients[index] ^= coefficients[index + 1]
        root = _gf_multiply(root, 2)
    return coefficients


GENERATOR_MULTIPLES = tuple(
    int.from_bytes(bytes(_gf_multiply(coefficient, factor) for coefficient in _generator()), "big")
    for factor in range(256)
)
"""The generator times each byte, its 13 coefficients as the bytes of one integer."""
CHECK_BITS = CHECK_CODEWORDS * 8


def _check_codewords(data: bytes) -> int:
    """The remainder of the data, as a polynomial, divided by the generator: 13 bytes as one integer."""
    remainder = 0
    for byte in data:
        factor = byte ^ remainder >> (CHECK_BITS - 8)
        remainder = (remainder << 8) % (1 << CHECK_BITS) ^ GENERATOR_MULTIPLES[factor]
    return remainder


def _data_codewords(text: str) -> bytes:
    """Mode, character count, the characters in pairs of 11 bits (an odd last one in 6), a terminator
    and padding."""
    if len(text) > CAPACITY or not set(text) <= set(ALPHANUMERIC):
        raise ValueError(f"a version 1 QR code at level Q holds at most {CAPACITY} of {ALPHANUMERIC!r}")
    values = [ALPHANUMERIC.index(character) for character in text]
    pairs = [f"{45 * values[i] + values[i + 1]:011b}" for i in range(0, len(values) - 1, 2)]
    odd = [f"{values[-1]:06b}"] if len(values) % 2 else []
    bits = "".join([f"{ALPHANUMERIC_MODE:04b}{len(text):09b}", *pairs, *odd])
    bits += "0" * min(4, DATA_CODEWORDS * 8 - len(bits))
    bits += "0" * (-len(bits) % 8)
    encoded = int(bits, 2).to_bytes(len(bits) // 8, "big")
    return encoded + (b"\xec\x11" * DATA_CODEWORDS)[: DATA_CODEWORDS - len(encoded)]


def qr_matrix(text: str) -> list[bytes]:
    """The symbol's rows, top to bottom, 1 for a dark module; without the quiet zone."""
    data = _data_codewords(text)
    codewords = int.from_bytes(data, "big") << CHECK_BITS | _check_codewords(data)
    masked = f"{codewords ^ DATA_MASK:0{len(DATA_MODULES)}b}".encode().translate(BINARY_DIGITS)
    symbol = bytearray(FUNCTION_PATTERNS)
    for index, bit in zip(DATA_MODULES, masked, strict=True):
        symbol[index] = bit
    return [bytes(symbol[start : start + SIZE]) for start in range(0, SIZE * SIZE, SIZE)]
