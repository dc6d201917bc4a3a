"""The trigger types' churn fits given the columns they read (issue 22, stop 34).

``churn_after_triggers`` added each trigger type's flag to the whole modelling table (30
columns, 123,000 rows at 100,000 accounts) before each of its 9 fits; a fit reads only the
outcome, the cluster column and the features, so the flag is now added to those columns
alone. The previous function is the reference: equal effect tables on the demo and on
random tables with columns no fit reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import drivers, triggers
from playbook.analyses.drivers.leakage import LEAKAGE_AUC, leakage_screen
from playbook.analyses.drivers.model import SharedTerms
from tests.test_shared_terms import _table, churn_trigger_arguments


def reference_churn_after_triggers(decisions: pd.DataFrame, trig: pd.DataFrame, *,
                                   window_days: int, min_exposed: int,
                                   table: pd.DataFrame | None, features: Sequence[str],
                                   units: dict | None = None) -> pd.DataFrame:
    """``churn_after_triggers`` before stop 34: each fit given the whole table."""
    types = triggers._types(trig)
    flags = triggers.trigger_flags(decisions, trig, date_col="decision_date",
                                   start_days=window_days, end_days=0, types=types)
    churned = 1.0 - decisions["renewed"].to_numpy(dtype=float)
    out = triggers._rate_table(churned, flags,
                               pd.DataFrame(True, index=flags.index, columns=types), min_exposed)
    if table is None or not len(features):
        return out
    tflags = triggers.trigger_flags(table, trig, date_col="decision_date",
                                    start_days=window_days, end_days=0, types=types)
    screened = leakage_screen(table, list(features), outcome="renewed", recorded_after=None,
                              max_auc=LEAKAGE_AUC)["auc"]
    shared = SharedTerms()
    for t in out.index[out["note"] == ""]:
        col = f"trigger_{t}"
        if tflags[t].sum() < min_exposed:
            continue
        model = drivers.fit_renewal_model(
            table.assign(**{col: tflags[t].to_numpy()}), [*features, col],
            reduce_features=False, units={**(units or {}), col: (1.0, "trigger vs none")},
            marginal_effects=False, known_auc=screened, shared=shared)
        row = model.coefficients.set_index("feature").loc[col]
        out.loc[t, ["odds_ratio", "or_low", "or_high", "p_value"]] = [
            1 / row["odds_ratio"], 1 / row["or_high"], 1 / row["or_low"], row["p_value"]]
    return out


@pytest.fixture(scope="module")
def demo(demo_context):
    return demo_context  # (tests/conftest.py)


def test_equal_to_the_whole_table_fits_on_the_demo(demo):
    args, kw = churn_trigger_arguments(demo)
    got = triggers.churn_after_triggers(*args, **kw)
    want = reference_churn_after_triggers(*args, **kw)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["odds_ratio"].notna().sum() >= 3  # several types fitted


def _case(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    t = _table(rng, 900)
    day0 = np.datetime64("2025-01-01")
    t["decision_date"] = day0 + rng.integers(0, 500, len(t)).astype("timedelta64[D]")
    t["unread"] = pd.Series(rng.choice(["u", None], len(t)), dtype=object)  # no fit reads it
    t["blank"] = np.nan
    n = 1500
    trig = pd.DataFrame({
        "account_id": rng.choice(t["account_id"].unique(), n),
        "date": day0 + rng.integers(-60, 500, n).astype("timedelta64[D]"),
        "type": rng.choice(["champion_left", "funding", "reorg", "rare"], n,
                           p=[0.4, 0.3, 0.29, 0.01]),
    })
    return t, trig


@pytest.mark.parametrize("seed", range(6))
def test_equal_on_random_tables(seed):
    t, trig = _case(seed)
    features = ["x", "near", "count", "flag", "same", "seg", "cat", "gappy"]
    decisions = t[["account_id", "decision_date", "renewed"]]
    for table in (t, t.iloc[::-1], t.set_axis(t.index + 7)):
        for feats in (features, ["x", "seg"]):
            kw = dict(window_days=90, min_exposed=20, table=table, features=feats,
                      units={"count": (2.0, "per 2")})
            got = triggers.churn_after_triggers(decisions, trig, **kw)
            want = reference_churn_after_triggers(decisions, trig, **kw)
            pd.testing.assert_frame_equal(got, want, check_exact=True)
            assert got["odds_ratio"].notna().any()
