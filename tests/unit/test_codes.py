"""Redemption codes: alphabet without look-alikes, CSPRNG, matching ignores case, spaces, dashes."""

from giftcert.domain.codes import (
    ALPHABET,
    LENGTH,
    display_code,
    generate_code,
    last4,
    normalize_code,
)


def test_codes_have_twelve_characters_without_look_alikes() -> None:
    codes = {generate_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == LENGTH
        assert not set(code) & set("0O1IL")
        assert set(code) <= set(ALPHABET)


def test_matching_ignores_case_spaces_and_dashes() -> None:
    assert normalize_code("abcd-efgh-jkmn") == "ABCDEFGHJKMN"
    assert normalize_code("  ABCD EFGH\tJKMN ") == "ABCDEFGHJKMN"
    assert normalize_code("ab-cd--ef gh jk mn") == "ABCDEFGHJKMN"


def test_text_that_cannot_be_a_code_normalizes_to_nothing() -> None:
    assert normalize_code("ABCD-EFGH-JKM") is None
    assert normalize_code("ABCD-EFGH-JKMNP") is None
    assert normalize_code("ABCD-EFGH-JKM0") is None  # 0 is not in the alphabet
    assert normalize_code("'; DROP TABLE certificates; --") is None


def test_a_code_is_displayed_in_groups_of_four_and_only_its_last_four_are_shown_elsewhere() -> None:
    assert display_code("ABCDEFGHJKMN") == "ABCD-EFGH-JKMN"
    assert last4("ABCDEFGHJKMN") == "JKMN"
