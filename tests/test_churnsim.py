"""The public ChurnSim sample (../shared/data/churnsim, see its PROVENANCE.md) from raw files
and the params a consultant would write (params/churnsim.yaml).

Every expected figure is computed here with plain pandas from the raw subscription lines:
the MRR at a month's end is the sum of the lines with start_date <= last day < end_date.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from playbook.config import load_params
from playbook.loader import load_client

REPO = Path(__file__).resolve().parents[1]
CHURNSIM = REPO / "tests" / "fixtures" / "exports" / "churnsim"  # ../shared/data/churnsim's files
PARAMS = REPO / "params" / "churnsim.yaml"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (CHURNSIM / "subscription.csv").exists():
        pytest.fail(f"the ChurnSim sample is not at {CHURNSIM} (tests/fixtures/exports/churnsim)")
    root = tmp_path_factory.mktemp("churnsim")
    (root / "data" / "churnsim").mkdir(parents=True)
    for f in CHURNSIM.glob("*.csv"):
        shutil.copy(f, root / "data" / "churnsim" / f.name)
    (root / "params").mkdir()
    shutil.copy(PARAMS, root / "params" / "churnsim.yaml")
    return root


@pytest.fixture(scope="module")
def data(root: Path):
    mp = pytest.MonkeyPatch()
    mp.setenv("PLAYBOOK_ROOT", str(root))
    mp.setenv("PLAYBOOK_REPORTS", str(root / "reports"))
    try:
        yield load_client(load_params("churnsim"))
    finally:
        mp.undo()


def independent_month_end_mrr() -> pd.Series:
    """(account_id, month) -> MRR at the month's end, Jan 2021 to Jun 2022 (the as-of date
    30 June 2022 is a month end), from the raw lines."""
    subs = pd.read_csv(CHURNSIM / "subscription.csv", parse_dates=["start_date", "end_date"])
    rows = {}
    for month in pd.date_range("2021-01-01", "2022-06-01", freq="MS"):
        last_day = month + pd.offsets.MonthEnd(0)
        live = subs[(subs["start_date"] <= last_day)
                    & (subs["end_date"].isna() | (subs["end_date"] > last_day))]
        for account, mrr in live.groupby("account_id")["mrr"].sum().items():
            rows[(str(account), month)] = float(mrr)
    return pd.Series(rows).sort_index()


def test_month_end_mrr_of_every_account_and_month_equals_the_raw_lines_to_the_cent(data):
    expected = independent_month_end_mrr()
    got = data["mrr"].set_index(["account_id", "month"])["mrr"].sort_index()
    got = got[got != 0]
    assert got.index.tolist() == expected.index.tolist()
    assert (got.round(2) == expected.round(2)).all()
    # and the totals per month, to the cent
    by_month = got.groupby(level="month").sum().round(2)
    assert by_month.to_dict() == expected.groupby(level=1).sum().round(2).to_dict()


def test_lifecycle_comes_from_billing(data):
    expected = independent_month_end_mrr().rename("mrr").reset_index()
    expected.columns = ["account_id", "month", "mrr"]
    last = expected.groupby("account_id")["month"].max()
    first = expected.groupby("account_id")["month"].min()
    june = pd.Timestamp("2022-06-01")
    acc = data["accounts"].set_index("account_id")
    churned = set(last[last < june].index)
    assert set(acc.index[acc["status"].eq("churned")]) == churned
    assert (acc.loc[sorted(churned), "churn_date"]
            == (last[sorted(churned)] + pd.offsets.MonthBegin(1)).values).all()
    assert (acc["start_date"] == first.reindex(acc.index)).all()
    # the scaffold-style trap: date_of_birth is never the start date
    assert acc["start_date"].min() >= pd.Timestamp("2021-01-01")
    events = data["churn_events"]
    assert sorted(events["account_id"]) == sorted(churned)
    assert set(events["reason_code"]) == {"unknown"}
    lost = expected[expected["account_id"].isin(churned)].sort_values("month")
    assert (events.set_index("account_id")["lost_mrr"].sort_index().round(2)
            == lost.groupby("account_id")["mrr"].last().sort_index().round(2)).all()
