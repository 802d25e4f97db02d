"""A worker's long-lived objects, kept out of the cyclic garbage collector's way (decision 17).

A started worker holds about 170,000 objects the collector tracks and that live as long as the
process: modules, pydantic's validators, SQLAlchemy's tables and compiled statements, FastStream's
subscribers, aiokafka's and asyncpg's clients. Every full (generation 2) collection walked them all,
and the event loop stood still meanwhile: about 170 ms a collection on the benchmark's machine, a few
times a minute under load. `freeze_startup_heap`, called once the worker has started, collects what
the startup left as garbage, then moves every object that is left into the permanent generation
(`gc.freeze`), which collections skip: a full collection walks only what was made since.

What a process loads on first use and keeps for its life is loaded before the freeze, in a process
that draws PDFs (`freeze_startup_heap_of`): what each font face covers, and the first face, which
nearly every page prints in. The other faces are parsed on the first page that needs them (the
Chinese, Japanese and Korean ones are 42 MB: giftcert.rendering.fonts), and stay in later walks.

Frozen objects are still freed by reference counting when the last reference goes; only a reference
cycle among them would outlive its use, and these objects are the process's own for its lifetime."""

import gc
import logging
from collections.abc import Callable, Collection

from giftcert.rendering.fonts import register_first_face

log = logging.getLogger("giftcert.heap")


def freeze_startup_heap() -> None:
    gc.collect()
    gc.freeze()
    log.info("startup objects left out of garbage collections from now on: %s", gc.get_freeze_count())


DRAWS_PDFS = frozenset({"documents", "api"})
"""The services that draw PDFs: the documents worker (certificates), the API (downloads, sales reports)."""


def freeze_startup_heap_of(services: Collection[str]) -> Callable[[], None]:
    """The hook that freezes a started process's heap, its fonts registered first when it draws PDFs."""

    def freeze() -> None:
        if DRAWS_PDFS.intersection(services):
            register_first_face()  # reads what every face covers (`faces`), then registers the first
        freeze_startup_heap()

    return freeze
