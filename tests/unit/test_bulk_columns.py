"""Rows become one array per column for a set-based statement; a row of the wrong shape is refused."""

import pytest

from giftcert.store.bulk import columns


def test_rows_become_one_list_per_column_in_row_order() -> None:
    rows = [(1, "a", None), (2, "b", True)]
    assert columns(iter(rows), ("id", "name", "flag")) == {"id": [1, 2], "name": ["a", "b"], "flag": [None, True]}


def test_no_rows_give_empty_columns() -> None:
    assert columns([], ("id", "name")) == {"id": [], "name": []}


@pytest.mark.parametrize("rows", [[(1, "a"), (2,)], [(1,), (2,)], [(1, "a", "extra")]])
def test_a_row_of_another_length_than_the_columns_is_refused(rows: list[tuple[object, ...]]) -> None:
    with pytest.raises(ValueError, match="zip"):
        columns(rows, ("id", "name"))
