"""A started worker's objects are left out of later garbage collections; what its startup left as
garbage is collected first, not kept for ever."""

import gc
import weakref
from collections.abc import Iterator

import pytest

from giftcert.rendering.fonts import faces
from giftcert_services.runtime.heap import freeze_startup_heap, freeze_startup_heap_of


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()


def _tracked(generation: int, obj: object) -> bool:
    return any(o is obj for o in gc.get_objects(generation))


@pytest.mark.usefixtures("thawed")
def test_objects_alive_at_startup_are_skipped_by_later_collections() -> None:
    kept = [Node()]
    gc.collect()
    assert _tracked(2, kept)

    freeze_startup_heap()

    assert gc.get_freeze_count() > 0

    assert not any(_tracked(generation, kept) for generation in (0, 1, 2))
    gc.collect()
    assert not any(_tracked(generation, kept) for generation in (0, 1, 2))


@pytest.mark.usefixtures("thawed")
def test_garbage_left_by_the_startup_is_collected_not_frozen() -> None:
    garbage = Node()
    gone = weakref.ref(garbage)
    del garbage

    freeze_startup_heap()

    assert gone() is None


@pytest.mark.usefixtures("thawed")
def test_objects_made_after_the_freeze_are_collected_as_before() -> None:
    freeze_startup_heap()
    later = Node()
    gone = weakref.ref(later)
    del later

    gc.collect()

    assert gone() is None


@pytest.mark.usefixtures("thawed")
def test_a_process_that_draws_pdfs_registers_its_fonts_before_its_heap_is_frozen() -> None:
    faces.cache_clear()

    freeze_startup_heap_of(("documents", "relay"))()

    assert faces.cache_info().currsize == 1  # registered by the hook, not by a first certificate
    registered = faces()
    assert not any(_tracked(generation, registered) for generation in (0, 1, 2))


@pytest.mark.usefixtures("thawed")
def test_a_process_that_draws_no_pdf_leaves_the_fonts_unloaded() -> None:
    faces.cache_clear()

    freeze_startup_heap_of(("ledger", "relay"))()

    assert faces.cache_info().currsize == 0
