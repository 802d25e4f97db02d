"""Pacing: background work keeps to its items a second, on average over a run."""

import pytest

from giftcert.pacing import Pacing


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacing(per_second: float | None, time: FakeTime) -> Pacing:
    return Pacing(per_second, monotonic=time.monotonic, sleep=time.sleep)


async def test_a_run_ahead_of_its_pace_waits_until_it_is_back_on_it() -> None:
    time = FakeTime()
    pacer = pacing(10, time).start()
    await pacer.took(5)
    await pacer.took(5)
    assert time.slept == [pytest.approx(0.5), pytest.approx(0.5)]


async def test_a_run_slower_than_its_pace_never_waits() -> None:
    time = FakeTime()
    pacer = pacing(10, time).start()
    time.now += 2.0
    await pacer.took(5)
    assert time.slept == []


async def test_the_pace_is_an_average_over_the_run_so_a_slow_batch_leaves_room_for_the_next() -> None:
    time = FakeTime()
    pacer = pacing(10, time).start()
    time.now += 0.8  # the first 5 took longer than their 0.5 s
    await pacer.took(5)
    await pacer.took(5)  # due at 1.0 s, it is 0.8 s
    assert time.slept == [pytest.approx(0.2)]


async def test_without_a_pace_nothing_waits() -> None:
    time = FakeTime()
    pacer = pacing(None, time).start()
    await pacer.took(1_000_000)
    assert time.slept == []


@pytest.mark.parametrize("per_second", [0, -1.0])
def test_a_pace_is_a_positive_number_of_items_a_second(per_second: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacing(per_second)
