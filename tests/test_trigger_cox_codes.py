"""The trigger Cox models counted and clustered by ID numbers (issue 22, stop 34).

``trigger_cox`` made each type's intervals with the account ID as text (146,000 rows at
100,000 accounts, made into an Arrow text column), counted the distinct IDs and numbered
the at-risk rows' IDs for the clustering from that text, 9 times. Every lifetime row has
intervals whatever the type, so the accounts are the lifetimes' distinct IDs (counted
once), and the at-risk rows are numbered from the lifetimes' ID numbers
(``_Tenures.codes``), which number the same groups in the same order. The previous function
is the reference: equal tables on random cases (IDs twice, a missing ID, undated
starts) and on a demo run.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import survival
from playbook.analyses import triggers as tr
from playbook.analyses.phreg import ArrayPHReg
from playbook.analyses.survival import at_risk_at_a_churn
from tests.test_vectorised_triggers import first_day, random_case


def reference_trigger_cox(lifetimes: pd.DataFrame, triggers: pd.DataFrame, *,
                          window_days: int, min_events: int) -> pd.DataFrame:
    """``trigger_cox`` at stop 33: the intervals' text IDs counted and factorised."""
    rows = {}
    tenures = (tr._Tenures(lifetimes, triggers) if not lifetimes.empty and window_days >= 0
               else None)
    for kind in tr._types(triggers):
        iv = (tr._intervals(tenures, kind, window_days=window_days) if tenures is not None
              else tr.trigger_intervals(lifetimes, triggers, kind, window_days=window_days))
        exposed_events = int(iv.loc[iv["exposed"] == 1, "churned"].sum())
        row = {"accounts": int(iv["account_id"].nunique()), "events": int(iv["churned"].sum()),
               "exposed_events": exposed_events, "hazard_ratio": np.nan, "hr_low": np.nan,
               "hr_high": np.nan, "p_value": np.nan, "note": ""}
        if exposed_events < min_events:
            row["note"] = f"fewer than {min_events} churns within {window_days} days of one"
        else:
            iv = at_risk_at_a_churn(iv)
            groups = pd.factorize(iv["account_id"])[0]
            fit = ArrayPHReg(iv["exit_months"].to_numpy(dtype=float),
                             iv[["exposed"]].to_numpy(dtype=float),
                             status=iv["churned"].to_numpy(dtype=int),
                             entry=iv["entry_months"].to_numpy(dtype=float),
                             ties="breslow").fit(disp=0, groups=groups)
            ci = np.asarray(fit.conf_int(alpha=0.05))[0]
            row.update(hazard_ratio=float(np.exp(fit.params[0])), hr_low=float(np.exp(ci[0])),
                       hr_high=float(np.exp(ci[1])), p_value=float(fit.pvalues[0]))
        rows[kind] = row
    out = pd.DataFrame.from_dict(rows, orient="index", columns=tr.COX_COLUMNS)
    out.index.name = "type"
    return out


def _lifetimes(seed: int, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    life, trig = random_case(seed, n=n)
    life = life.assign(start_date=life["start_date"].fillna(pd.Timestamp("2022-01-01")))
    lifetimes = survival.account_lifetimes(
        life.rename(columns={"end_date": "churn_date"}).assign(
            churn_date=lambda f: f["churn_date"].where(f["churned"] == 1)),
        None, as_of=pd.Timestamp("2026-01-01"), data_start=pd.Timestamp("2022-03-01"))
    # more triggers, so that both types are fitted
    rng = np.random.default_rng(seed)
    k = 3 * n
    more = pd.DataFrame({"account_id": rng.choice(lifetimes["account_id"].unique(), k),
                         "date": pd.Timestamp("2022-03-01")
                         + pd.to_timedelta(rng.integers(0, 1400, k), unit="D"),
                         "type": rng.choice(["champion_left", "funding", "reorg"], k)})
    return lifetimes, pd.concat([trig, more], ignore_index=True)


def assert_same(lifetimes, trig, **kw) -> pd.DataFrame:
    got = tr.trigger_cox(lifetimes, trig, **kw)
    pd.testing.assert_frame_equal(got, reference_trigger_cox(lifetimes, trig, **kw),
                                  check_exact=True)
    return got


@pytest.mark.parametrize("seed", [0, 1, 4, 9])
def test_equal_to_the_text_ids_on_random_cases(seed):
    lifetimes, trig = _lifetimes(seed, 500)
    for days in (30, 90, 365):
        for min_events in (1, 5):
            got = assert_same(lifetimes, trig, window_days=days, min_events=min_events)
    assert got["hazard_ratio"].notna().sum() >= 2
    # rows in another order, a slice, a missing ID, none at all
    assert_same(lifetimes.iloc[::-1].reset_index(drop=True), trig, window_days=90,
                min_events=3)
    assert_same(lifetimes.iloc[100:], trig, window_days=90, min_events=3)
    blank = lifetimes.copy()
    blank.loc[[3, 40, 41], "account_id"] = np.nan
    assert_same(blank, trig, window_days=90, min_events=3)
    assert_same(lifetimes.iloc[:0], trig, window_days=90, min_events=3)


def test_equal_to_the_text_ids_on_a_demo_run(small_demo_run):
    _, data = small_demo_run
    d = data.tables
    lifetimes = survival.account_lifetimes(d["accounts"], d.get("churn_events"),
                                           as_of=pd.Timestamp("2026-09-30"),
                                           data_start=first_day(d))
    for days in (60, 90):
        got = assert_same(lifetimes, d["triggers"], window_days=days, min_events=3)
    assert got["hazard_ratio"].notna().sum() >= 1
