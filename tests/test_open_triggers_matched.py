"""The open trigger list with the accounts matched by Arrow and only the touches that can
follow a trigger grouped (issue 22) is the list the previous code gave.

``playbook.analyses.triggers.open_triggers`` kept the recent triggers of active accounts with
pandas' ``isin`` on Arrow text (one Python scalar per active account: 0.4-0.5 s at 100,000
accounts, in notebooks 05 and 06 each) and took every account's last touch over all 2.9M
touches (0.3 s); it now uses :func:`playbook.membership.is_in` and groups only the touches
dated from the earliest latest trigger to the as-of date. The previous function is kept
here as the reference and compared exactly on the small demo and by hand (ties, a touch on
the trigger's day, touches after the as-of date, missing dates and IDs, no touches, one
account, nothing recent).
"""

from __future__ import annotations

import pandas as pd
import pytest

from playbook.analyses import triggers as tr
from playbook.analyses.account_state import active_accounts, mrr_at


def reference_open_triggers(accounts, triggers, touches, *, as_of, days, mrr=None):
    """The previous ``open_triggers``."""
    active = active_accounts(accounts, as_of)
    t = triggers[(triggers["date"] <= as_of)
                 & (triggers["date"] > as_of - pd.Timedelta(days=days))]
    t = t[t["account_id"].isin(active.index)]
    t = t.sort_values(["account_id", "date"], kind="stable")
    latest = t.groupby("account_id").tail(1).set_index("account_id")
    count = t.groupby("account_id").size()
    if touches is not None and len(latest):
        last_touch = touches[touches["date"] <= as_of].groupby("account_id")["date"].max()
        touched = last_touch.reindex(latest.index) >= latest["date"]
        latest = latest[~touched.fillna(False).to_numpy(dtype=bool)]
    out = pd.DataFrame(index=latest.index)
    out["owner"] = active["owner"].reindex(out.index) if "owner" in active else pd.NA
    out["mrr"] = mrr_at(accounts, as_of, mrr).reindex(out.index).astype(float)
    out["type"] = latest["type"].astype(str)
    out["trigger_date"] = latest["date"]
    out["days_since"] = (as_of - latest["date"]).dt.days.astype(int)
    out["triggers"] = count.reindex(out.index).astype(int)
    out = out.reset_index().sort_values(["mrr", "account_id"], ascending=[False, True],
                                        kind="stable").set_index("account_id")
    out.attrs["touches"] = touches is not None
    return out[tr.OPEN_COLUMNS]


AS_OF = pd.Timestamp("2026-09-30")


def hand_accounts() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": pd.Series(["A", "B", "C", "D", "E", "F"], dtype="str"),
        "owner": ["o1", "o2", "o3", "o4", "o5", None],
        "start_date": pd.Timestamp("2025-01-01"),
        "churn_date": pd.to_datetime([None, None, None, None, "2026-09-01", None]),
        "mrr": [100.0, 300.0, 200.0, 50.0, 999.0, 100.0]})


def hand_triggers() -> pd.DataFrame:
    f = pd.DataFrame([("A", "2026-09-01", "champion_left"), ("B", "2026-08-01", "reorg"),
                      ("B", "2026-09-10", "layoffs"), ("B", "2026-09-10", "funding"),
                      ("C", "2026-05-01", "funding"), ("D", "2026-09-20", "funding"),
                      ("E", "2026-09-20", "funding"), ("F", "2026-07-05", "other"),
                      (None, "2026-09-25", "other"), ("A", None, "reorg"),
                      ("D", "2026-10-02", "reorg")],
                     columns=["account_id", "date", "type"])
    f["date"] = pd.to_datetime(f["date"])
    f["account_id"] = f["account_id"].astype("str")
    return f


def hand_touches() -> pd.DataFrame:
    """A touched on its trigger's day; B only before; D after the as-of date only; F on
    the day of its trigger (the earliest latest one); an undated and an unnamed touch."""
    f = pd.DataFrame({"account_id": ["A", "B", "D", "F", "C", None, "B"],
                      "date": ["2026-09-01", "2026-07-15", "2026-10-01", "2026-07-05", None,
                               "2026-09-29", "2026-09-09"]})
    f["date"] = pd.to_datetime(f["date"])
    f["account_id"] = f["account_id"].astype("str")
    return f


@pytest.mark.parametrize("days", [1, 10, 90, 400])
@pytest.mark.parametrize("with_touches", [True, False])
def test_by_hand_the_list_is_the_previous_code_s(days, with_touches):
    touches = hand_touches() if with_touches else None
    got = tr.open_triggers(hand_accounts(), hand_triggers(), touches, as_of=AS_OF, days=days)
    want = reference_open_triggers(hand_accounts(), hand_triggers(), touches, as_of=AS_OF,
                                   days=days)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got.attrs == want.attrs


def test_the_hand_list_written_out():
    got = tr.open_triggers(hand_accounts(), hand_triggers(), hand_touches(), as_of=AS_OF,
                           days=90)
    # A touched on the trigger's day; B's latest (a tie of two on 09-10, the later row
    # kept) untouched since; D's only touch is after the as-of date; F touched after
    assert got.index.tolist() == ["B", "D"]
    assert got.loc["B", "type"] == "funding" and got.loc["B", "triggers"] == 3
    assert got.loc["D", "days_since"] == 10


def test_one_account_no_touch_and_nothing_recent():
    acc = hand_accounts().iloc[[3]]
    got = tr.open_triggers(acc, hand_triggers(), hand_touches().iloc[:0], as_of=AS_OF, days=30)
    pd.testing.assert_frame_equal(got, reference_open_triggers(
        acc, hand_triggers(), hand_touches().iloc[:0], as_of=AS_OF, days=30), check_exact=True)
    assert got.index.tolist() == ["D"]
    old = pd.Timestamp("2020-01-01")
    got = tr.open_triggers(acc, hand_triggers(), hand_touches(), as_of=old, days=30)
    pd.testing.assert_frame_equal(got, reference_open_triggers(
        acc, hand_triggers(), hand_touches(), as_of=old, days=30), check_exact=True)
    assert got.empty


@pytest.mark.parametrize("days", [30, 90, 365])
def test_on_the_demo(small_demo_run, days):
    params, data = small_demo_run
    as_of = pd.Timestamp(params.as_of)
    args = (data["accounts"], data["triggers"], data["touches"])
    got = tr.open_triggers(*args, as_of=as_of, days=days, mrr=data["mrr"])
    want = reference_open_triggers(*args, as_of=as_of, days=days, mrr=data["mrr"])
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert len(got) > 3
    # touches matter: without them the list is longer
    assert len(tr.open_triggers(*args[:2], None, as_of=as_of, days=days)) > len(got)
