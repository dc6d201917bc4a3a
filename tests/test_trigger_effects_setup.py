"""The expansion effects' exposure windows per distinct cut-off, and the effect tables'
odds ratios set at once (issue 22, stop 34).

``expansion_after_triggers`` subtracted ``pd.DateOffset(months=...)`` from each of 1.6M
cut-off dates (twice) to find each row's window in days; there are a few dozen distinct
cut-offs, so each window is now worked out once per distinct date (``_days_back``). Both
effect functions set each fitted type's odds ratio into the table one ``.loc`` at a time;
now all at once (``_with_odds_ratios``). References: the per-row offsets, and the previous
``expansion_after_triggers`` (below) on a demo run, random MRR and both fit paths.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import drivers
from playbook.analyses import triggers as tr
from playbook.analyses.expansion import expansion_cutoffs, expansion_outcomes
from playbook.analyses.triggers_logit import flag_logit
from playbook.context import AnalysisContext


def reference_days_back(dates: pd.Series, months: int) -> np.ndarray:
    """The windows before stop 34: each row's own offset."""
    return (dates - (dates - pd.DateOffset(months=months))).dt.days.to_numpy()


def reference_expansion_after_triggers(mrr, triggers, *, as_of, horizon_months,
                                       min_rise_share, min_exposed) -> pd.DataFrame:
    """``expansion_after_triggers`` at stop 33."""
    types = tr._types(triggers)
    cuts = expansion_cutoffs(mrr, as_of=as_of, horizon_months=horizon_months,
                             cutoff_every_months=1)
    rows = expansion_outcomes(mrr, cuts, horizon_months=horizon_months,
                              min_rise_share=min_rise_share)
    month = pd.DataFrame({"account_id": rows["account_id"],
                          "start": rows["cutoff_date"] - pd.DateOffset(months=1),
                          "hz": rows["cutoff_date"] - pd.DateOffset(months=horizon_months)})
    days_1 = (rows["cutoff_date"] - month["start"]).dt.days
    days_h = (rows["cutoff_date"] - month["hz"]).dt.days
    exposed, any_h = tr._flags_within(rows, triggers, date_col="cutoff_date",
                                      spans=[days_1.to_numpy(), days_h.to_numpy()],
                                      types=types, dtype=bool)
    keep = exposed | ~any_h
    y = rows["expanded"].to_numpy(dtype=float)
    out = tr._rate_table(y, exposed, keep, min_exposed)
    accounts = pd.factorize(rows["account_id"].astype("string").fillna("(none)"))[0]
    for t in out.index[out["note"] == ""]:
        k = keep[t].to_numpy(dtype=bool)
        fast = (flag_logit(y[k], exposed[t].to_numpy(dtype=float)[k], accounts[k])
                if k.sum() >= tr.FLAG_FIT_FROM_ROWS else None)
        if fast is not None:
            out.loc[t, ["odds_ratio", "or_low", "or_high", "p_value"]] = [
                fast["odds_ratio"], fast["or_low"], fast["or_high"], fast["p_value"]]
            continue
        col = f"trigger_{t}"
        tab = rows.loc[k, ["account_id", "expanded"]].assign(
            **{col: exposed.loc[k, t].astype(float)})
        model = drivers.fit_renewal_model(tab, [col], outcome="expanded", reduce_features=False,
                                          units={col: (1.0, "trigger vs none")},
                                          marginal_effects=False)
        row = model.coefficients.set_index("feature").loc[col]
        out.loc[t, ["odds_ratio", "or_low", "or_high", "p_value"]] = [
            row["odds_ratio"], row["or_low"], row["or_high"], row["p_value"]]
    out.attrs["cutoffs"] = len(cuts)
    return out


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
def test_days_back_are_the_row_offsets(unit):
    rng = np.random.default_rng(len(unit))
    ends = pd.date_range("2019-01-31", "2026-12-31", freq="ME")  # month ends, leap Februaries
    days = pd.date_range("2019-01-01", "2026-12-31", freq="D")
    dates = pd.Series(np.concatenate([
        rng.choice(ends.to_numpy(), 3000), rng.choice(days.to_numpy(), 3000),
        (rng.choice(days.to_numpy(), 50) + np.timedelta64(13, "h"))]).astype(f"datetime64[{unit}]"))
    for months in (1, 2, 6, 12, 36):
        got, want = tr._days_back(dates, months), reference_days_back(dates, months)
        assert got.dtype == want.dtype and np.array_equal(got, want)
    gappy = dates.copy()
    gappy.iloc[[4, 70]] = pd.NaT
    got, want = tr._days_back(gappy, 3), reference_days_back(gappy, 3)
    assert got.dtype == want.dtype and np.array_equal(got, want, equal_nan=True)
    none = dates.iloc[:0]
    assert np.array_equal(tr._days_back(none, 1), reference_days_back(none, 1))


def test_odds_ratios_set_at_once():
    out = pd.DataFrame({"odds_ratio": np.nan, "or_low": np.nan, "or_high": np.nan,
                        "p_value": np.nan, "note": ["", "x", ""]}, index=["a", "b", "c"])
    want = out.copy()
    want.loc["a", ["odds_ratio", "or_low", "or_high", "p_value"]] = [2.0, 1.5, 3.0, 0.01]
    want.loc["c", ["odds_ratio", "or_low", "or_high", "p_value"]] = [0.5, 0.25, 1.0, 0.2]
    got = tr._with_odds_ratios(out.copy(), {"a": [2.0, 1.5, 3.0, 0.01],
                                            "c": [0.5, 0.25, 1.0, 0.2]})
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    pd.testing.assert_frame_equal(tr._with_odds_ratios(out.copy(), {}), out, check_exact=True)


@pytest.mark.parametrize("rows_from", [None, 0])
def test_expansion_effects_equal_the_previous_function_on_a_demo_run(
        small_demo_run, monkeypatch, rows_from):
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables, data.quality.problems())
    if rows_from is not None:  # every type from the flag's counts
        monkeypatch.setattr(tr, "FLAG_FIT_FROM_ROWS", rows_from)
    for horizon, share in ((6, 0.1), (12, 0.2), (3, 0.05)):
        kw = dict(as_of=pd.Timestamp("2026-09-30"), horizon_months=horizon,
                  min_rise_share=share, min_exposed=10)
        got = tr.expansion_after_triggers(ctx.counted_mrr, data.tables["triggers"], **kw)
        want = reference_expansion_after_triggers(ctx.counted_mrr, data.tables["triggers"],
                                                  **kw)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert got.attrs == want.attrs
        assert got["odds_ratio"].notna().sum() >= 3
