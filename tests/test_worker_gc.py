"""A server worker's garbage collector: the start-up heap frozen, young collections less often."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from zerotrip.app import WORKER_GC_THRESHOLD, settle_heap


class Node:
    next: object = None


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_settle_heap_freezes_what_exists_and_raises_the_young_threshold(restored_gc: None) -> None:
    survivor = [object() for _ in range(100)]
    gc.set_threshold(700, 10, 10)
    settle_heap()
    assert gc.get_freeze_count() >= len(survivor)
    assert gc.get_threshold() == (WORKER_GC_THRESHOLD, 10, 10)
    # What is made afterwards is still collected: a cycle made now goes with the next collection.
    cycle = Node()
    cycle.next = cycle
    watch = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert watch() is None


def test_settle_heap_keeps_a_higher_threshold(restored_gc: None) -> None:
    gc.set_threshold(50_000, 10, 10)
    settle_heap()
    assert gc.get_threshold()[0] == 50_000
