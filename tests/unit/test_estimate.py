"""Shares with 95 % intervals from a partial look (core/estimate.py)."""

import random

from hypothesis import given
from hypothesis import strategies as st

from dlqctl.core.estimate import shares, wilson


@given(
    st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    st.integers(0, 10**7),
)
def test_the_interval_holds_the_seen_share_and_stays_in_0_to_1(
    counted: tuple[int, int], extra: int
) -> None:
    count, sample = counted
    low, high = wilson(count, sample, sample + extra)
    assert 0.0 <= low <= count / sample <= high <= 1.0


def test_a_look_at_the_whole_queue_is_exact() -> None:
    assert wilson(30, 100, 100) == (0.3, 0.3)
    [only] = shares({"Timeout": 100}, 100, 100)
    assert (only.share, only.low, only.high, only.estimated) == (1.0, 1.0, 1.0, 100)


def test_a_bigger_sample_gives_a_narrower_interval() -> None:
    widths = [high - low for low, high in (wilson(n // 3, n, 10**6) for n in (30, 300, 3000))]
    assert widths == sorted(widths, reverse=True) and widths[-1] < 0.04


def test_95_percent_of_intervals_hold_the_truth() -> None:
    """Uniform samples from a known DLQ: the interval covers the true share about 95 % of
    the time (a fixed seed: the same 400 draws every run)."""
    rng = random.Random(20261202)
    population = ["Timeout"] * 30_000 + ["Poison"] * 9_000 + ["Unknown"] * 1_000
    truth = {"Timeout": 0.75, "Poison": 0.225, "Unknown": 0.025}
    covered = total = 0
    for _ in range(400):
        seen = rng.sample(population, 400)
        counts = {name: seen.count(name) for name in truth}
        for share in shares(counts, len(seen), len(population)):
            total += 1
            covered += share.low <= truth[share.value] <= share.high
    assert 0.92 <= covered / total <= 0.98


def test_estimated_totals_scale_the_share_to_the_queue() -> None:
    [timeout, poison] = shares({"Timeout": 75, "Poison": 25}, 100, 1_000_000)
    assert (timeout.value, timeout.estimated) == ("Timeout", 750_000)
    assert timeout.estimated_low < 750_000 < timeout.estimated_high
    assert poison.estimated_low <= 250_000 <= poison.estimated_high
