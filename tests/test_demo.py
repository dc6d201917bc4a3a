"""Tests of the seeded demo client generator (``playbook.demo``).

The recovery test rebuilds the renewal features from the exported CSV files only (never
from the generator's internals), with the rules in ``playbook.demo.FEATURE_RULES``, and
checks that a logistic regression finds the planted effects.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from playbook.demo import FEATURE_RULES, PLANTED_EFFECTS, generate_demo

WINDOW_START = pd.Timestamp("2023-10-01")
UNINFORMATIVE = {"", "other", "unknown"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate_demo(tmp_path_factory.mktemp("demo"))


def _read(paths: dict[str, Path], table: str) -> pd.DataFrame:
    return pd.read_csv(paths[table], dtype=str, keep_default_na=False)


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.replace("", None), format="%Y-%m-%d").astype("datetime64[ns]")


def _mrr_matrix(paths: dict[str, Path]) -> pd.DataFrame:
    """Accounts x months MRR (0 where the export has no row)."""
    m = _read(paths, "mrr")
    m["MRR (USD)"] = m["MRR (USD)"].astype(float)
    return m.pivot(index="Account ID", columns="Month", values="MRR (USD)").fillna(0.0)


# ----------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = generate_demo(tmp_path / "a", seed=11, n_accounts=300)
    b = generate_demo(tmp_path / "b", seed=11, n_accounts=300)
    c = generate_demo(tmp_path / "c", seed=12, n_accounts=300)
    assert set(a) == set(b)
    for table in a:
        assert a[table].read_bytes() == b[table].read_bytes(), table
    assert a["mrr"].read_bytes() != c["mrr"].read_bytes()
    assert a["accounts"].read_bytes() != c["accounts"].read_bytes()


def test_writes_one_file_per_table(demo: dict[str, Path]) -> None:
    assert set(demo) == {"accounts", "mrr", "churn_events", "renewals", "usage", "tickets",
                         "surveys", "contacts", "touches", "csm_inputs", "onboarding",
                         "outcomes", "triggers"}
    for path in demo.values():
        assert path.exists() and path.stat().st_size > 0


# ---------------------------------------------------------------------------------- shape


def test_realistic_shape(demo: dict[str, Path]) -> None:
    acc = _read(demo, "accounts")
    assert len(acc) == 1500 and acc["Account ID"].is_unique
    assert set(acc["Status"]) == {"Active", "Churned"}
    assert set(acc["Segment"]) == {"SMB", "Mid-market", "Enterprise"}
    assert acc["Industry"].nunique() == 8
    assert acc["Account Owner"].nunique() == 12
    assert set(acc["Products"].astype(int)) == {1, 2, 3, 4}
    ent_owners = set(acc.loc[acc["Segment"] == "Enterprise", "Account Owner"])
    assert len(ent_owners) == 3
    mrr = _mrr_matrix(demo)
    assert list(mrr.columns) == [str(p.to_timestamp().date()) for p in
                                 pd.period_range("2023-10", "2026-09", freq="M")]


def test_all_five_mrr_movements_present(demo: dict[str, Path]) -> None:
    m = _mrr_matrix(demo).to_numpy()
    prev, cur = m[:, :-1], m[:, 1:]
    seen_before = np.maximum.accumulate(m > 0, axis=1)[:, :-1]
    moves = {
        "new": (prev == 0) & (cur > 0) & ~seen_before,
        "reactivation": (prev == 0) & (cur > 0) & seen_before,
        "expansion": (prev > 0) & (cur > prev),
        "contraction": (prev > 0) & (cur > 0) & (cur < prev),
        "churn": (prev > 0) & (cur == 0),
    }
    for kind, mask in moves.items():
        assert mask.sum() > 0, kind
    assert moves["reactivation"].sum() < moves["churn"].sum() / 3


def test_uninformative_reason_share(demo: dict[str, Path]) -> None:
    ch = _read(demo, "churn_events")
    share = ch["Reason Code"].str.strip().str.lower().isin(UNINFORMATIVE).mean()
    assert 0.10 <= share <= 0.35
    blank = ch[ch["Reason Code"] == ""]
    assert (blank["Reason Details"] != "").any()  # free text sometimes names the reason


def test_annual_logo_churn_is_plausible(demo: dict[str, Path]) -> None:
    mrr = _read(demo, "mrr")
    active_start = set(mrr.loc[mrr["Month"] == "2025-09-01", "Account ID"])
    ch = _read(demo, "churn_events")
    d = _dates(ch["Cancellation Date"])
    lost = set(ch.loc[(d >= "2025-10-01") & (d <= "2026-09-30"), "Account ID"]) & active_start
    assert 0.10 <= len(lost) / len(active_start) <= 0.22


def test_reason_mix_differs_by_segment(demo: dict[str, Path]) -> None:
    ch = _read(demo, "churn_events").merge(_read(demo, "accounts"), on="Account ID")
    share = pd.crosstab(ch["Segment"], ch["Reason Code"], normalize="index")
    assert share.loc["SMB", "Price"] > share.loc["Enterprise", "Price"]
    assert share.loc["Enterprise", "Missing features"] > share.loc["SMB", "Missing features"]


# ------------------------------------------------------------------------------ consistency


def test_every_account_id_exists(demo: dict[str, Path]) -> None:
    ids = set(_read(demo, "accounts")["Account ID"])
    for table in demo:
        if table != "accounts":
            assert set(_read(demo, table)["Account ID"]) <= ids, table
    contacts = _read(demo, "contacts").set_index("Contact ID")["Account ID"]
    t = _read(demo, "touches")
    t = t[t["Contact ID"] != ""]
    assert (contacts.reindex(t["Contact ID"]).to_numpy() == t["Account ID"].to_numpy()).all()


def test_churn_is_consistent_with_mrr_and_status(demo: dict[str, Path]) -> None:
    acc = _read(demo, "accounts").set_index("Account ID")
    ch = _read(demo, "churn_events")
    ren = _read(demo, "renewals")
    assert (ren["Outcome"] == "Cancelled").sum() == len(ch)
    churn_date = _dates(ch["Cancellation Date"])
    since = _dates(acc.loc[ch["Account ID"], "Customer Since"].reset_index(drop=True))
    assert (churn_date.to_numpy() > since.to_numpy()).all()

    mrr = _mrr_matrix(demo).reindex(acc.index, fill_value=0.0)  # some churn in month 1
    months = pd.to_datetime(pd.Series(mrr.columns))
    churn_month = churn_date.dt.to_period("M").dt.to_timestamp()
    for account, month in zip(ch["Account ID"], churn_month, strict=True):
        row = mrr.loc[account].to_numpy()
        at = int(np.searchsorted(months, month))
        assert row[at] == 0  # no MRR in the month the cancellation took effect
        if acc.loc[account, "Status"] == "Churned" and month == churn_month[
                ch["Account ID"] == account].max():
            assert (row[at:] == 0).all()  # no MRR after the last churn unless reactivated
    active_last = mrr.iloc[:, -1] > 0
    status = acc.loc[mrr.index, "Status"]
    assert ((status == "Active") == active_last).all()


def test_onboarding_steps_are_fixed(demo: dict[str, Path]) -> None:
    onb = _read(demo, "onboarding")
    assert onb["Milestone"].nunique() == 6
    steps_per_account = onb.groupby("Account ID")["Milestone"].nunique()
    assert (steps_per_account < 6).mean() > 0.03  # some never complete all


# ------------------------------------------------------------------------------- recovery


def _renewal_features(paths: dict[str, Path]) -> pd.DataFrame:
    """One row per renewal decision with the planted model's features, from the files."""
    r = FEATURE_RULES
    lookback = pd.Timedelta(days=int(r["lookback_days"]))
    ren = _read(paths, "renewals")
    ren["renewal_date"] = _dates(ren["Renewal Date"])
    ren["cutoff"] = ren["renewal_date"] - pd.Timedelta(days=int(r["cutoff_days"]))
    # keep decisions whose full look-back lies inside the exported window
    ren = ren[ren["cutoff"] - lookback >= WINDOW_START].copy()
    ren["renewed"] = (ren["Outcome"] != "Cancelled").astype(float)

    acc = _read(paths, "accounts").set_index("Account ID")
    ren["products"] = acc.loc[ren["Account ID"], "Products"].astype(float).to_numpy()
    ren["mid_market"] = (acc.loc[ren["Account ID"], "Segment"] == "Mid-market").to_numpy()

    con = _read(paths, "contacts")
    sponsors = con[(con["Persona"] == "Executive") & (con["Relationship"] == "Strong")
                   & con["Seniority"].isin(["C-Level", "VP", "Director"])]["Account ID"]
    ren["exec_sponsor"] = ren["Account ID"].isin(set(sponsors))

    use = _read(paths, "usage")
    users = use.set_index(["Account ID", "Month"])["Active Users"].astype(float)
    cm = ren["cutoff"].dt.to_period("M")
    k = int(r["usage_drop_months"])

    def users_at(offset: int) -> np.ndarray:
        month = (cm - offset).dt.to_timestamp().dt.strftime("%Y-%m-%d")
        return users.reindex(list(zip(ren["Account ID"], month, strict=True))).to_numpy()

    ren["usage_decline"] = users_at(1) < (1 - r["usage_drop_share"]) * users_at(1 + k)

    t = _read(paths, "touches")
    execs = set(con.loc[con["Persona"] == "Executive", "Contact ID"])
    t = t[t["Contact ID"].isin(execs)].assign(date=lambda x: _dates(x["Activity Date"]))
    ren = ren.sort_values("cutoff")
    last = pd.merge_asof(ren[["Account ID", "cutoff"]], t.sort_values("date")[
        ["Account ID", "date"]], left_on="cutoff", right_on="date", by="Account ID")
    days = (last["cutoff"] - last["date"]).dt.days.fillna(r["lookback_days"])
    ren["days_since_exec_per_30d"] = np.minimum(days, r["lookback_days"]).to_numpy() / 30

    s = _read(paths, "surveys")
    s = s[s["NPS Score"] != ""].assign(date=lambda x: _dates(x["Response Date"]),
                                       nps=lambda x: x["NPS Score"].astype(float))
    s = s.sort_values("date", kind="stable")
    latest = pd.merge_asof(ren[["Account ID", "cutoff"]], s[["Account ID", "date", "nps"]],
                           left_on="cutoff", right_on="date", by="Account ID",
                           tolerance=lookback)
    ren["nps_detractor"] = (latest["nps"] <= r["detractor_max"]).to_numpy()

    onb = _read(paths, "onboarding")
    go_live = _dates(onb[onb["Milestone"] == "Go-live"].set_index("Account ID")["Completed On"])
    gl = go_live.reindex(ren["Account ID"]).to_numpy()
    ren["onboarding_incomplete"] = ~(gl <= ren["cutoff"].to_numpy())
    return ren


FEATURE_TO_EFFECT = {
    "exec_sponsor": "exec_sponsor",
    "usage_decline": "usage_decline",
    "days_since_exec_per_30d": "days_since_exec_contact_per_30d",
    "nps_detractor": "nps_detractor",
    "products": "products_per_product",
    "mid_market": "mid_market",
    "onboarding_incomplete": "onboarding_incomplete",
}


def test_planted_renewal_effects_are_recovered(demo: dict[str, Path]) -> None:
    ren = _renewal_features(demo)
    assert len(ren) > 1200
    assert ren["usage_decline"].mean() > 0.05
    x = sm.add_constant(ren[list(FEATURE_TO_EFFECT)].astype(float))
    fit = sm.Logit(ren["renewed"], x).fit(disp=0)
    ci = fit.conf_int()
    for feature in ("exec_sponsor", "usage_decline"):
        planted = PLANTED_EFFECTS[FEATURE_TO_EFFECT[feature]]["value"]
        lo, hi = ci.loc[feature]
        assert lo <= planted <= hi, (feature, planted, lo, hi)
        assert not lo <= 0 <= hi, (feature, lo, hi)
    for feature, effect in FEATURE_TO_EFFECT.items():  # every effect has the planted sign
        assert np.sign(fit.params[feature]) == np.sign(PLANTED_EFFECTS[effect]["value"])


# ------------------------------------------------------------------------ params/demo.yaml


def test_params_file_loads_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """params/demo.yaml maps every demo file onto the contract without rejecting rows."""
    loader = pytest.importorskip("playbook.loader")
    config = pytest.importorskip("playbook.config")
    from playbook.contract import TABLES

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "demo.yaml").write_bytes((root / "params" / "demo.yaml").read_bytes())
    generate_demo(tmp_path / "data" / "demo", n_accounts=300)
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    data = loader.load_client(config.load_params("demo"))
    assert set(data.tables) == set(TABLES)
    for load in data.quality.loads:
        assert load.rows_kept == load.rows_read, load.table
    for name, spec in TABLES.items():
        for col in spec.columns:
            if col.codes and col.name in data[name]:
                values = set(data[name][col.name].dropna())
                assert values and values <= set(col.codes), (name, col.name, values)
