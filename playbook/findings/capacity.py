"""Exhibits and sentences of the coverage, headcount and churn-impact section."""

from __future__ import annotations

import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec


def headcount_title(required: pd.DataFrame, current: float) -> str:
    need = required.loc["total", "fte_by_effort"]
    gap = need - current
    if abs(gap) < 0.5:
        return (f"Current coverage of {current:.0f} CSMs matches the {need:.1f} the touch "
                "model needs")
    if gap > 0:
        return (f"The touch model needs {need:.1f} CSMs, {gap:.1f} more than the "
                f"{current:.0f} owners today")
    return (f"Today's {current:.0f} owners exceed the {need:.1f} CSMs the touch model needs "
            f"by {-gap:.1f}: capacity to redeploy to the tiers that need it")


def headcount(required: pd.DataFrame, current_by_tier: pd.Series) -> ExhibitSpec:
    frame = required.drop(index="total")[["fte_by_effort"]].iloc[::-1].copy()
    frame["current"] = current_by_tier.reindex(frame.index).fillna(0)
    fig, ax = charts.new_figure(1.8)
    charts.paired_bars(frame, ax, first="current", second="fte_by_effort",
                       labels=("current", "required"))
    return ExhibitSpec(
        fig, headcount_title(required, float(current_by_tier.sum())),
        "CSM full-time equivalents per value tier: current (owners' share of accounts) vs "
        "required by effort",
        "accounts (owner), params touch_model", n=int(required.loc["total", "accounts"]),
        notes="Required = accounts x (touches x hours + admin hours) / CSM hours per year.")


def headcount_table(required: pd.DataFrame, currency: str) -> ExhibitSpec:
    t = required[["accounts", "hours_per_account", "fte_by_ratio_min",
                  "fte_by_ratio_max", "fte_by_effort", "cost_by_effort"]].reset_index()
    t = t.rename(columns={t.columns[0]: "tier", "hours_per_account": "hours / account / yr",
                          "fte_by_ratio_min": "FTE by ratio (min)",
                          "fte_by_ratio_max": "FTE by ratio (max)",
                          "fte_by_effort": "FTE by effort",
                          "cost_by_effort": f"cost by effort ({currency})"})
    total = required.loc["total"]
    title = (f"Serving the base takes {total['fte_by_effort']:.1f} CSMs by effort "
             f"({tf.money(total['cost_by_effort'], currency)} a year) against "
             f"{total['fte_by_ratio_min']:.1f}-{total['fte_by_ratio_max']:.1f} by ratio")
    return ExhibitSpec(
        t, title, "Headcount two ways: accounts per CSM ratio, and touch effort", "params "
        "touch_model, accounts", n=int(total["accounts"]),
        notes="Touch plans per tier: " + "; ".join(
            f"{tier}: {plan}" for tier, plan in required["touches"].drop("total").items()) + ".",
        formats={"hours / account / yr": "{:,.1f}", "FTE by ratio (min)": "{:,.1f}",
                 "FTE by ratio (max)": "{:,.1f}", "FTE by effort": "{:,.1f}",
                 f"cost by effort ({currency})": "{:,.0f}"})


def paths_title(gap: pd.DataFrame, years: int) -> str:
    worst = gap.index.max()
    row = gap.loc[worst]
    return (f"At {tf.pct(worst, 0)} annual churn, MRR after {years} years is "
            f"{tf.pct(abs(row['gap_share']), 0)} below the no-churn path")


def revenue_paths(paths: pd.DataFrame, gap: pd.DataFrame, *, years: int, growth: float,
                  assumptions: str, currency: str) -> ExhibitSpec:
    frame = paths.copy()
    frame.columns = [f"{c:.0%} churn" for c in frame.columns]
    fig, ax = charts.new_figure(2.8)
    worst = frame.columns[-1]
    charts.trend_lines(frame, ax, highlight=worst, percent=False,
                       money_symbol=tf.CURRENCY_SYMBOLS.get(currency, ""))
    ax.set_xlabel("Months from today")
    return ExhibitSpec(
        fig, paths_title(gap, years),
        f"MRR paths over {years} years at {tf.pct(growth, 0)} annual growth, by annual "
        "churn rate", "params (scenario)", notes=f"Assumptions: {assumptions}")


def current_fte_by_tier(coverage: pd.DataFrame) -> pd.Series:
    """Current CSM capacity per tier: each owner counts as one FTE split across tiers in
    proportion to the accounts they own (unassigned accounts add no capacity)."""
    cov = coverage.drop(index="(unassigned)", errors="ignore")
    tier_cols = [c for c in cov.columns if c.startswith("accounts_") and c not in (
        "accounts_per_csm_low", "accounts_per_csm_high")]
    shares = cov[tier_cols].div(cov["accounts"].where(cov["accounts"] > 0), axis=0)
    out = shares.sum()
    out.index = [c.removeprefix("accounts_") for c in out.index]
    return out


def coverage_sentence(coverage: pd.DataFrame) -> str:
    cov = coverage.drop(index="(unassigned)", errors="ignore")
    counts = cov["coverage"].value_counts()
    parts = [f"{n} {label}" for label, n in counts.items()]
    unassigned = int(coverage.loc["(unassigned)", "accounts"]) if "(unassigned)" in \
        coverage.index else 0
    text = (f"{len(cov):,} owners carry between {int(cov['accounts'].min()):,} and "
            f"{int(cov['accounts'].max()):,} accounts; against the ratio of their main tier "
            f"they are: {', '.join(parts)}.")
    if unassigned:
        text += f" {unassigned:,} accounts have no owner."
    return text


def own_churn_rate(accounts: pd.DataFrame, as_of: pd.Timestamp) -> float:
    """Annual logo churn of the trailing 12 months: accounts churned in the window /
    accounts active at its start (0 when there were none)."""
    start = as_of - pd.DateOffset(months=12)
    base = (accounts["start_date"] <= start) & ~(accounts["churn_date"] <= start)
    churned = base & accounts["churn_date"].between(start, as_of)
    return float(churned.sum() / base.sum()) if base.sum() else 0.0


def assumptions_text(s) -> str:
    comp = ("growth and churn compound monthly (annual rates converted to monthly rates)"
            if s.compounding == "monthly" else "growth and churn apply once a year")
    base = ("churn applies to the current base" if s.churn_base == "current"
            else "churn applies to the starting base only")
    return f"{comp}; {base}; starting from today's active accounts at today's average MRR."


def scenario_sentence(gap: pd.DataFrame, own: float, years: int, currency: str) -> str:
    row = gap.loc[gap.index[(abs(gap.index - round(own, 3))).argmin()]]
    return (f"At the client's own trailing annual logo churn of {tf.pct(own, 0)}, MRR after "
            f"{years} years would be {tf.money(row['mrr'], currency)} instead of "
            f"{tf.money(row['no_churn_mrr'], currency)} without churn: a gap of "
            f"{tf.money(abs(row['gap']), currency)} a month "
            f"({tf.pct(abs(row['gap_share']), 0)}).")
