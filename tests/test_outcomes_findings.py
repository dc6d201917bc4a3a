"""Title rules of the outcomes and trigger exhibits: a rise is claimed only when significant."""

from __future__ import annotations

import numpy as np
import pandas as pd

from playbook.analyses.outcomes import BANDS, OutcomeEffect
from playbook.findings import outcomes as story


def _bands(met: tuple[int, int], rest: tuple[int, int]) -> pd.DataFrame:
    b = pd.DataFrame({"decisions": [rest[0], 0, 0, met[0]], "renewed": [rest[1], 0, 0, met[1]]},
                     index=pd.Index(list(BANDS), name="band"))
    b["rate"] = b["renewed"] / b["decisions"].where(b["decisions"] > 0)
    return b


def test_outcomes_title_claims_the_odds_only_when_significant() -> None:
    bands = _bands((100, 90), (400, 320))  # 90% vs 80%
    sig = OutcomeEffect(2.1, 1.3, 3.3, 0.001, 500, 100)
    flat = OutcomeEffect(1.2, 0.8, 1.9, 0.4, 500, 100)
    assert story.outcomes_title(bands, sig) == (
        "Accounts that met their success outcomes renewed 90% of the time, against 80% for "
        "the rest: renewal odds 2.1 times higher after the other drivers")
    assert story.outcomes_title(bands, flat).endswith(
        "a difference that is not significant after the other drivers")
    assert story.outcomes_title(_bands((0, 0), (400, 320)), sig) == (
        "No renewal decision yet rests on a met success outcome")


def _effects(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["outcome", "type", "odds_ratio", "or_low", "or_high",
                                       "significant", "exposed"])


def test_triggers_title_rules() -> None:
    kw = {"window_days": 180, "horizon_months": 6}
    both = _effects([("churn", "champion_left", 2.31, 1.5, 3.6, True, 150),
                     ("churn", "reorg", 1.4, 0.9, 2.2, False, 60),
                     ("expansion", "funding", 1.7, 1.2, 2.4, True, 250)])
    assert story.triggers_title(both, **kw) == (
        "Churn odds rise 2.3 times at renewals in the 180 days after a champion leaves")
    grow = both[both["outcome"] == "expansion"]
    assert story.triggers_title(grow, **kw) == (
        "Expansion odds rise 1.7 times in the 6 months after a funding round")
    # an interval crossing 1 (not significant) is never a rise
    flat = _effects([("churn", "champion_left", 2.31, 0.9, 5.6, False, 20)])
    assert story.triggers_title(flat, **kw) == (
        "No trigger event significantly raises the odds of churn or expansion")
    text = story.triggers_sentence(both, **kw)
    assert text.startswith("Churn odds rise 2.3 times in the 180 days after a champion leaves")
    assert text.endswith("The other 1 estimates are not significant.")


def test_open_title_counts_and_money() -> None:
    ol = pd.DataFrame({"mrr": [1000.0, 500.0]}, index=["A", "B"])
    assert story.open_title(ol, days=90, currency="USD", touches=True) == (
        "2 accounts with $1.5K MRR had a trigger in the last 90 days and have had no logged "
        "touch since")
    assert story.open_title(ol.iloc[:0], days=90, currency="USD", touches=True) == (
        "Every account with a trigger in the last 90 days has been contacted since")
    assert not np.isnan(ol["mrr"].sum())


def test_expansion_band_sentence_claims_no_difference_when_intervals_overlap() -> None:
    def bands(met: tuple[int, int], rest: tuple[int, int]) -> pd.DataFrame:
        from playbook.analyses.stats import wilson_interval
        b = pd.DataFrame({"units": [rest[0], 0, 0, met[0]], "expanded": [rest[1], 0, 0, met[1]]},
                         index=pd.Index(list(BANDS), name="band"))
        b["rate"] = b["expanded"] / b["units"].where(b["units"] > 0)
        b["low"], b["high"] = wilson_interval(b["expanded"].to_numpy(), b["units"].to_numpy())
        return b

    close = story.expansion_band_sentence(bands((100, 12), (1000, 100)), horizon_months=6)
    assert close == ("Within 6 months of a cut-off, 12% of accounts with their outcomes met "
                     "expanded (7%–20%), against 10% of the rest (8%–12%): the intervals "
                     "overlap, so no difference is claimed.")
    apart = story.expansion_band_sentence(bands((400, 200), (1000, 100)), horizon_months=6)
    assert apart.endswith("against 10% of the rest (8%–12%).")
    assert story.expansion_band_sentence(bands((0, 0), (10, 1)), horizon_months=6) == ""
