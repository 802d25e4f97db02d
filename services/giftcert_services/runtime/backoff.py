"""Exponential backoff with full jitter, capped: the pause before retry number `attempt`."""

import random


def backoff_seconds(attempt: int, *, initial: float, maximum: float) -> float:
    ceiling = min(maximum, initial * (2 ** min(attempt, 30)))
    return random.uniform(ceiling / 2, ceiling)
