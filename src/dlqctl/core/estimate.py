"""What a partial look says about the whole DLQ: shares with 95 % confidence intervals.

A look receives at most what may be held (and --max-scan / --sample), so on a deep DLQ it
sees a sample. SQS hands out messages from a random subset of its hosts on each receive,
so the messages a standard queue returns first are close to a uniform sample of it (not
exactly: it is not documented as random; the caveat travels with every estimate). A FIFO
queue only ever shows the heads of its groups: no estimate is made there.

Each share is a proportion of the messages seen, with Wilson's score interval (good at
small counts and near 0 % or 100 %, where the normal approximation is not) and the finite
population correction (a sample of most of the queue is nearly exact).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from dlqctl.models import Estimate, Share

Z_95 = 1.959964  # the standard normal's 97.5th percentile: a two-sided 95 % interval


def wilson(count: int, sample: int, population: int) -> tuple[float, float]:
    """The 95 % interval of a proportion `count / sample`, sampled without replacement
    from `population`: Wilson's interval at the effective sample size n(N-1)/(N-n), which
    is the finite population correction (it grows without bound as the sample nears the
    whole queue, where the share is exact)."""
    if sample <= 0:
        return 0.0, 1.0
    p = count / sample
    if population <= sample:
        return p, p
    n = sample * (population - 1) / (population - sample)
    z2 = Z_95 * Z_95
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z_95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def shares(counts: Mapping[str, int], sample: int, population: int) -> list[Share]:
    """Each value's share of the sample and of the population, largest first."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    found = []
    for value, count in ranked:
        low, high = wilson(count, sample, population)
        found.append(
            Share(
                value=value,
                count=count,
                share=round(count / sample, 4) if sample else 0.0,
                low=round(low, 4),
                high=round(high, 4),
                estimated=round(count / sample * population) if sample else 0,
                # What was seen is there for sure; what was seen not to be this is not.
                estimated_low=max(count, math.floor(low * population)),
                estimated_high=min(population - (sample - count), math.ceil(high * population)),
            )
        )
    return found


def estimate(
    *,
    sample: int,
    population: int,
    error_types: Mapping[str, int],
    sources: Mapping[str, int],
    ages: Mapping[str, int],
    kinds: Mapping[str, int] | None = None,
) -> Estimate:
    population = max(population, sample)
    return Estimate(
        sample_size=sample,
        population=population,
        by_error_type=shares(error_types, sample, population),
        by_source=shares(sources, sample, population),
        by_age=shares(ages, sample, population),
        by_kind=shares(kinds or {}, sample, population),
    )
