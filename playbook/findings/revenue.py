"""Exhibits and sentences of the revenue-leakage and churn-reason section.

Titles are action titles chosen by rules from the figures (see each function); they never
contain "nan": a missing figure changes the wording instead.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec


def period_text(summary: dict) -> str:
    start = pd.Timestamp(summary["start_month"]).strftime("%b %Y")
    end = pd.Timestamp(summary["end_month"]).strftime("%b %Y")
    return start if start == end else f"{start} to {end}"


def period_span(summary: dict) -> str:
    """The bridge's months for a title: "Jul to Sep 2026" within a year, else as
    :func:`period_text` ("Nov 2025 to Jan 2026"; one month: "Sep 2026")."""
    start, end = pd.Timestamp(summary["start_month"]), pd.Timestamp(summary["end_month"])
    if start.year == end.year and start.month != end.month:
        return f"{start:%b} to {end:%b %Y}"
    return period_text(summary)


def bridge_title(summary: dict, currency: str) -> str:
    """Action title of the MRR bridge, naming its months (the executive summary quotes it
    beside twelve-month retention figures).

    Rules: negative net MRR churn -> "expansion outgrew losses"; otherwise name the loss
    and how much of start MRR leaked (gross churn)."""
    net, gross = summary.get("net_mrr_churn"), summary.get("gross_mrr_churn")
    lost = tf.money(summary.get("lost_mrr"), currency)
    span = period_span(summary)
    if tf.is_missing(net):
        return f"In {span}, {lost} of MRR was lost to churn and contraction"
    if net < 0:
        return (f"Expansion outgrew losses in {span}: net MRR churn was {tf.pct(net)} "
                f"(negative is good) while {lost} leaked")
    return (f"{lost} of MRR leaked to churn and contraction in {span}, {tf.pct(gross)} of "
            f"starting MRR; net MRR churn was {tf.pct(net)}")


def mrr_bridge(summary: dict, currency: str) -> ExhibitSpec:
    """Waterfall from start to end MRR of the period."""
    steps = pd.Series({
        "Start MRR": summary["start_mrr"],
        "New": summary["new"],
        "Expansion": summary["expansion"],
        "Reactivation": summary["reactivation"],
        "Contraction": -summary["contraction"],
        "Churn": -summary["churn"],
        "End MRR": summary["end_mrr"],
    })
    fig, ax = charts.new_figure(2.7)
    charts.waterfall(steps, ax, symbol=tf.CURRENCY_SYMBOLS.get(currency, ""))
    zoomed = ax.get_ylim()[0] > 0
    return ExhibitSpec(
        fig, bridge_title(summary, currency),
        f"MRR bridge, {currency} per month, {period_text(summary)}",
        "mrr (monthly MRR per account)", n=int(summary.get("start_logos") or 0),
        notes=("The axis starts above zero to show the movements. " if zoomed else "")
        + "n = accounts paying at the "
              "start of the period. Gross MRR churn = (churn + "
              "contraction) / start MRR; net MRR churn also subtracts expansion and "
              "reactivation.")


def retention_trend_title(trend: pd.DataFrame) -> str:
    last = trend.dropna(subset=["grr", "nrr"]).iloc[-1] if len(trend.dropna(
        subset=["grr", "nrr"])) else None
    if last is None:
        return "Twelve months of history are needed for trailing retention"
    first = trend.dropna(subset=["nrr"]).iloc[0]
    direction = "improved" if last["nrr"] > first["nrr"] + 0.01 else (
        "declined" if last["nrr"] < first["nrr"] - 0.01 else "held steady")
    above = "above" if last["nrr"] >= 1 else "below"
    return (f"Net revenue retention {direction} to {tf.pct(last['nrr'])}, {above} the "
            f"100% line; gross retention is {tf.pct(last['grr'])}")


def retention_trend(trend: pd.DataFrame, months: int) -> ExhibitSpec:
    frame = trend[["grr", "nrr"]].rename(columns={"grr": "GRR", "nrr": "NRR"}).dropna()
    fig, ax = charts.new_figure(2.4)
    charts.trend_lines(frame, ax, highlight="NRR", reference=1.0)
    n = int(trend["base_logos"].iloc[-1]) if len(trend) else None
    return ExhibitSpec(
        fig, retention_trend_title(trend),
        f"Trailing {months}-month gross and net revenue retention, % of MRR {months} "
        "months earlier, by month",
        "mrr", n=n,
        notes=f"n = accounts paying {months} months before the last month. GRR caps each "
              "account at its earlier MRR; NRR counts expansion.")


def _whole_cohorts(matrix: pd.DataFrame, sizes: pd.DataFrame) -> pd.DataFrame:
    """The rows of a cohort matrix whose cohort is whole: not ``left_censored`` in ``sizes``
    (the first quarter of the data mixes in customers who started before it)."""
    return matrix.loc[~sizes.reindex(matrix.index)["left_censored"].fillna(False).astype(bool)]


def _cohort_figure(usable: pd.DataFrame, sizes: pd.DataFrame, *, above_one: bool) -> Figure:
    """Heatmap of every third month since start (at most 12 columns) of the whole cohorts,
    with their sizes; ``above_one``: the colour scale reaches the largest value when it is
    above 100% (revenue retention can be), else it ends at 100%."""
    cols = [c for c in usable.columns if c % 3 == 0][:12]
    matrix = usable[cols].copy()
    matrix.index = [str(i) for i in matrix.index]
    fig, ax = charts.new_figure(0.26 * len(matrix) + 0.9)
    vmax = max(1.0, float(matrix.max().max())) if above_one else 1.0
    charts.cohort_heatmap(matrix, ax, sizes=sizes["accounts"].rename(index=lambda i: str(i)),
                          vmax=vmax)
    return fig


def cohort_title(logo: pd.DataFrame, sizes: pd.DataFrame) -> str:
    col = 12 if 12 in logo.columns else (logo.columns[-1] if len(logo.columns) else None)
    usable = _whole_cohorts(logo, sizes)
    if col is None or usable[col].dropna().empty:
        return "Cohorts are too young to compare retention after a year"
    values = usable[col].dropna()
    low, high = tf.pct(values.min(), 0), tf.pct(values.max(), 0)
    share = f"Between {low} and {high}" if low != high else low  # equal ends: one figure
    return f"{share} of each quarter's new customers are still paying {col} months later"


def revenue_cohort_title(rev: pd.DataFrame, sizes: pd.DataFrame) -> str:
    """Rule: above 100% after a year means expansion outgrew losses in those cohorts."""
    usable = _whole_cohorts(rev, sizes)
    if 12 not in usable.columns or usable[12].dropna().empty:
        return "Cohorts are too young to compare revenue retention after a year"
    values = usable[12].dropna()
    above = int((values >= 1).sum())
    if len(values) == 1:  # one cohort: its figure, not a range or "0 of 1"
        return (f"The one cohort with a year of history kept {tf.pct(values.iloc[0], 0)} of "
                "its starting MRR after 12 months")
    if above == len(values):
        return (f"Every cohort's revenue grew in its first year: {tf.pct(values.min(), 0)} to "
                f"{tf.pct(values.max(), 0)} of starting MRR after 12 months")
    return (f"{above} of {len(values)} cohorts kept at least their starting MRR after 12 "
            f"months; the range is {tf.pct(values.min(), 0)} to {tf.pct(values.max(), 0)}")


def revenue_cohort_heatmap(rev: pd.DataFrame, sizes: pd.DataFrame) -> ExhibitSpec:
    usable = _whole_cohorts(rev, sizes)
    return ExhibitSpec(
        _cohort_figure(usable, sizes, above_one=True), revenue_cohort_title(rev, sizes),
        "Revenue retention by start quarter, cohort MRR as % of its starting MRR, by months "
        "since start", "mrr", n=int(sizes.loc[usable.index, "accounts"].sum()),
        notes="Above 100%: expansion outgrew churn and contraction in that cohort.")


def cohort_heatmap(logo: pd.DataFrame, sizes: pd.DataFrame) -> ExhibitSpec:
    usable = _whole_cohorts(logo, sizes)
    return ExhibitSpec(
        _cohort_figure(usable, sizes, above_one=False), cohort_title(logo, sizes),
        "Logo retention by start quarter, % of the cohort's accounts still paying, by "
        "months since start",
        "mrr", n=int(sizes.loc[usable.index, "accounts"].sum()),
        notes="The first quarter of the data mixes older customers and is left out.")


_COUNT_WORDS = {1: "one", 2: "two", 3: "three"}


def _plural(level: str) -> str:
    """'reason' -> 'reasons', 'reason category' -> 'reason categories'."""
    return level[:-1] + "ies" if level.endswith("y") else level + "s"


def _top_words(k: int, level: str) -> tuple[str, str, str]:
    """The words that name the top ``k`` rows: ("three reasons", "the top three", verb
    suffix "" for a plural, "s" for one)."""
    if k == 1:
        return f"one {level}", f"the top {level}", "s"
    return f"{_COUNT_WORDS[k]} {_plural(level)}", f"the top {_COUNT_WORDS[k]}", ""


def pareto_title(pareto: pd.DataFrame, concentrated_share: float,
                 level: str = "reason") -> str:
    """'Concentrated' only when the top three informative rows exceed the threshold.

    ``level`` is what the rows are: "reason" (one level, the wording of v1) or "reason
    category" when the export gives categories above reasons (the rule then reads the
    categories, and the title says so). Fewer than three informative rows are counted as
    they are ("two reason categories (...) explain ...")."""
    informative = pareto[~pareto["uninformative"]]
    if informative.empty:
        return "No churn reason was recorded: the losses cannot be explained"
    if not pareto["lost_mrr"].fillna(0).sum() > 0:
        top = informative.sort_values("logos", ascending=False).head(3)
        names = ", ".join(str(r) for r in top["reason"])
        _, lead, s = _top_words(len(top), level)
        many = f"{lead} {_plural(level)}" if len(top) > 1 else lead
        return (f"No lost MRR is recorded with the churn events; by logos, {many} "
                f"({names}) account{s} for {tf.pct(top['share_logos'].sum(), 0)}")
    top = informative.head(3)
    share = top["share_lost_mrr"].sum()
    names = ", ".join(str(r) for r in top["reason"])
    counted, lead, s = _top_words(len(top), level)
    if round(share, 2) >= concentrated_share:  # decided on the figure as printed
        return (f"Churn is concentrated: {counted} ({names}) explain{s} {tf.pct(share, 0)} "
                "of lost MRR")
    return (f"Churn is spread across {_plural(level)}: {lead} ({names}) explain{s} only "
            f"{tf.pct(share, 0)} of lost MRR")


def reason_pareto(pareto: pd.DataFrame, currency: str, concentrated_share: float,
                  inside: pd.DataFrame | None = None, top_reasons: int = 3
                  ) -> ExhibitSpec:
    """The churn-reason Pareto: lost MRR (with cumulative share) and logos per reason.

    With ``inside`` (:func:`playbook.analyses.reasons.reasons_within_categories`), the rows
    of ``pareto`` are reason categories: each is followed by its ``top_reasons`` largest
    informative reasons, and the headline reads the categories. Without it, the exhibit is
    the one-level Pareto of v1, unchanged."""
    if inside is not None:
        return _category_pareto(pareto, inside, currency, concentrated_share, top_reasons)
    if not pareto["lost_mrr"].fillna(0).any():  # no lost MRR recorded: no panel of $0 bars
        return _logo_pareto(pareto, concentrated_share)
    import matplotlib.pyplot as plt

    by = pareto.set_index("reason")
    cum = by["cum_share_lost_mrr"]
    labels = pd.Series({r: "" if tf.is_missing(cum[r]) else f"(cum. {tf.pct(cum[r], 0)})"
                        for r in by.index})  # no lost MRR recorded: no share
    charts.apply_house_style()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(7.0, 0.3 * len(by) + 0.9),
                                  gridspec_kw={"width_ratios": [3, 2]}, sharey=False)
    top = pareto[~pareto["uninformative"]].head(3)["reason"].tolist()
    charts.sorted_bars(by["lost_mrr"], ax, highlight=top,
                       symbol=tf.CURRENCY_SYMBOLS.get(currency, ""), annotations=labels)
    order = [t.get_text() for t in ax.get_yticklabels()]
    logos = by["logos"].reindex(order)
    _logo_bars(ax2, logos.to_numpy())
    ax.set_title("Lost MRR", loc="left", fontsize=9)
    _mute_uninformative(ax, by["uninformative"])
    return ExhibitSpec(
        fig, pareto_title(pareto, concentrated_share),
        f"Lost MRR ({currency} per month, with cumulative share) and churned logos by "
        "reason, trailing 12 months",
        "churn_events", n=int(pareto["logos"].sum()),
        notes="Uninformative reasons (blank, Other, Unknown) in grey italics.")


def _mute_uninformative(ax, uninformative: pd.Series) -> None:
    """Uninformative reasons' row labels in grey italics (the accent is for the findings)."""
    for tick in ax.get_yticklabels():
        if uninformative.get(tick.get_text(), False):
            tick.set_color(charts.GREY)
            tick.set_fontstyle("italic")


def _logo_pareto(pareto: pd.DataFrame, concentrated_share: float) -> ExhibitSpec:
    """The Pareto by churned logos alone, for exports that record no lost MRR."""
    by = pareto.set_index("reason")
    informative = pareto[~pareto["uninformative"]]
    top = informative.sort_values("logos", ascending=False).head(3)["reason"].tolist()
    fig, ax = charts.new_figure(0.3 * len(by) + 0.9)
    charts.sorted_bars(by["logos"], ax, highlight=top)
    _mute_uninformative(ax, by["uninformative"])
    return ExhibitSpec(
        fig, pareto_title(pareto, concentrated_share),
        "Churned logos by reason, trailing 12 months (the churn events record no lost MRR)",
        "churn_events", n=int(pareto["logos"].sum()),
        notes="Uninformative reasons (blank, Other, Unknown) in grey italics.")


def _logo_bars(ax2, logos, height: float | list[float] = 0.65) -> None:
    """The right-hand panel of the Pareto: churned logos per row, grey, labelled."""
    ax2.barh(range(len(logos)), logos, color=charts.LIGHT_GREY, height=height)
    for y, v in enumerate(logos):
        ax2.text(v, y, f" {int(v)}", va="center", fontsize=8)
    ax2.set_yticks(range(len(logos)), [""] * len(logos))
    ax2.set_xticks([])
    ax2.spines["bottom"].set_visible(False)
    ax2.tick_params(axis="y", length=0)
    ax2.set_title("Logos", loc="left", fontsize=9)


def category_rows(pareto: pd.DataFrame, inside: pd.DataFrame, top_reasons: int = 3
                  ) -> pd.DataFrame:
    """Rows of the two-level Pareto, top to bottom: each category (Pareto order), then its
    ``top_reasons`` largest informative reasons.

    Columns: ``label``, ``kind`` ("category" or
    "reason"), ``category``, ``lost_mrr``, ``logos``, ``share`` (cumulative share of all
    lost MRR for a category, share of its category's lost MRR for a reason),
    ``uninformative`` and ``top`` (one of the top three informative categories)."""
    tops = set(pareto[~pareto["uninformative"]].head(3)["reason"])
    rank = pd.to_numeric(inside["informative_rank"], errors="coerce")
    shown = inside[rank.le(top_reasons)]
    rows = []
    for cat in pareto.itertuples(index=False):
        rows.append({"label": str(cat.reason), "kind": "category", "category": cat.reason,
                     "lost_mrr": cat.lost_mrr, "logos": cat.logos,
                     "share": cat.cum_share_lost_mrr, "uninformative": bool(cat.uninformative),
                     "top": cat.reason in tops})
        for r in shown[shown["category"] == cat.reason].itertuples(index=False):
            rows.append({"label": str(r.reason), "kind": "reason", "category": cat.reason,
                         "lost_mrr": r.lost_mrr, "logos": r.logos, "share": r.share_lost_mrr,
                         "uninformative": False, "top": False})
    return pd.DataFrame(rows, columns=["label", "kind", "category", "lost_mrr", "logos",
                                       "share", "uninformative", "top"])


def _category_pareto(pareto: pd.DataFrame, inside: pd.DataFrame, currency: str,
                     concentrated_share: float, top_reasons: int) -> ExhibitSpec:
    """Pareto by reason category with the top reasons inside each (two-level exports)."""
    import matplotlib.pyplot as plt

    rows = category_rows(pareto, inside, top_reasons)
    symbol = tf.CURRENCY_SYMBOLS.get(currency, "")
    charts.apply_house_style()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(7.0, 0.3 * len(rows) + 0.9),
                                  gridspec_kw={"width_ratios": [3, 2]}, sharey=False)
    y = range(len(rows))
    is_cat = rows["kind"].eq("category").to_numpy()
    colors = [charts.ACCENT if top else charts.LIGHT_GREY if cat else charts.ACCENT_LIGHT
              for top, cat in zip(rows["top"], is_cat, strict=True)]
    values = rows["lost_mrr"].fillna(0).to_numpy(dtype=float)
    heights = [0.65 if c else 0.45 for c in is_cat]
    ax.barh(y, values, color=colors, height=heights)
    span = values.max() if len(values) and values.max() > 0 else 1.0
    for i, row in rows.iterrows():
        share = ("" if tf.is_missing(row["share"])  # no lost MRR recorded: no share
                 else f"(cum. {tf.pct(row['share'], 0)})" if row["kind"] == "category"
                 else f"({tf.pct(row['share'], 0)} of it)")
        ax.text(values[i] + span * 0.01, i, f"{symbol}{tf.short_amount(values[i], 1)}  "
                f"{share}", va="center", fontsize=8)
    ax.set_yticks(list(y), rows["label"].tolist())
    for tick, cat, bad in zip(ax.get_yticklabels(), is_cat, rows["uninformative"], strict=True):
        tick.set_fontweight("bold" if cat else "normal")
        tick.set_fontsize(9 if cat else 8)
        tick.set_color(charts.GREY if bad or not cat else charts.TEXT)
        tick.set_fontstyle("italic" if bad else "normal")
    ax.spines["bottom"].set_visible(False)
    ax.set_xticks([])
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, span * 1.45)
    ax.set_title("Lost MRR", loc="left", fontsize=9)
    _logo_bars(ax2, rows["logos"].to_numpy(), heights)
    for a in (ax, ax2):
        a.set_ylim(len(rows) - 0.5, -0.5)  # first category on top
    return ExhibitSpec(
        fig, pareto_title(pareto, concentrated_share, level="reason category"),
        f"Lost MRR ({currency} per month, with cumulative share) and churned logos by "
        f"reason category, with the top {top_reasons} reasons inside each, trailing 12 "
        "months",
        "churn_events", n=int(pareto["logos"].sum()),
        notes="Uninformative categories (blank, Other, Unknown) in grey italics. Under each "
              "category (bold), in grey: its largest informative reasons, with their share "
              "of the "
              "category's lost MRR; a reason inside an uninformative category still counts "
              "as a usable reason.")


#: Uninformative labels the capture sentence calls "blank, Other or Unknown" (casefolded).
_USUAL_UNINFORMATIVE = {"(blank)", "other", "unknown"}


def uninformative_examples(by_label: dict | None) -> str:
    """What the uninformative reasons were, for the capture sentence (markdown).

    "blank, Other or Unknown" when those are all there is; otherwise the three largest
    labels as the client wrote them ("such as "Don't know", blank and "N/A""), escaped."""
    labels = [str(label) for label in (by_label or {})]
    if all(label.casefold() in _USUAL_UNINFORMATIVE for label in labels):
        return "blank, Other or Unknown"
    names = ["blank" if label == "(blank)" else f'"{tf.md_escape(label)}"'
             for label in labels[:3]]
    listed = tf.and_list(names)
    return "such as " + listed + (" among others" if len(labels) > 3 else "")


def uninformative_sentence(share: dict, currency: str, threshold: float) -> str:
    """The reason-capture finding: how much churn has no usable reason."""
    if not share.get("events"):
        return "No churn events were recorded in the period."
    text = (f"{tf.pct(share['share_events'], 0)} of churn events "
            f"({share['uninformative_events']:,} of {share['events']:,}) carry no usable "
            f"reason ({uninformative_examples(share.get('by_label'))})")
    hidden = share.get("uninformative_lost_mrr")
    recorded = not tf.is_missing(share.get("lost_mrr")) and share.get("lost_mrr")
    text += (f", hiding {tf.money(hidden, currency)} of lost MRR." if recorded
             and not tf.is_missing(hidden) else ".")
    if not tf.is_missing(share["share_events"]) and share["share_events"] > threshold:
        text += (f" Above {tf.pct(threshold, 0)}, this is a data-capture problem to fix: "
                 "make the reason mandatory and coded at cancellation.")
    return text


def churn_by_variable_title(table: pd.DataFrame, label: str, test: dict) -> str:
    """Rule: 'differs' only when the test is significant; compares the highest and lowest
    rates among groups large enough to judge (the '(missing)' group is never named)."""
    judged = table[~table["too_small"] & (table.index.astype(str) != "(missing)")]
    if len(judged) < 2:
        return f"Too few accounts per {label} to compare churn"
    hi, lo = judged.iloc[0], judged.iloc[-1]
    sig = test.get("significant")
    if sig:
        return (f"Churn differs by {label}: {hi.name} churns at {tf.pct(hi['rate'], 0)} "
                f"against {tf.pct(lo['rate'], 0)} for {lo.name}")
    return (f"Churn does not differ significantly by {label} "
            f"({tf.pct(lo['rate'], 0)} to {tf.pct(hi['rate'], 0)})")


def verdict_test_note(test: dict) -> str:
    """The test behind one variable's verdict, raw and Holm-adjusted: "chi-square test
    p = 0.004; p = 0.032 adjusted for 9 tests (Holm)"."""
    name = {"chi_square": "chi-square", "fisher_exact": "Fisher's exact",
            "fisher_exact_monte_carlo": "Fisher's exact (Monte Carlo)"}.get(
        test.get("test"), "no test")
    text = f"{name} test {tf.p_is(test.get('p_value'))}"
    size = test.get("family_size")
    if size and size > 1 and not tf.is_missing(test.get("p_adjusted")):
        text += (f"; {tf.p_is(test['p_adjusted'])} adjusted for {size} tests (Holm), "
                 "which the verdict reads")
    return text


def basis_note(basis: dict) -> str:
    """Who churn by variable counts, in words (``basis``:
    :func:`playbook.analyses.variables.churn_basis`)."""
    if basis.get("from_mrr", True):
        text = (f"Accounts paying in {tf.month(basis['base_month'])} (the base of the "
                f"{basis['label']}); churned = not paying in {tf.month(basis['end_month'])}")
    else:
        text = (f"No MRR history: accounts active at the end of {tf.month(basis['base_month'])}"
                " by the accounts table's start and churn dates; churned = a churn date by "
                f"the end of {tf.month(basis['end_month'])}")
    text += "; tenure and every band measured at the base date."
    left = int(basis.get("left_out") or 0)
    if left:
        text += (f" {tf.plural(left, 'account')} not yet at {'its' if left == 1 else 'their'}"
                 " first renewal (contract term ending after the window) "
                 f"{'is' if left == 1 else 'are'} left out, so churn here is "
                 f"{tf.pct(basis['overall'])} against {tf.pct(basis['whole_base'])} logo churn "
                 "for the whole base.")
    return text


def basis_source(basis: dict) -> str:
    """The tables churn by variable read: the MRR history gives the base and the outcome;
    without it, the accounts table's dates."""
    return "accounts, mrr" if basis.get("from_mrr", True) else "accounts"


def churn_by_variable(table: pd.DataFrame, label: str, test: dict, basis: dict
                      ) -> ExhibitSpec:
    """One variable's churn rates with intervals against the overall rate of the accounts
    counted (``basis``, :func:`basis_note`)."""
    t = table.reset_index().rename(columns={table.index.name or "index": "group"})
    fig, ax = charts.new_figure(0.28 * len(t) + 0.9)
    charts.rates_with_intervals(t, ax, label_col="group", rate="rate", low="ci_low",
                                high="ci_high", n="n", small="too_small",
                                overall=basis["overall"])
    tested = verdict_test_note(test)
    return ExhibitSpec(
        fig, churn_by_variable_title(table, label, test),
        f"Logo churn rate by {label}, % of accounts, {basis['label']}, with 95% Wilson "
        "intervals", basis_source(basis), n=int(table["n"].sum()),
        notes=f"{basis_note(basis)} {tested[:1].upper()}{tested[1:]}. Groups under the "
              "small-group threshold are hollow: too small to judge.")


def bridge_sentence(summary: dict, currency: str) -> str:
    """What the bridge means, in words (negative net churn is called good)."""
    net = summary.get("net_mrr_churn")
    text = (f"MRR moved from {tf.money(summary['start_mrr'], currency)} to "
            f"{tf.money(summary['end_mrr'], currency)} over {period_text(summary)}. "
            f"New business added {tf.money(summary['new'], currency)} and existing customers "
            f"{tf.money(summary['expansion'] + summary['reactivation'], currency)} "
            "(expansion and reactivation), against "
            f"{tf.money(summary['lost_mrr'], currency)} lost to churn and contraction. ")
    if tf.is_missing(net):
        return text
    if net < 0:
        text += (f"Net MRR churn of {tf.pct(net)} is negative, which is good: the existing "
                 "base grew on its own.")
    else:
        text += (f"Net MRR churn of {tf.pct(net)} is positive: without new sales the base "
                 "would shrink.")
    return text


def trailing_sentence(year: dict, trend: pd.DataFrame, currency: str) -> str:
    last = trend.dropna(subset=["grr", "nrr"])
    if last.empty:
        return "Trailing retention needs a full year of MRR history."
    row = last.iloc[-1]
    return (f"Of every 100 of MRR paying a year ago, {row['grr'] * 100:.0f} is still paying "
            f"without counting expansion (GRR) and {row['nrr'] * 100:.0f} with it (NRR). "
            f"Over the last twelve months logo churn ran at "
            f"{tf.pct(year.get('logo_churn_monthly'))} a month, "
            f"{tf.pct(year.get('logo_churn_annualised'), 0)} annualised, and the quick ratio "
            f"(gains / losses) was {tf.number(year.get('quick_ratio'), 1)}.")


def renewal_churn_sentence(due: dict, currency: str) -> str:
    if not due.get("renewals"):
        return "No renewals fell due in the period, so churn on renewals due cannot be measured."
    text = (f"{due['renewals']:,} contracts worth {tf.money(due['arr_up'], currency)} of ARR "
            f"came up for renewal in the period; {tf.pct(due['renewal_churn_rate'])} of that "
            f"ARR churned ({due['churned']:,} contracts)")
    if not tf.is_missing(due.get("downgrade_rate")):
        text += f" and {tf.pct(due['downgrade_rate'])} was lost to downgrades"
    return text + (". For annual contracts this is the churn rate that matters: calendar "
                   "churn spreads the same losses over months when no decision was due.")


def mapping_sentence(counts: dict) -> str:
    """How the free-text keyword rules changed the reason data."""
    mapped = counts.get("mapped_from_text", counts.get("mapped", 0))
    still = counts.get("still_unknown", counts.get("unmapped", 0))
    return (f"Keyword rules on the free-text reason recovered a reason for {mapped:,} of the "
            f"uninformative churn events; {still:,} stay unknown. The chart below uses the "
            "recovered reasons.")


def segment_reasons_title(table: pd.DataFrame) -> str:
    """Rule: name the leading informative reason of each segment large enough to judge,
    grouping segments that share it; 'top reason in every segment' when there is one.

    Uninformative reasons are those flagged in the table's ``uninformative`` column
    (``churn.uninformative_reasons``); a table without it falls back to blank, Other and
    Unknown."""
    if "uninformative" in table:
        said_nothing = table["uninformative"].astype(bool)
    else:
        said_nothing = table["reason"].astype(str).str.casefold().isin(_USUAL_UNINFORMATIVE)
    informative = table[~said_nothing & ~table["too_small"].astype(bool)]
    if informative.empty:
        return "Too few churned accounts per segment to compare reasons"
    has_mrr = "lost_mrr" in table and table["lost_mrr"].fillna(0).sum() > 0
    key = "share_lost_mrr" if has_mrr or "share_logos" not in table else "share_logos"
    top = informative.sort_values(key, ascending=False).groupby(
        "segment", observed=True).head(1)
    leads = top.groupby("reason", sort=False)["segment"].apply(list)
    if len(leads) == 1:
        judged, total = top["segment"].nunique(), table["segment"].nunique()
        if judged < total:
            return (f"{leads.index[0]} is the top reason in every segment large enough to "
                    f"judge ({judged} of {total})")
        return f"{leads.index[0]} is the top reason in every segment"
    parts = [f"{reason.lower()} in {' and '.join(map(str, segs))}"
             for reason, segs in leads.items()]
    return "The leading reason differs by segment: " + "; ".join(parts)


def reasons_by_segment(table: pd.DataFrame) -> ExhibitSpec:
    by_mrr = table["lost_mrr"].fillna(0).sum() > 0
    value = "share_lost_mrr" if by_mrr else "share_logos"
    matrix = table.pivot_table(index="reason", columns="segment", values=value,
                               aggfunc="sum", observed=True).fillna(0)
    matrix = matrix.loc[matrix.sum(axis=1).sort_values(ascending=False).index]
    fig, ax = charts.new_figure(0.28 * len(matrix) + 1.0)
    sizes = table.drop_duplicates("segment").set_index("segment")
    charts.share_heatmap(  # segments too small to judge in greys, never the accent
        matrix, ax, muted=[c for c in matrix.columns if sizes.loc[c, "too_small"]],
        column_labels=[f"{c}\n(n={int(sizes.loc[c, 'segment_logos'])}"
                       f"{', too small' if sizes.loc[c, 'too_small'] else ''})"
                       for c in matrix.columns])
    return ExhibitSpec(
        fig, segment_reasons_title(table),
        "Share of each segment's "
        + ("lost MRR" if by_mrr else "churned logos (no lost MRR recorded)")
        + " by churn reason, trailing 12 months",
        "churn_events, accounts", n=int(table.drop_duplicates("segment")["segment_logos"].sum()),
        notes="n = churned logos per segment; segments under the small-group threshold are "
              "marked too small to judge and shaded grey.")


def no_health_for_surprises_sentence(measures: list[str]) -> str:
    """Said instead of the surprise non-renewals when the health score rests on fewer than
    two measures: whether a customer "looked healthy" cannot be judged."""
    held = (f"only {measures[0].replace('_', ' ')}" if len(measures) == 1 else
            "no health measure")
    return (f"Not shown: whether customers left while looking healthy needs a health score of "
            f"at least two measures, and the data supply {held}. Usage, survey answers or the "
            "CSMs' relationship ratings would enable it.")


def surprises_title(summary: dict, currency: str) -> str:
    n, scored = summary["surprises"], summary["scored_churns"]
    if not scored:
        return "No scored non-renewals to check for surprises"
    if n == 0:
        return "No customer left while looking healthy: every loss showed warning signs first"
    accounts = summary.get("accounts", n)
    who = "" if accounts == n else f" ({tf.plural(accounts, 'customer')})"
    text = f"{n:,} of {scored:,} non-renewals{who} looked healthy 90 days before"
    if tf.is_missing(summary.get("lost_mrr")):  # no lost MRR recorded: say what is known
        return text
    return f"{text}, {tf.money(summary['lost_mrr'], currency)} of MRR lost without warning"


def surprises(table: pd.DataFrame, accounts: pd.DataFrame, summary: dict, currency: str,
              top: int = 12) -> ExhibitSpec:
    names = accounts.set_index("account_id")[["name", "segment", "owner"]]
    shown = table.head(top).join(names, on="account_id")
    frame = pd.DataFrame({
        "account": shown["name"].fillna(shown["account_id"]),
        "segment": shown["segment"],
        "owner": shown["owner"],
        "left on": shown["decision_date"].map(tf.date),
        "health at cut-off": shown["health_score"],
        f"lost MRR ({currency})": shown["lost_mrr"],
    })
    more = len(table) - len(shown)
    return ExhibitSpec(
        frame, surprises_title(summary, currency),
        "Non-renewals of the trailing 12 months whose health band was green at the cut-off "
        "(90 days before)", "renewals, churn_events, health score", n=summary["scored_churns"],
        n_of="non-renewals scored",
        notes=(f"{more:,} more not shown. " if more > 0 else "")
        + "A surprise is a process gap: the signals the team watches did not see it coming.",
        formats={"health at cut-off": "{:.0f}", f"lost MRR ({currency})": "{:,.0f}"})


def variables_summary(cuts: dict) -> tuple[pd.DataFrame, str]:
    """One row per variable: highest and lowest judged group, raw and Holm-adjusted
    p-values, verdict.

    ``cuts`` maps a variable's label to ``{"table": churn_by_variable(...), "test":
    ...}`` with the tests of :func:`playbook.analyses.reasons.correct_for_multiple_tests`
    (tables indexed by group). The verdict and the title read the adjusted p-value
    (``significant``). Returns the table and its action title.
    """
    rows = []
    for label, cut in cuts.items():
        t = cut["table"]
        judged = t[~t["too_small"] & (t.index.astype(str) != "(missing)")]
        test = cut["test"]
        hi = judged.iloc[0] if len(judged) else None
        lo = judged.iloc[-1] if len(judged) >= 2 else None  # a lone group is not both
        rows.append({
            "variable": label,
            "groups": len(t),
            "highest": f"{hi.name} ({hi['rate']:.0%})" if hi is not None else "–",
            "lowest": f"{lo.name} ({lo['rate']:.0%})" if lo is not None else "–",
            "p raw": tf.pvalue(test.get("p_value")),
            "p Holm": tf.pvalue(test.get("p_adjusted", test.get("p_value"))),
            "verdict": "differs" if test.get("significant") else "no significant difference",
        })
    table = pd.DataFrame(rows)
    differs = table.loc[table["verdict"] == "differs", "variable"].tolist() if rows else []
    if not differs:
        title = "Churn does not differ significantly by any variable of the business"
    else:
        title = (f"Churn differs significantly by {len(differs)} of {len(table)} variables: "
                 + ", ".join(differs))
    return table, title


def cuts_record(cuts: dict) -> dict:
    """Churn by variable for results.json: each group's row carries its label (``group``)
    beside n, churned, rate and interval, and the association test with its raw
    (``p_value``) and Holm-adjusted (``p_adjusted``) p-values."""
    return {label: {"table": cut["table"].rename_axis("group").reset_index(),
                    "test": cut["test"]} for label, cut in cuts.items()}


def variables_table(cuts: dict, basis: dict) -> ExhibitSpec:
    """The churn-by-variable overview: one row per variable, verdicts after Holm's
    correction across the family of tests (``basis``: :func:`basis_note`)."""
    table, title = variables_summary(cuts)
    n = int(next(iter(cuts.values()))["table"]["n"].sum()) if cuts else 0
    size = max((cut["test"].get("family_size") or 0 for cut in cuts.values()), default=0)
    charts_follow = (" Charts follow for the variables that differ."
                     if len(table) and (table["verdict"] == "differs").any() else "")
    return ExhibitSpec(
        table, title,
        f"Logo churn by variable of the business, {basis['label']}: highest and lowest group "
        "among those large enough to judge, and the test of any difference",
        basis_source(basis), n=n,
        notes=f"{basis_note(basis)} Chi-square test, or Fisher's exact test where counts are "
              f"small; p-values adjusted for {tf.plural(size, 'test')} (Holm); 'differs' where "
              f"the adjusted p is below 0.05.{charts_follow}")


def strongest_differences(cuts: dict) -> list[tuple[str, dict]]:
    """The variables whose churn differs significantly (after the family's correction),
    strongest association first (Cramér's V), so the report can chart the top ones and keep
    the rest as detail."""
    significant = [(label, cut) for label, cut in cuts.items()
                   if cut["test"].get("significant")]
    return sorted(significant, key=lambda item: -(item[1]["test"].get("cramers_v") or 0))
