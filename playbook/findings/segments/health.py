"""Exhibits and sentences of the health scorecard and its backtest: the band mix,
example scores, whether the score predicts renewal, each measure's signal and what to do with
the weights (titles and advice chosen by rules)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec

MEASURE_LABELS = {
    "usage": "Usage",
    "nps": "NPS",
    "products": "Products owned",
    "tickets": "Ticket load",
    "executive_relationship": "Executive relationship",
    "champion_quality": "Champion quality",
    "outcomes": "Outcomes realised",
    "risk_events": "No recent risk event",
}
MEASURE_SHORT = {
    "usage": "usage", "nps": "NPS", "products": "products", "tickets": "tickets",
    "executive_relationship": "exec rel.", "champion_quality": "champion",
    "outcomes": "outcomes",
    "risk_events": "risk events",
}


def measure_label(m: str) -> str:
    """A health measure as titles name it ("Products owned"; unknown keys capitalised)."""
    return MEASURE_LABELS.get(m, m.replace("_", " ").capitalize())


def no_health_sentence(n_accounts: int) -> str:
    """Said instead of the scorecard when no active account has any health measure."""
    return (f"None of the {n_accounts:,} active accounts could be scored on health: the "
            "scorecard needs at least one of usage, surveys (NPS), tickets, products owned "
            "or CSM inputs (executive relationship, champion quality). Add them to the data "
            "request.")


def no_backtest_sentence(decisions: int, months: int) -> str:
    """Said instead of the backtest when no past decision could be scored."""
    if not decisions:
        return (f"No renewal decision in the last {months} months to test the health score "
                "against: the backtest needs the renewals or churn_events table and a year "
                "of history.")
    return (f"None of the {decisions:,} renewal decisions of the last {months} months could "
            "be scored at its cut-off (no health measure dated before it), so the score "
            "cannot be tested yet.")


def _measure_name(m: str) -> str:
    """A measure as prose names it ("ticket load", "NPS"), escaped for markdown."""
    return "NPS" if m == "nps" else tf.md_escape(measure_label(m).lower())


def measures_source(used: pd.DataFrame, *extra: str) -> str:
    """Source line of an exhibit built on the health measures: accounts, the tables of the
    measures actually used (``used``: :func:`playbook.analyses.health.measures_available`)
    and ``extra`` tables, each once."""
    tables = ["accounts", *used.get("table", pd.Series(dtype=object)).tolist(), *extra]
    return ", ".join(dict.fromkeys(tables))


def health_sentence(scored: pd.DataFrame, used: pd.DataFrame) -> str:
    """The band split and the method: the measures actually used with their effective
    weights (weights of measures without data spread over the rest)."""
    bands = scored["health_band"].value_counts(normalize=True)
    parts = ", ".join(f"{_measure_name(m)} {tf.pct(w, 0)}"
                      for m, w in used["effective_weight"].items())
    partial = used.loc[used["share_accounts"] < 1]
    gaps = ("" if partial.empty else " Not every account has every measure ("
            + ", ".join(f"{_measure_name(m)} for {tf.pct(r['share_accounts'], 0)}"
                        for m, r in partial.iterrows())
            + " of accounts); a measure an account lacks has its weight spread over its "
            "other measures.")
    return (f"Of {len(scored):,} active accounts, {tf.pct(bands.get('green', 0), 0)} score "
            f"green, {tf.pct(bands.get('yellow', 0), 0)} yellow and "
            f"{tf.pct(bands.get('red', 0), 0)} red. Each score is the weighted sum of the "
            f"{len(used)} measures the data supplies, with these weights: {parts} (the set "
            f"weights, rescaled to the measures with data).{gaps} Weights and bands are "
            "parameters (health.weights, health.bands).")


#: What to ask for to add each measure to the scorecard.
MEASURE_ASKS = {
    "usage": "usage (active users and licensed seats by month)",
    "nps": "NPS survey answers",
    "products": "products owned per account",
    "tickets": "support tickets with their priority",
    "executive_relationship": "CSM inputs (executive relationship, champion quality)",
    "champion_quality": "CSM inputs (executive relationship, champion quality)",
    "outcomes": "success plans (agreed outcomes with baseline, target and measurements)",
    "risk_events": "trigger events (champion left, executive change, reorganisation)",
}


def too_few_measures_sentence(used: pd.DataFrame, n_accounts: int, min_measures: int) -> str:
    """Said instead of the scorecard when fewer than ``min_measures`` measures have data:
    one measure is that measure, not a health score. Asks for the measures not supplied."""
    if used.empty:
        return no_health_sentence(n_accounts)
    only = _measure_name(used.index[0])
    asks = list(dict.fromkeys(v for m, v in MEASURE_ASKS.items() if m not in used.index))
    return (f"Not shown: a health score needs at least {min_measures} measures, and the "
            f"client's data supplies only {only} (for "
            f"{tf.pct(used['share_accounts'].iloc[0], 0)} of the {n_accounts:,} active "
            f"accounts); one measure is not a health score. Add {_or(asks)} to the data "
            "request.")


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def band_mix_title(mix: pd.DataFrame, small_n: int) -> str:
    """Rule: name the group (of at least ``small_n`` scored accounts,
    ``thresholds.small_group_n``) with the largest red share, against the overall red share."""
    if "share_red" not in mix or mix.loc["All", "accounts"] == 0:
        return "No account scores in the red band"
    groups = mix.drop(index="All")
    groups = groups.loc[groups["accounts"] >= small_n]
    if groups.empty or groups["share_red"].max() == 0:
        return (f"{tf.pct(mix.loc['All', 'share_red'], 0)} of scored accounts are red; no "
                "group is large enough to compare")
    top = groups["share_red"].idxmax()
    return (f"{top} has the largest red share: {tf.pct(groups.loc[top, 'share_red'], 0)} of "
            f"its accounts against {tf.pct(mix.loc['All', 'share_red'], 0)} overall")


def band_mix(mix: pd.DataFrame, currency: str, small_n: int,
             source: str = "accounts") -> ExhibitSpec:
    """Band shares by segment; ``source``: :func:`measures_source` of the measures used."""
    share_cols = [c for c in mix.columns if c.startswith("share_")]
    shares = mix[share_cols].rename(columns=lambda c: c.removeprefix("share_"))
    labels = [f"{g} (n={int(n):,}{', too small' if n < small_n else ''})"
              for g, n in zip(mix.index, mix["accounts"], strict=True)]
    fig, ax = charts.new_figure(0.34 * len(mix) + 0.6)
    charts.stacked_shares(shares, ax, row_labels=labels)
    red_mrr = mix.loc["All", "mrr_red"] if "mrr_red" in mix else None
    notes = "Bands from params (health.bands; they may differ by segment)."
    if red_mrr is not None:
        notes += f" Red accounts hold {tf.money(red_mrr, currency)} of MRR."
    return ExhibitSpec(
        fig, band_mix_title(mix, small_n),
        "Share of active accounts per health band, by segment, as of the period end",
        source, n=int(mix.loc["All", "accounts"]), notes=notes)


def examples_title(examples: pd.DataFrame) -> str:
    """An example from the table: its score, band and largest contribution."""
    if examples.empty:
        return "No account could be scored"
    green = examples.loc[examples["health_band"] == "green"]
    row = (green if len(green) else examples).iloc[0]
    contrib = row[[c for c in row.index if c.startswith("contrib_")]].astype(float).dropna()
    who = row.get("name") if isinstance(row.get("name"), str) else row.name
    if contrib.empty:
        return f"{who} scores {row['health_score']:.0f} ({row['health_band']})"
    top = contrib.idxmax().removeprefix("contrib_")
    return (f"Each score adds up from its measures: {who} scores {row['health_score']:.0f} "
            f"({row['health_band']}), {contrib.max():.0f} points of it from "
            f"{measure_label(top).lower() if top != 'nps' else 'NPS'}")


def health_examples(examples: pd.DataFrame, weights: Mapping[str, float], currency: str,
                    names: pd.Series | None = None, source: str = "accounts") -> ExhibitSpec:
    """Example accounts' points per measure: one column per measure of ``weights`` (pass
    the effective weights of the measures used, so no column is all dashes)."""
    ex = examples.copy()
    if names is not None:
        ex["name"] = names.reindex(ex.index)
    total_w = sum(w for w in weights.values() if w and w > 0)
    who = ex["name"].fillna(pd.Series(ex.index, index=ex.index)) if "name" in ex else (
        pd.Series(ex.index, index=ex.index))
    if "segment" in ex:
        who = [f"{a} ({s})" if isinstance(s, str) and s else str(a)
               for a, s in zip(who, ex["segment"], strict=True)]
    t = pd.DataFrame({"account (segment)": list(who)})
    formats = {"score": "{:.0f}"}
    for m, w in weights.items():
        if not w or w <= 0:
            continue
        head = f"{MEASURE_SHORT.get(m, m)} {w / total_w:.0%}"
        t[head] = ex[f"contrib_{m}"].to_numpy(dtype=float)
        formats[head] = "{:.1f}"
    t["score"] = ex["health_score"].to_numpy(dtype=float)
    t["band"] = ex["health_band"].to_numpy()
    return ExhibitSpec(
        t, examples_title(ex),
        "Points each measure adds to the 0-100 health score, for example accounts per band "
        "(column headers: measure and weight)", source, n=len(t),
        notes="Points = weight x the measure's own 0-100 score; the points add up to the "
              "score. A dash: measure missing, its weight spread over the others. Examples: "
              "per band, the largest accounts measured on the most measures, one per segment "
              "first.",
        formats=formats)


# --------------------------------------------------------------------------- backtest
def predicts(auc: Mapping[str, float], min_auc: float) -> bool:
    """The score predicts when its AUC reaches ``min_auc`` and its interval excludes 0.5."""
    a = auc.get("auc")
    return not tf.is_missing(a) and a >= min_auc and auc.get("low", 0) > 0.5


def auc_below(a: float, limit: float) -> str:
    """An AUC below ``limit`` written so that it reads below it: two decimals, or three
    when two would print the limit itself (0.648 against 0.65)."""
    return f"{a:.3f}" if f"{a:.2f}" == f"{limit:.2f}" else f"{a:.2f}"


def backtest_title(outcomes: pd.DataFrame, auc: Mapping[str, float], min_auc: float) -> str:
    """Rule: 'predicts' when the AUC reaches ``health.backtest_min_auc`` and its 95%
    interval lies above 0.5; 'only weakly' when the interval lies above 0.5 but the AUC is
    below the minimum; otherwise 'does not predict'."""
    a = auc.get("auc")
    bands = [b for b in outcomes.index if b != "total"]
    if tf.is_missing(a) or len(bands) < 2:
        return "Too few scored renewal decisions to test the health score"
    lo, hi = outcomes.loc[bands[0]], outcomes.loc[bands[-1]]
    rates = (f"{bands[0]} accounts renewed at {tf.pct(lo['renewal_rate'], 0)} against "
             f"{tf.pct(hi['renewal_rate'], 0)} for {bands[-1]}")
    if predicts(auc, min_auc):
        return f"The health score predicts renewal (AUC {a:.2f}): {rates}"
    if auc.get("low", 0) > 0.5:
        return f"The health score predicts renewal only weakly (AUC {a:.2f}): {rates}"
    return (f"The health score does not predict renewal: AUC {a:.2f}, its interval includes "
            "0.50 (a coin toss)")


def backtest_bands(outcomes: pd.DataFrame, auc: Mapping[str, float], min_auc: float,
                   months: int, cutoff_days: int,
                   source: str = "accounts, renewals") -> ExhibitSpec:
    """Renewal rate by band at the cut-off; ``source``: :func:`measures_source` of the
    measures used and the decisions' tables."""
    rows = outcomes.drop(index="total", errors="ignore").reset_index()
    rows = rows.rename(columns={rows.columns[0]: "group"})
    rows["low"] = 1 - rows["churn_rate_high"]
    rows["high"] = 1 - rows["churn_rate_low"]
    fig, ax = charts.new_figure(0.36 * len(rows) + 0.6)
    overall = outcomes.loc["total", "renewal_rate"] if "total" in outcomes.index else None
    charts.rates_with_intervals(rows, ax, label_col="group", rate="renewal_rate", low="low",
                                high="high", n="n", small="small_sample", overall=overall)
    a = auc.get("auc")
    auc_text = ("AUC n/a" if tf.is_missing(a) else
                f"AUC {a:.2f} (95% interval {auc['low']:.2f}-{auc['high']:.2f})")
    return ExhibitSpec(
        fig, backtest_title(outcomes, auc, min_auc),
        f"Renewal rate of the decisions of the last {months} months by health band "
        f"{cutoff_days} days before the decision, with 95% intervals",
        source, n=int(outcomes.loc["total", "n"]) if "total" in outcomes.index
        else int(outcomes["n"].sum()), n_of="renewal decisions",
        notes=f"Score recomputed from data dated on or before each cut-off. {auc_text}; "
              "0.50 = a coin toss, 1 = perfect ranking. Downgrades count as renewed.")


def signal_title(signal: pd.DataFrame, cv: Mapping[str, Any] | None) -> str:
    """Rule: name the measure with the highest AUC of its own; add what regression weights
    would score on decisions they were not fitted on, against the current weights."""
    ok = signal.dropna(subset=["auc"])
    if ok.empty:
        return "No health measure could be tested against renewals"
    top = ok["auc"].idxmax()
    text = f"{measure_label(top)} carried most of the signal (AUC {ok.loc[top, 'auc']:.2f} alone)"
    prop = (cv or {}).get("auc_proposed", {}).get("auc")
    cur = (cv or {}).get("auc_current", {}).get("auc")
    if tf.is_missing(prop) or tf.is_missing(cur):
        return text
    if prop - cur >= 0.02:
        return text + f"; regression weights would lift the AUC from {cur:.2f} to {prop:.2f}"
    return text + (f"; regression weights would not do much better (AUC {prop:.2f} against "
                   f"{cur:.2f})")


def _interval(est: float, lo: float, hi: float) -> str:
    if tf.is_missing(est):
        return "n/a"
    if tf.is_missing(lo) or tf.is_missing(hi):
        return f"{est:.2f}"
    return f"{est:.2f} ({lo:.2f}-{hi:.2f})"


def measure_signal(signal: pd.DataFrame, reg: Mapping[str, Any],
                   cv: Mapping[str, Any] | None,
                   source: str = "accounts, renewals") -> ExhibitSpec:
    """Each measure's own AUC and the regression's weights; ``source`` as for
    :func:`backtest_bands`."""
    coefs = reg.get("coefficients", pd.DataFrame())
    proposed = reg.get("weights") or {}
    rows = []
    for m, r in signal.iterrows():
        c = coefs.loc[m] if m in coefs.index else None
        rows.append({
            "measure": measure_label(m),
            "weight now": r["weight"],
            "AUC alone": r["auc"],
            "AUC 95%": _range(r["auc_low"], r["auc_high"]),
            "odds ratio per 10 pts": None if c is None else c["odds_ratio"],
            "OR 95%": "not fitted" if c is None else _range(c["or_low"], c["or_high"]),
            "proposed weight": proposed.get(m, 0.0) if proposed else None,
        })
    t = pd.DataFrame(rows)
    fewest = signal["n"].idxmin() if len(signal) else None
    notes = ("AUC alone: how well the measure by itself ranks renewals. Odds ratios from a "
             "logistic regression of renewal on all measures (missing scores set to the "
             "measure's median); proposed weight = positive coefficient / sum of positive "
             "coefficients.")
    if fewest is not None and signal["n"].min() < signal["n"].max():
        notes += (f" Measures were available for {int(signal['n'].min()):,} "
                  f"({measure_label(fewest).lower() if fewest != 'nps' else 'NPS'}) to "
                  f"{int(signal['n'].max()):,} decisions.")
    if reg.get("error"):
        notes += f" The regression could not be fitted: {reg['error']}"
    if cv:
        cur, prop = cv["auc_current"], cv["auc_proposed"]
        notes += (f" On decisions held out by account ({cv['folds']} folds): AUC "
                  f"{_interval(cur['auc'], cur['low'], cur['high'])} with current weights, "
                  f"{_interval(prop['auc'], prop['low'], prop['high'])} with regression "
                  "weights.")
    return ExhibitSpec(
        t, signal_title(signal, cv),
        "Each health measure at the cut-off against the renewal outcome",
        source, n=int(reg.get("n") or signal["n"].max()), notes=notes,
        formats={"weight now": "{:.0%}", "proposed weight": "{:.0%}", "AUC alone": "{:.2f}",
                 "odds ratio per 10 pts": "{:.2f}"})


def _range(lo: float, hi: float) -> str:
    return "n/a" if tf.is_missing(lo) or tf.is_missing(hi) else f"{lo:.2f}-{hi:.2f}"


def weights_sentence(reg: Mapping[str, Any], cv: Mapping[str, Any] | None,
                     weights: Mapping[str, float], auc: Mapping[str, float],
                     min_auc: float, min_gain: float) -> str:
    """What to do with the weights. Rules: keep them when the score predicts (and name the
    regression's shifts for the next revision); when it does not, propose the regression's
    weights if they lift the held-out AUC by at least ``min_gain``, else say reweighting
    alone will not fix the score. Markdown: measure names (parameter keys) and the
    regression's error are escaped."""
    proposed = reg.get("weights") or {}
    a = auc.get("auc")
    if predicts(auc, min_auc):
        verdict = "The score predicts renewal as weighted."
    elif not tf.is_missing(a) and auc.get("low", 0) > 0.5:
        verdict = (f"As weighted, the score predicts renewal only weakly (AUC "
                   f"{auc_below(a, min_auc)}, below the {min_auc:.2f} set in "
                   "health.backtest_min_auc).")
    else:
        verdict = (f"As weighted, the score does not predict renewal (AUC "
                   f"{tf.number(a, 2)}).")
    if not proposed:
        return (f"{verdict} The renewal regression on the measures gave no usable weights"
                + (f" ({tf.md_escape(reg['error'])})" if reg.get("error") else "")
                + "; revisit them with more renewal history.")
    total = sum(w for w in weights.values() if w and w > 0)
    changes = sorted(proposed, key=lambda m: abs(proposed[m] - weights.get(m, 0) / total),
                     reverse=True)
    parts = "; ".join(f"{tf.md_escape(measure_label(m).lower()) if m != 'nps' else 'NPS'} "
                      f"{tf.pct(weights.get(m, 0) / total, 0)} to {tf.pct(proposed[m], 0)}"
                      for m in changes[:3])
    prop = (cv or {}).get("auc_proposed", {}).get("auc")
    cur = (cv or {}).get("auc_current", {}).get("auc")
    known = not (tf.is_missing(prop) or tf.is_missing(cur))
    gain = f" (AUC {cur:.2f} to {prop:.2f} on decisions not used to fit)" if known else ""
    if predicts(auc, min_auc):
        return (f"{verdict} The driver regression on the same measures would move most "
                f"weight as follows: {parts}{gain}. Consider it at the next scorecard "
                "revision.")
    if known and prop - cur < min_gain:
        return (f"{verdict} Reweighting alone would not fix it: the regression's weights "
                f"({parts}) reach AUC {prop:.2f} on decisions not used to fit, against "
                f"{cur:.2f} now. The scorecard needs measures closer to what drives renewal "
                "(the renewal drivers section), beside the weight shift.")
    return (f"{verdict} We propose the regression's weights: {parts}{gain}; set them in "
            "health.weights and rerun the backtest.")
