"""Trigger survival's single-control draws, leaner (issue 22, stop 34).

``_matched_lifetimes`` drew each exposed account's control as ``rng.integers(0, n)``
(2.5 microseconds a call, 100,000 calls at 100,000 accounts), summed its group's block
counts again before each search (``_Counts.nth``) and found the drawn account's group
again. Now the draws come from :class:`playbook.analyses.triggers._IntegersBelow` (the
generator's own 32-bit stream, Lemire's method as numpy does it), ``_Counts`` keeps its
running total, and the drawn member is cleared in the group it was drawn from. References:
``rng.integers`` itself, a plain count of the flags, and the stop-33 loop (below) on random
cases and the demo.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import triggers as tr
from tests.test_vectorised_triggers import (
    demo_lifetimes,
    lifetimes_frame,
    random_case,
)


def reference_matched_lifetimes(lives, trigger_type: str, *, controls: int,
                                seed: int) -> pd.DataFrame:
    """``_matched_lifetimes`` at stop 33: ``rng.integers`` per control, the pool's
    ``take`` by position."""
    mine = lives.types == trigger_type
    rows, found = tr._first_triggers(lives, mine)
    has = np.zeros(len(lives.life_code) + len(lives.trigger_code) + 1, dtype=bool)
    has[lives.trigger_code[mine]] = True
    pool = lives.by_id[~has[lives.codes]]
    rng = np.random.default_rng(seed)
    candidates = tr._MatchPool(lives.seen_days[pool], lives.end_days[pool], lives.keys[pool],
                               lives.life_code[pool])
    dates = lives.trigger_dates[found]
    groups, seen, gone = candidates.steps(lives.keys[rows], lives.trigger_days[found])
    drawn_row: list[int] = []
    drawn_at: list[int] = []
    for r, number in enumerate(groups):
        if number < 0:
            continue
        n = candidates.move(candidates.by_number[number], seen[r], gone[r])
        if not n:
            continue
        draws = ([int(rng.integers(0, n))] if controls == 1 else
                 np.sort(rng.choice(n, size=min(controls, n), replace=False)).tolist())
        group = candidates.by_number[number]
        picks = [int(group.where[group.counts.nth(i)]) for i in draws]
        for k in picks:
            candidates.take(k)
            drawn_row.append(r)
            drawn_at.append(k)
    exposed = pd.DataFrame({"account_id": lives.ids[rows], "group": "trigger",
                            "origin": dates, "end_date": lives.ends[rows],
                            "churned": lives.churned[rows]})
    drawn = pool[np.asarray(drawn_at, dtype=np.int64)]
    matched = pd.DataFrame({"account_id": lives.ids[drawn], "group": "matched",
                            "origin": dates[np.asarray(drawn_row, dtype=np.int64)],
                            "end_date": lives.ends[drawn], "churned": lives.churned[drawn]})
    return lifetimes_frame(pd.concat([exposed, matched], ignore_index=True))


@pytest.mark.parametrize("seed", range(12))
def test_integers_below_are_the_generator_s(seed):
    rng = np.random.default_rng(seed)
    bounds = rng.choice([1, 1, 2, 3, 7, 256, 99_991, 2**31 + 11, 3 * 2**30, 2**32 - 1,
                         int(rng.integers(1, 10**6))], size=3 * tr._IntegersBelow.BLOCK)
    bounds[:5] = 1  # nothing drawn first
    draw = tr._IntegersBelow(np.random.default_rng(seed + 100))
    reference = np.random.default_rng(seed + 100)
    got = [draw(int(n)) for n in bounds]
    assert got == [int(reference.integers(0, int(n))) for n in bounds]
    assert all(0 <= g < n for g, n in zip(got, bounds, strict=True))


def test_integers_below_reject_as_numpy_does():
    """Bounds near 2**32 reject a quarter of the products and more: the stream's next
    halves are taken in the same order."""
    n = 3 * 2**30 + 5
    draw, reference = tr._IntegersBelow(np.random.default_rng(1)), np.random.default_rng(1)
    assert [draw(n) for _ in range(5000)] == [int(reference.integers(0, n))
                                              for _ in range(5000)]


@pytest.mark.parametrize("n", [1, 2, 255, 256, 257, 1000, 3000])
def test_counts_with_single_clears(n):
    rng = np.random.default_rng(n)
    counts = tr._Counts(n)
    flags = np.zeros(n, dtype=bool)
    for _ in range(40):
        off = np.flatnonzero(~flags)
        batch = rng.choice(off, size=min(len(off), int(rng.integers(0, 60))), replace=False)
        counts.add(batch, 1)
        flags[batch] = True
        for _ in range(int(rng.integers(0, 20))):
            if counts.total:
                place = counts.nth(int(rng.integers(0, counts.total)))
                assert flags[place]
                counts.clear(place)
                flags[place] = False
        on = np.flatnonzero(flags)
        gone = rng.choice(on, size=min(len(on), int(rng.integers(0, 10))), replace=False)
        counts.add(gone, -1)
        flags[gone] = False
        assert counts.total == flags.sum()
        assert [counts.nth(i) for i in range(counts.total)] == np.flatnonzero(flags).tolist()


@pytest.mark.parametrize(("seed", "n"), [(0, 400), (1, 400), (2, 1200), (7, 2500)])
def test_equal_to_the_stop_33_loop_on_random_cases(seed, n):
    life, trig = random_case(seed, n)
    for grouped in (True, False):
        lives = tr._Lives(life if grouped else life.drop(columns="group"), trig,
                          pd.Timestamp("2022-03-01"))
        for kind in ("champion_left", "funding", "none of these"):
            for s in (seed, seed + 50):
                got = tr._matched_lifetimes(lives, kind, controls=1, seed=s)
                want = reference_matched_lifetimes(lives, kind, controls=1, seed=s)
                pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_equal_to_the_stop_33_loop_on_a_demo_run(small_demo_run):
    d, start, lifetimes = demo_lifetimes(small_demo_run)
    lives = tr._Lives(lifetimes, d["triggers"], start)
    matched = 0
    for kind in tr._types(d["triggers"]):
        for seed in (0, 42):
            got = tr._matched_lifetimes(lives, kind, controls=1, seed=seed)
            want = reference_matched_lifetimes(lives, kind, controls=1, seed=seed)
            pd.testing.assert_frame_equal(got, want, check_exact=True)
            matched += int((got["group"] == "matched").sum())
    assert matched > 100
