"""Exhibits and sentences of the coverage, headcount and churn-impact sections.

Every number comes from the analysis results passed in (:mod:`playbook.analyses.capacity`,
:mod:`playbook.analyses.scenarios`); titles are chosen by rules tested in
``tests/test_findings_capacity.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec

GAP_TOLERANCE = 0.5  # FTE: smaller differences between current and required read as "matches"
#: The levers named as their metrics (:mod:`playbook.metrics`): churn is gross revenue churn
#: (1 − GRR), expansion NRR − GRR, new business the base-MRR share of accounts not in the base.
LEVER_LABELS = {"churn": "gross revenue churn", "expansion": "expansion",
                "new_sales": "new business", "price": "price"}


def _fte(v: float) -> str:
    return tf.number(v, 1)


def _owners(v: float) -> str:
    """Today's owners: a count of people ("7 owners", "1 owner"); FTE decimals only when
    the total is not whole."""
    if float(v).is_integer():
        return tf.plural(v, "owner")
    return f"{_fte(v)} owners"


def _words(name: str) -> str:
    return str(name).replace("_", " ")


def _touch_counts(plan: str) -> str:
    """``monthly_call 12x1.5h + webinar 4x12h pooled`` -> ``monthly call 12, webinar 4*``."""
    out = []
    for part in str(plan).split(" + "):
        if not part:
            continue
        pooled = part.endswith(" pooled")
        name, _, rest = part.removesuffix(" pooled").rpartition(" ")
        count = rest.split("x", 1)[0]
        out.append(f"{_words(name)} {count}{'*' if pooled else ''}")
    return ", ".join(out)


def _tiers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(index="total", errors="ignore")


# --------------------------------------------------------------------------- touch plan
def touch_plan_title(required: pd.DataFrame) -> str:
    """Rule: on the top assigned tier, compare the accounts one CSM can carry by effort
    (CSM hours / hours per account) with the ratio range: inside, fewer or more."""
    tiers = _tiers(required)
    assigned = tiers[~tiers["pooled"] & (tiers["hours_per_account"] > 0)]
    if assigned.empty:
        return "No tier has assigned CSM time in the touch model"
    tier = assigned.index[0]
    row = assigned.loc[tier]
    hours, implied = row["hours_per_account"], row["implied_accounts_per_csm"]
    lo, hi = row["accounts_per_csm_low"], row["accounts_per_csm_high"]
    rng = f"{lo:,.0f}-{hi:,.0f}" if lo != hi else f"{lo:,.0f}"
    head = (f"A {tier}-tier account takes {tf.number(hours, 0)} hours a year, so one CSM can "
            f"carry {tf.count(implied)}")
    if row["effort_vs_ratio"] == "inside":
        return f"{head}, inside the {rng} ratio"
    if row["effort_vs_ratio"] == "fewer":
        return f"{head}, fewer than the {rng} the ratio assumes"
    return f"{head}, more than the {rng} the ratio assumes"


def touch_plan_table(required: pd.DataFrame) -> ExhibitSpec:
    """The touch plan per tier: touches, the hours they take and the ratios that follow."""
    tiers = _tiers(required)
    rows = []
    for tier, r in tiers.iterrows():
        hours = (f"{r['contact_hours']:g} + {r['prep_hours']:g} + {r['travel_hours']:g} + "
                 f"{r['admin_hours_per_account']:g} = {r['hours_per_account']:g}")
        lo, hi = r["accounts_per_csm_low"], r["accounts_per_csm_high"]
        rows.append({
            "tier": tier, "touches a year": _touch_counts(r["touches"]),
            "hours / account / yr": hours,
            "one-to-many hours / yr": r["program_hours"],
            "accounts / CSM: ratio": "pooled" if r["pooled"] else
            (f"{lo:,.0f}-{hi:,.0f}" if lo != hi else f"{lo:,.0f}"),
            "by effort": tf.count(r["implied_accounts_per_csm"], missing="–"),
        })
    csm_hours = float(required["csm_hours_per_year"].iloc[0])
    return ExhibitSpec(
        pd.DataFrame(rows), touch_plan_title(required),
        "Touch plan per value tier: touches per account a year, hours per account a year, "
        "and the accounts one CSM can carry",
        "params touch_model", n=int(required.loc["total", "accounts"]),
        notes="Hours per account a year = contact + preparation + travel + admin. A CSM has "
        f"{csm_hours:,.0f} hours a year for accounts; by effort = {csm_hours:,.0f} / hours "
        "per account. One-to-many touches (marked *) cost their hours once for the whole "
        "tier. Risk outreach = expected just-in-time contacts on risk flags per account a "
        "year. Hours per touch: " + "; ".join(_words(t) for t in tiers["touches"]) + ".",
        formats={"one-to-many hours / yr": "{:,.0f}"})


# --------------------------------------------------------------------------- headcount
def headcount_table_title(required: pd.DataFrame, currency: str) -> str:
    """Rule: total FTE by effort and its cost, placed against the range the ratios give
    (inside, above or below)."""
    t = required.loc["total"]
    eff, lo, hi = t["fte_by_effort"], t["fte_by_ratio_min"], t["fte_by_ratio_max"]
    head = (f"Serving the base takes {_fte(eff)} CSMs by effort "
            f"({tf.money(t['cost_by_effort'], currency)} a year)")
    if lo - 0.05 <= eff <= hi + 0.05:
        return f"{head}, inside the {_fte(lo)}-{_fte(hi)} the ratios give"
    if eff > hi:
        return f"{head}, more than the {_fte(lo)}-{_fte(hi)} the ratios give"
    return f"{head}, fewer than the {_fte(lo)}-{_fte(hi)} the ratios give"


def headcount_table(gap: pd.DataFrame, required: pd.DataFrame, currency: str, *,
                    with_current: bool = True) -> ExhibitSpec:
    """Headcount two ways side by side, with current coverage and cost per role
    (``with_current=False``: the accounts name no owner, so the current and gap columns,
    which would read as zero CSMs today, are left out)."""
    t = gap.copy()
    pooled = required["pooled"].reindex(t.index).fillna(False).astype(bool)
    t["by ratio"] = ["pooled" if pool else f"{a:,.1f}-{b:,.1f}" if abs(a - b) > 1e-9
                     else f"{a:,.1f}"
                     for a, b, pool in zip(t["fte_by_ratio_min"], t["fte_by_ratio_max"], pooled,
                                           strict=True)]
    t = t.reset_index().rename(columns={t.index.name or "index": "tier"})
    t = t[["tier", "role", "accounts", "by ratio", "fte_by_effort", "current", "gap",
           "cost_by_effort", "cost_current"]].rename(columns={
               "fte_by_effort": "by effort", "gap": "gap (effort - current)",
               "cost_by_effort": f"cost required ({currency})",
               "cost_current": f"cost current ({currency})"})
    t["accounts"] = t["accounts"].astype(float).round().astype(int)
    if not with_current:
        t = t.drop(columns=["current", "gap (effort - current)", f"cost current ({currency})"])
    costs = "; ".join(f"{r} {tf.money(c, currency)}" for r, c in
                      _tiers(gap).set_index("role")["loaded_cost"].items())
    current = ("Current: each owner is one FTE, split across tiers by the hours the touch "
               "model gives their accounts. " if with_current else
               "The accounts name no owner, so today's coverage is not measured. ")
    return ExhibitSpec(
        t, headcount_table_title(required, currency),
        "CSM full-time equivalents per value tier: by accounts-per-CSM ratio, by touch "
        "effort" + (", and today's owners" if with_current else "") + "; cost a year at a "
        "loaded salary per role",
        "accounts (owner), params touch_model" if with_current else
        "accounts, params touch_model", n=int(required.loc["total", "accounts"]),
        notes=f"{current}Loaded cost a year: {costs}.",
        formats={"by effort": "{:,.1f}", "current": "{:,.1f}",
                 "gap (effort - current)": "{:+,.1f}",
                 f"cost required ({currency})": "{:,.0f}",
                 f"cost current ({currency})": "{:,.0f}"})


def gap_explanation(required: pd.DataFrame) -> str:
    """Why the two methods differ, tier by tier, in words (markdown: the tiers' names, from
    the parameters, are escaped)."""
    parts = []
    for name, r in _tiers(required).iterrows():
        tier = tf.md_escape(name)
        eff = _fte(r["fte_by_effort"])
        if r["pooled"]:
            parts.append(
                f"the {tier} tier is pooled, so the ratio assigns nobody, while its "
                f"{tf.number(r['program_hours'], 0)} hours of one-to-many programmes and "
                f"{r['admin_hours_per_account']:g} hours of admin per account still take "
                f"{eff} FTE")
            continue
        rng = f"{_fte(r['fte_by_ratio_min'])}-{_fte(r['fte_by_ratio_max'])}"
        implied = tf.count(r["implied_accounts_per_csm"])
        lo, hi = r["accounts_per_csm_low"], r["accounts_per_csm_high"]
        ratio = f"{lo:,.0f}-{hi:,.0f}" if lo != hi else f"{lo:,.0f}"
        where = {"inside": "inside", "fewer": "below", "more": "above"}[r["effort_vs_ratio"]]
        why = {"inside": "so the two methods agree",
               "fewer": "so the touches take more time than the ratio allows for",
               "more": "so the ratio leaves time the planned touches do not use"}[
            r["effort_vs_ratio"]]
        parts.append(
            f"a {tier}-tier account takes {r['hours_per_account']:g} hours a year, so a CSM "
            f"can carry {implied}, {where} the {ratio} ratio, {why} ({eff} FTE by effort "
            f"against {rng} by ratio)")
    if not parts:
        return ""
    text = "Why the two methods differ: " + "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def headcount_title(gap: pd.DataFrame) -> str:
    """Rule: name the tier with the largest shortfall and the one with the largest surplus
    when both exceed ``GAP_TOLERANCE`` ("redeploy before hiring"); otherwise the total."""
    tiers = _tiers(gap)
    total = gap.loc["total"]
    short, spare = tiers["gap"].idxmax(), tiers["gap"].idxmin()
    s_gap, p_gap = tiers.loc[short, "gap"], tiers.loc[spare, "gap"]
    current, need = total["current"], total["fte_by_effort"]
    if current <= 0:
        return f"No owner is recorded, against {_fte(need)} CSMs the touch model needs"
    if s_gap > GAP_TOLERANCE and p_gap < -GAP_TOLERANCE:
        return (f"The {short} tier is {_fte(s_gap)} CSMs short while the {spare} tier has "
                f"{_fte(-p_gap)} more than it needs: redeploy before hiring")
    if abs(total["gap"]) < GAP_TOLERANCE:
        return (f"Today's {_owners(current)} "
                f"{'matches' if current == 1 else 'match'} the {_fte(need)} CSMs the touch "
                "model needs")
    if total["gap"] > 0:
        return (f"The touch model needs {_fte(need)} CSMs, {_fte(total['gap'])} more than the "
                f"{_owners(current)} today, most of them in the {short} tier")
    return (f"Today's {_owners(current)} {'exceeds' if current == 1 else 'exceed'} the "
            f"{_fte(need)} CSMs the touch model needs by {_fte(-total['gap'])}, most of the "
            f"spare capacity in the {spare} tier")


def headcount(gap: pd.DataFrame) -> ExhibitSpec:
    """Current vs required (by effort) CSMs per tier, paired bars."""
    frame = _tiers(gap)[["current", "fte_by_effort"]].iloc[::-1]
    fig, ax = charts.new_figure(1.6)
    charts.paired_bars(frame, ax, first="current", second="fte_by_effort",
                       labels=("current", "required"))
    return ExhibitSpec(
        fig, headcount_title(gap),
        "CSM full-time equivalents per value tier: today's owners vs required by effort",
        "accounts (owner), params touch_model", n=int(gap.loc["total", "accounts"]),
        notes="Required = (accounts x hours per account + one-to-many hours) / CSM hours a "
        "year. Current = owners, each split across tiers by the model hours of their accounts.")


# --------------------------------------------------------------------------- evidence
#: Said instead of the section when neither owners nor the client's own touch model exist.
NO_CAPACITY_EVIDENCE = (
    "No account owners in the data and no touch model in params: a consumer or self-serve "
    "business without CSMs is not sized here; to size coverage, supply the owner column or "
    "params touch_model.")
#: Said under the headcount when the client's touch model sizes the plan but no owner is named.
NO_OWNERS = (
    "No account owners in the data: today's coverage and the gap to the touch model are not "
    "measured; supply the owner column of the CRM export to compare.")


# --------------------------------------------------------------------------- coverage
def coverage_title(coverage: pd.DataFrame) -> str:
    """Rule: count owners above (under-covered) and below (over-covered) their main tier's
    ratio; when none is, say so, or name the owners working mainly on the pooled tier."""
    cov = coverage.drop(index="(unassigned)", errors="ignore")
    if cov.empty:
        return "No account has an owner, so current coverage cannot be measured"
    counts = cov["coverage"].value_counts()
    under, over = int(counts.get("under-covered", 0)), int(counts.get("over-covered", 0))
    pooled = int(counts.get("pooled", 0))
    n = len(cov)
    if under and over:
        return (f"{under} of {n} owners carry more accounts than their tier's ratio allows, "
                f"{over} fewer")
    if under:
        return f"{under} of {n} owners carry more accounts than their tier's ratio allows"
    if over:
        return f"{over} of {n} owners carry fewer accounts than their tier's ratio allows"
    if pooled:
        return (f"No assigned owner's book breaks its tier's ratio; {pooled} of {n} work "
                "mainly on the pooled tier")
    return f"All {n} owners' books fit the ratio of their main tier"


def owner_table(coverage: pd.DataFrame, tiers: list[str], currency: str) -> ExhibitSpec:
    """Accounts, MRR and tier mix per owner, with load and coverage against the ratio."""
    t = coverage.reset_index()
    mix_label = " / ".join(tiers)
    t[mix_label] = [" / ".join(f"{int(r.get(f'accounts_{k}', 0)):,}" for k in tiers)
                    for _, r in t.iterrows()]
    cols = {"owner": "owner", "accounts": "accounts", "mrr": f"MRR ({currency})",
            mix_label: mix_label, "main_tier": "main tier", "effort_fte": "FTE of work",
            "coverage": "vs ratio"}
    t = t[[c for c in cols if c in t.columns]].rename(columns=cols)
    # keep names and labels on one line (no-break space and hyphen): the table is narrow
    for c in ("owner", "vs ratio"):
        t[c] = t[c].astype(str).str.replace(" ", "\u00a0").str.replace("-", "\u2011")
    n_owners = len(coverage.drop(index="(unassigned)", errors="ignore"))
    return ExhibitSpec(
        t, coverage_title(coverage),
        "Book of business per account owner: accounts, MRR, accounts per value tier, the "
        "work the book takes by the touch model, and its fit with the main tier's ratio",
        "accounts (owner), params touch_model", n=int(coverage["accounts"].sum()),
        notes=f"{n_owners} owners. Main tier = the tier holding most of the owner's accounts; "
        "under-covered = more accounts than the main tier's ratio allows, over-covered = "
        "fewer. FTE of work = model hours of the book / CSM hours a year (1.0 = one "
        "full CSM).",
        formats={f"MRR ({currency})": "{:,.0f}", "FTE of work": "{:,.2f}"})


def coverage_sentence(coverage: pd.DataFrame) -> str:
    """Owners' books in one sentence (markdown: the owner's name, from the client's data, is
    escaped)."""
    cov = coverage.drop(index="(unassigned)", errors="ignore")
    unassigned = (int(coverage.loc["(unassigned)", "accounts"])
                  if "(unassigned)" in coverage.index else 0)
    if cov.empty:
        return (f"None of the {tf.count(unassigned)} accounts has an owner: ask the client "
                "for the account-owner field of the CRM export.")
    heavy = cov.sort_values("effort_fte", ascending=False)
    top = heavy.iloc[0]
    text = (f"{len(cov):,} owners carry between {int(cov['accounts'].min()):,} and "
            f"{int(cov['accounts'].max()):,} accounts. The heaviest book by effort is "
            f"{tf.md_escape(heavy.index[0])}'s ({int(top['accounts']):,} accounts, "
            f"{tf.number(top['effort_fte'], 2)} FTE of work by the touch model)")
    pooled = cov[cov["coverage"] == "pooled"]
    if len(pooled):
        text += (f"; the {len(pooled)} owners working mainly on the pooled tier hold "
                 f"{tf.count(pooled['accounts'].sum())} accounts that the model serves with "
                 f"{tf.number(pooled['effort_fte'].sum(), 1)} FTE of work in total")
    text += "."
    if unassigned:
        text += f" {unassigned:,} accounts have no owner."
    return text


def sensitivity_title(sens: pd.DataFrame, *, account_growth: float, currency: str) -> str:
    """Rule: the no-shift row at the last year against today; wording for no growth."""
    base = sens[sens["shift"] == 0].set_index("year")
    last = int(base.index.max())
    now, end = base.loc[0], base.loc[last]
    if last == 0 or account_growth == 0:
        return (f"The touch model needs {_fte(now['fte_by_effort'])} CSMs "
                f"({tf.money(now['cost_by_effort'], currency)} a year) at today's account "
                "count")
    verb = "more" if account_growth > 0 else "fewer"
    return (f"With {tf.pct(abs(account_growth), 0)} {verb} accounts a year, the touch model "
            f"needs {_fte(end['fte_by_effort'])} CSMs by year {last} "
            f"({tf.money(end['cost_by_effort'], currency)} a year), against "
            f"{_fte(now['fte_by_effort'])} today")


def sensitivity_table(sens: pd.DataFrame, *, top_tier: str, account_growth: float,
                      currency: str) -> ExhibitSpec:
    """FTE (cost) by year of account growth (rows) and top-tier share (columns)."""
    share0 = float((sens.loc[(sens["shift"] == 0) & (sens["year"] == 0), "top_tier_accounts"]
                    / sens.loc[(sens["shift"] == 0) & (sens["year"] == 0), "accounts"]).iloc[0])
    shifts = sorted(sens["shift"].unique())
    rows = []
    for year, g in sens.groupby("year"):
        row = {"year": "today" if year == 0 else f"year {year}",
               "accounts": tf.count(g["accounts"].iloc[0])}
        for s in shifts:
            r = g[g["shift"] == s].iloc[0]
            label = f"{top_tier} {tf.pct(share0 + s, 0)}" + (" (today)" if s == 0 else "")
            row[label] = (f"{_fte(r['fte_by_effort'])} FTE, "
                          f"{tf.money(r['cost_by_effort'], currency)}")
        rows.append(row)
    return ExhibitSpec(
        pd.DataFrame(rows), sensitivity_title(sens, account_growth=account_growth,
                                              currency=currency),
        f"CSMs required by effort and their cost a year, as accounts grow "
        f"{tf.pct(account_growth, 0)} a year (rows) and the {top_tier} tier's share of accounts "
        "shifts (columns)", "params touch_model, value tiers",
        n=int(round(sens["accounts"].iloc[0])),
        notes="A shift moves accounts into or out of the top tier, taken pro rata from the "
        "other tiers; hours per account and loaded costs as in the touch plan.")


# --------------------------------------------------------------------------- scenarios
#: How the report names the scenarios' churn: the metrics layer's gross revenue churn.
CHURN_NAME = "gross revenue churn"


def own_churn_text(own: float) -> str:
    """The client's churn named as its metric: "gross revenue churn of 11.4% (1 − GRR)"."""
    return f"{CHURN_NAME} of {tf.pct(own, 1)} (1 − GRR)"


def paths_title(gap: pd.DataFrame, years: int, own: float | None, currency: str) -> str:
    """Rule: state the year-N gap at the client's own churn when given, else at the highest
    churn rate; the percent is of the no-churn path. The churn is named as its metric."""
    mine = own is not None and round(own, 3) in gap.index.round(3)
    rate = own if mine else gap.index.max()
    row = gap.loc[gap.index[abs(gap.index - rate).argmin()]]
    lead = (f"At today's {own_churn_text(rate)}" if mine
            else f"At {tf.pct(rate, 0)} annual {CHURN_NAME}")
    return (f"{lead}, MRR after {years} years is {tf.pct(abs(row['gap_share']), 0)} "
            f"({tf.money(abs(row['gap']), currency)} a month) below the no-churn path")


def revenue_paths(paths: pd.DataFrame, gap: pd.DataFrame, *, years: int, growth: float,
                  assumptions: str, currency: str, n: int,
                  own: float | None = None) -> ExhibitSpec:
    """The MRR paths by churn rate; ``n``: the accounts of the base whose rates the paths
    compound (``base_accounts`` of the headline metrics)."""
    frame = paths.copy()
    own_label = None
    labels = []
    for c in frame.columns:
        if own is not None and abs(c - own) < 5e-4:
            own_label = f"today {tf.pct(c, 1)} (1 − GRR)"
            labels.append(own_label)
        else:
            labels.append(f"{c:.0%} churn")
    frame.columns = labels
    fig, ax = charts.new_figure(2.6)
    charts.trend_lines(frame, ax, highlight=own_label or frame.columns[-1], percent=False,
                       money_symbol=tf.CURRENCY_SYMBOLS.get(currency, ""))
    ax.set_xlabel("Months from today")
    ax.set_xticks(range(0, 12 * years + 1, 6))
    return ExhibitSpec(
        fig, paths_title(gap, years, own, currency),
        f"MRR paths over {years} years from today's MRR at {tf.pct(growth, 1)} annual growth "
        f"before churn, by annual {CHURN_NAME}", "mrr (trailing 12 months), params scenarios",
        n=n, notes=f"Assumptions: {assumptions}")


def assumptions_text(s: Any, *, growth_from_client: bool) -> str:
    comp = ("growth and churn compound monthly (annual rates / 12 each month)"
            if s.compounding == "monthly" else "growth and churn apply once a year")
    base = ("churn applies to the current base, including customers won during the period"
            if s.churn_base == "current" else "churn applies to the base at the start of each "
            "step only (additive)")
    growth = ("growth = the trailing 12 months' new business (MRR of accounts not in the "
              "base) plus expansion (NRR − GRR), as shares of the base MRR"
              if growth_from_client else "growth from params")
    return (f"{comp}; {base}; {growth}; churn = {CHURN_NAME} (1 − GRR: the base's cancelled "
            "and contracted MRR / base MRR); price constant.")


def scenario_sentence(gap: pd.DataFrame, own: float, years: int, currency: str,
                      at_stake: Mapping[str, float] | None = None) -> str:
    row = gap.loc[gap.index[(abs(gap.index - own)).argmin()]]
    text = (f"At today's {own_churn_text(own)}, MRR after {years} years would be "
            f"{tf.money(row['mrr'], currency)} instead of "
            f"{tf.money(row['no_churn_mrr'], currency)} without churn: a gap of "
            f"{tf.money(abs(row['gap']), currency)} a month "
            f"({tf.pct(abs(row['gap_share']), 0)}).")
    if at_stake:
        text += (f" Over the {years} years, churn at today's rate costs "
                 f"{tf.money(at_stake['revenue_gain'], currency)} of revenue against the "
                 "no-churn path.")
    return text


def growth_title(a: Mapping[str, float]) -> str:
    """Rule: compare the new MRR needed with last year's pace: more (by how much), about the
    same (within half a point), or already covered."""
    need, done = a["needed"], a["delivered"]
    head = (f"Growing MRR {tf.pct(a['target'], 0)} next year at today's "
            f"{own_churn_text(a['churn'])} needs new MRR of {tf.pct(need, 1)} of the base")
    if tf.is_missing(done):
        return head
    pts = abs(need - done) * 100
    if need - done > 0.005:
        return (f"{head}, {pts:.1f} {'point' if round(pts, 1) == 1 else 'points'} more than "
                f"last year's {tf.pct(done, 1)}")
    if need - done < -0.005:
        return f"{head}: last year's pace of {tf.pct(done, 1)} already covers it"
    return f"{head}, about last year's pace of {tf.pct(done, 1)}"


def growth_identity(a: Mapping[str, float], currency: str) -> str:
    """The check that the rates add up to today's MRR, in words: base MRR x (NRR + new
    business share) = today's MRR, with NRR = 1 − gross revenue churn + expansion."""
    nrr = 1.0 - a["churn"] + a["expansion"]
    return (f"The rates add up: base MRR {tf.money(a['start_mrr'], currency)} x (NRR "
            f"{tf.pct(nrr, 1)} + new business {tf.pct(a['new_sales'], 1)}) = today's MRR "
            f"{tf.money(a['start_mrr'] * (nrr + a['new_sales']), currency)}.")


def growth_table(a: Mapping[str, float], currency: str, *, n: int) -> ExhibitSpec:
    """The growth arithmetic (domain.md: 50% + 20% churn = 70% new sales) with the client's
    own rates on the metrics basis (shares of the window's base MRR); ``n``: the base's
    accounts."""
    base = a["base_mrr"]
    rows = [
        ("growth target", a["target"]),
        (f"+ {CHURN_NAME} (1 − GRR, trailing 12 months)", a["churn"]),
        ("= new MRR needed: new business and expansion", a["needed"]),
        ("last 12 months: new business (MRR of accounts not in the base)", a["new_sales"]),
        ("last 12 months: expansion (NRR − GRR)", a["expansion"]),
        ("= new MRR delivered last year", a["delivered"]),
        ("gap to close (needed - delivered)", a["shortfall"]),
    ]
    t = pd.DataFrame(rows, columns=["item", "share of the base"])
    t[f"MRR a month at today's base ({currency})"] = t["share of the base"] * base
    identity = "" if tf.is_missing(a.get("start_mrr")) else " " + growth_identity(a, currency)
    return ExhibitSpec(
        t, growth_title(a),
        "New MRR needed in a year to hit the growth target, as a share of the base MRR (the "
        "accounts paying 12 months ago), against the last 12 months",
        "mrr (trailing 12 months), params thresholds", n=n,
        notes=f"New MRR needed = growth target + {CHURN_NAME} (a one-year, additive view). "
        f"Money applies each share to today's MRR of {tf.money(base, currency)}." + identity,
        formats={"share of the base": "{:.1%}",
                 f"MRR a month at today's base ({currency})": "{:,.0f}"})


def churn_point_sentence(v: Mapping[str, float], currency: str) -> str:
    return (f"One percentage point less {CHURN_NAME} ({tf.pct(v['churn_from'], 1)} to "
            f"{tf.pct(v['churn_to'], 1)} a year) is worth "
            f"{tf.money(v['revenue_gain'], currency)} of revenue over {v['years']} years, "
            f"{tf.money(v['npv_gain'], currency)} in today's money at a "
            f"{tf.pct(v['discount_rate'], 0)} discount rate, and adds "
            f"{tf.money(v['mrr_gain_year_n'], currency)} to MRR in year {v['years']}.")


def _lever_label(lever: str, row: pd.Series) -> str:
    unit = "%" if lever == "price" else " pts"
    return (f"{LEVER_LABELS.get(lever, _words(lever))} {tf.pct(row['rate'], 1)} "
            f"± {row['swing'] * 100:g}{unit}")


def tornado_title(tor: pd.DataFrame, years: int, currency: str) -> str:
    """Rule: name the lever with the widest range; call it "the biggest lever" only when its
    range exceeds the next one's by more than 10%, else name the two."""
    if tor.empty:
        return "No lever to compare"
    first = tor.index[0]
    r0 = tor["range"].iloc[0]
    name0 = LEVER_LABELS.get(first, _words(first))
    if len(tor) > 1 and tor["range"].iloc[1] * 1.1 >= r0:
        name1 = LEVER_LABELS.get(tor.index[1], _words(tor.index[1]))
        return (f"{name0.capitalize()} and {name1} are the biggest levers on MRR in "
                f"{years} years: each moves it by about {tf.money(r0, currency)} a month "
                "across its range")
    return (f"{name0.capitalize()} is the biggest lever on MRR in {years} years: its range "
            f"moves MRR by {tf.money(r0, currency)} a month")


def tornado(tor: pd.DataFrame, *, years: int, currency: str, n: int) -> ExhibitSpec:
    """The levers' ranges; ``n``: the accounts of the base whose rates the levers move."""
    frame = tor[["worse_mrr", "better_mrr"]].copy()
    frame.index = [_lever_label(k, r) for k, r in tor.iterrows()]
    fig, ax = charts.new_figure(2.0)
    charts.tornado(frame, ax, base=float(tor["base_mrr"].iloc[0]), low="worse_mrr",
                   high="better_mrr", symbol=tf.CURRENCY_SYMBOLS.get(currency, ""))
    return ExhibitSpec(
        fig, tornado_title(tor, years, currency),
        f"MRR in {years} years when one lever moves by its plausible range (grey worse, blue "
        "better), others at today's rates; change vs the base path, money a month",
        "mrr (trailing 12 months), params scenarios", n=n,
        notes="Levers are annual rates as a share of the base MRR (the accounts paying 12 "
        "months ago): new business (today's MRR of accounts not in the base: new logos and "
        f"win-backs), expansion (NRR − GRR), {CHURN_NAME} (1 − GRR: cancelled and "
        "contracted MRR), price change on the whole base. Ranges from params; same "
        "compounding as the paths above.")


def scenarios_not_shown(basis: Any, years: int) -> str:
    """Why the impact scenarios are not shown, in one paragraph, from a
    :class:`playbook.analyses.scenario_basis.ScenarioBasis` that is not compoundable: no
    defensible annual rate (a short window, a withheld headline figure) or rates too
    implausible to compound (:func:`playbook.analyses.scenarios.implausible_rates`)."""
    head = "Not shown: revenue paths, growth arithmetic and levers"
    if basis.unavailable:
        fix = ("Send at least 13 months of MRR history to enable them."
               if any("MRR history" in r for r in basis.unavailable) else
               "They return when the headline figures can be trusted (see the summary and "
               "the data-quality appendix).")
        return f"{head}: {'; '.join(basis.unavailable)}. {fix}"
    return (f"{head}. Over the trailing 12 months {' and '.join(basis.implausible)}; "
            f"compounding such rates for {years} years would print meaningless figures. The "
            "base changed too much within the year, or the MRR history contradicts itself "
            "(see the data-quality appendix). Run a period whose base is stable, or raise "
            "scenarios.max_churn / scenarios.max_growth if these rates are real.")
