"""The one metrics layer: every retention rate of the report, one definition, one computation.

All headline rates stand on one named basis, the **base** of the trailing window: the
accounts paying (MRR > 0) in the month before the window's first month, followed to the
as-of month. On that basis

* ``grr`` (gross revenue retention) = Σ min(MRR now, MRR then) / Σ MRR then over the base
  (each account capped at its earlier MRR: expansion cannot hide losses);
* ``nrr`` (net revenue retention) = Σ MRR now / Σ MRR then over the base (expansion counts);
* ``gross_revenue_churn`` = 1 − GRR; ``net_revenue_churn`` = 1 − NRR;
  ``expansion_share`` = NRR − GRR (expansion net of nothing: the uncapped part);
* ``logo_churn`` = base accounts not paying in the as-of month / base accounts, over the
  window; ``logo_churn_annualised`` = 1 − (1 − logo_churn)^(12 / months) and
  ``logo_churn_monthly`` = 1 − (1 − logo_churn)^(1 / months) (the same figure at another
  horizon, not a second definition);
* ``new_business_share`` = MRR in the as-of month of accounts outside the base (new logos
  and accounts back after the base month) / base MRR, so that
  base MRR × (NRR + new_business_share) = MRR at the as-of month, to the cent.

An account of the base that left and came back by the as-of month counts as retained with
its MRR then. The window is ``period.trailing_months`` long, shortened to the history
available (its label says so: "trailing 11 months"). Churn on renewals due is a different
metric (:func:`playbook.analyses.revenue.renewal_churn`) and is named so.

:func:`withheld_figures` says which headline figures cannot be printed: a broken invariant
(GRR outside 0-100%, NRR below GRR, logo churn outside 0-100%, an empty base) or a recorded
data contradiction about the ``mrr`` table (the figures' only input).

Pure functions: canonical frames in, frames and dicts out. Money in the client's currency
per month; shares 0-1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from playbook import textfmt as tf
from playbook.errors import InsufficientDataError
from playbook.membership import is_in
from playbook.quality import QualityNote

#: The headline figures :func:`withheld_figures` can withhold, in the words the report uses.
HEADLINE_NAMES = {
    "mrr": "MRR",
    "grr": "gross revenue retention",
    "nrr": "net revenue retention",
    "logo_churn": "logo churn",
}


@dataclass(frozen=True)
class RetentionWindow:
    """The trailing window the headline rates cover.

    ``base_month`` is the month (1st of month) whose paying accounts form the base;
    ``end_month`` the as-of month; ``months`` = months between them (≤ ``requested``, the
    ``period.trailing_months`` asked for, when the history is shorter).
    """

    base_month: pd.Timestamp
    end_month: pd.Timestamp
    months: int
    requested: int

    @property
    def label(self) -> str:
        """"trailing 12 months", "trailing 11 months", "trailing month"."""
        return "trailing month" if self.months == 1 else f"trailing {self.months} months"

    @property
    def shortened(self) -> bool:
        """True when the history is shorter than the window asked for."""
        return self.months < self.requested

    def as_dict(self) -> dict[str, Any]:
        return {"base_month": self.base_month, "end_month": self.end_month,
                "months": self.months, "requested": self.requested, "label": self.label}


def _month(day: Any) -> pd.Timestamp:
    return pd.Timestamp(day).to_period("M").to_timestamp()


def retention_window(mrr: pd.DataFrame, as_of: Any, months: int) -> RetentionWindow:
    """The trailing window of ``months`` months up to the as-of month, shortened to the
    history in ``mrr`` (canonical ``mrr`` table: ``account_id``, ``month``, ``mrr``).

    Raises
    ------
    InsufficientDataError
        When ``mrr`` has no month before the as-of month (a snapshot has no history).
    """
    end = _month(as_of)
    held = mrr.loc[mrr["month"] <= as_of, "month"] if len(mrr) else pd.Series(dtype=object)
    if held.empty:
        raise InsufficientDataError(
            "The MRR table holds no month up to the as-of date, so no retention rate can be "
            "computed.", fix="Send the subscription or invoice history up to the as-of date.")
    first = _month(held.min())
    span = (end.year - first.year) * 12 + end.month - first.month
    if span < 1:
        raise InsufficientDataError(
            f"The MRR table holds one month ({end:%b %Y}): retention needs a month before "
            "it to follow.", fix="Send at least two months of MRR history (ideally 13).")
    covered = min(int(months), span)
    return RetentionWindow(base_month=end - pd.DateOffset(months=covered), end_month=end,
                           months=covered, requested=int(months))


def _mrr_in(mrr: pd.DataFrame, month: pd.Timestamp) -> pd.Series:
    rows = mrr[mrr["month"].dt.to_period("M") == month.to_period("M")]
    return rows.groupby("account_id")["mrr"].sum()


def retention_cohort(mrr: pd.DataFrame, window: RetentionWindow) -> pd.DataFrame:
    """One row per base account (paying in ``window.base_month``), indexed by
    ``account_id``: ``mrr_then`` (MRR in the base month), ``mrr_now`` (in the end month,
    0 when not paying), ``capped`` = min(now, then), ``retained`` (MRR now > 0) and
    ``churned`` (not retained)."""
    then = _mrr_in(mrr, window.base_month)
    then = then[then > 0]
    now = _mrr_in(mrr, window.end_month).reindex(then.index, fill_value=0.0).clip(lower=0)
    out = pd.DataFrame({"mrr_then": then.astype(float), "mrr_now": now.astype(float)})
    out["capped"] = np.minimum(out["mrr_now"], out["mrr_then"])
    out["retained"] = out["mrr_now"] > 0
    out["churned"] = ~out["retained"]
    out.index.name = "account_id"
    return out


def _share(part: float, whole: float) -> float:
    return float(part) / float(whole) if whole else float("nan")


def _rescale(rate: float, months: int, to: int) -> float:
    """A churn share over ``months`` months at a horizon of ``to`` months (compounded)."""
    if rate != rate or months <= 0:
        return float("nan")
    return 1.0 - (1.0 - rate) ** (to / months) if rate <= 1 else float("nan")


def headline_metrics(mrr: pd.DataFrame, window: RetentionWindow) -> dict[str, Any]:
    """The headline retention rates of ``window`` on the base's basis (module docstring).

    Returns a dict: the window's fields (``base_month``, ``end_month``, ``months``,
    ``requested``, ``label``); counts ``base_accounts``, ``retained_accounts``,
    ``churned_accounts``, ``end_accounts`` (all accounts paying in the end month);
    money ``base_mrr``, ``retained_mrr``, ``retained_mrr_capped``, ``new_mrr``, ``end_mrr``;
    shares ``grr``, ``nrr``, ``gross_revenue_churn``, ``net_revenue_churn``,
    ``expansion_share``, ``new_business_share``, ``logo_churn``, ``logo_churn_annualised``,
    ``logo_churn_monthly`` (NaN when the base is empty).
    """
    cohort = retention_cohort(mrr, window)
    end = _mrr_in(mrr, window.end_month)
    end = end[end > 0]
    base_mrr = float(cohort["mrr_then"].sum())
    retained = float(cohort["mrr_now"].sum())
    capped = float(cohort["capped"].sum())
    end_mrr = float(end.sum())
    new_mrr = float(end[~is_in(end.index, cohort.index)].sum())
    grr, nrr = _share(capped, base_mrr), _share(retained, base_mrr)
    churned = int(cohort["churned"].sum())
    logo = _share(churned, len(cohort))
    return {
        **window.as_dict(),
        "base_accounts": int(len(cohort)),
        "retained_accounts": int(cohort["retained"].sum()),
        "churned_accounts": churned,
        "end_accounts": int(len(end)),
        "base_mrr": base_mrr,
        "retained_mrr": retained,
        "retained_mrr_capped": capped,
        "new_mrr": new_mrr,
        "end_mrr": end_mrr,
        "grr": grr,
        "nrr": nrr,
        "gross_revenue_churn": 1.0 - grr,
        "net_revenue_churn": 1.0 - nrr,
        "expansion_share": nrr - grr,
        "new_business_share": _share(new_mrr, base_mrr),
        "logo_churn": logo,
        "logo_churn_annualised": _rescale(logo, window.months, 12),
        "logo_churn_monthly": _rescale(logo, window.months, 1),
    }


def invariant_failures(metrics: Mapping[str, Any]) -> dict[str, str]:
    """Headline figures of ``metrics`` (:func:`headline_metrics`) that break an invariant,
    each with the reason in words: GRR within 0-100%, NRR at or above GRR, logo churn within
    0-100%, a base with MRR."""
    out: dict[str, str] = {}
    base = metrics.get("base_mrr")
    if not base or base != base or base <= 0:
        reason = "no account paid in the base month, so no rate has a denominator"
        return {k: reason for k in ("grr", "nrr", "logo_churn")}
    grr, nrr, logo = (metrics.get(k) for k in ("grr", "nrr", "logo_churn"))
    if grr is None or grr != grr or not 0 <= grr <= 1:
        out["grr"] = f"gross revenue retention computes to {_pct(grr)}, outside 0-100%"
    if nrr is None or nrr != nrr or nrr < 0 or (grr == grr and grr is not None
                                               and nrr < grr - 1e-9):
        out["nrr"] = (f"net revenue retention computes to {_pct(nrr)}, below gross revenue "
                      f"retention ({_pct(grr)})")
    if logo is None or logo != logo or not 0 <= logo <= 1:
        out["logo_churn"] = f"logo churn computes to {_pct(logo)}, outside 0-100%"
    return out


def _pct(value: Any) -> str:
    """A share as the report prints it (−14.8%, with the minus sign), or "nothing"."""
    try:
        float(value)
    except (TypeError, ValueError):
        return "nothing"
    return tf.pct(value, 1, missing="nothing")


def withheld_groups(withheld: Mapping[str, Any], names: Mapping[str, str] = HEADLINE_NAMES
                    ) -> list[tuple[str, str, list[str]]]:
    """The withheld figures of ``withheld`` (figure -> ``reason`` and ``fix``, as
    :func:`withheld_figures` returns or results.json records them) named in words by
    ``names`` and grouped by reason, in ``names``' order: ``(reason, fix, [names])``, one
    entry per reason (its trailing full stop dropped). Figures ``names`` does not name are
    left out."""
    groups: dict[str, tuple[str, list[str]]] = {}
    for key, word in names.items():
        if key not in withheld:
            continue
        entry = withheld[key]
        get = entry.get if isinstance(entry, Mapping) else lambda k, e=entry: getattr(e, k, "")
        reason = str(get("reason") or "").rstrip(".")
        groups.setdefault(reason, (str(get("fix") or ""), []))[1].append(word)
    return [(reason, fix, listed) for reason, (fix, listed) in groups.items()]


def withheld_figures(metrics: Mapping[str, Any], problems: Iterable[QualityNote] = ()
                     ) -> dict[str, dict[str, str]]:
    """The headline figures that must not be printed, each with ``reason`` and ``fix``.

    A figure is withheld when it breaks an invariant (:func:`invariant_failures`) or when a
    recorded data contradiction (a quality note of severity ``problem``) names the ``mrr``
    table, every headline figure's input: MRR itself, GRR, NRR and logo churn then rest on
    contradicted data."""
    out = {k: {"reason": why, "fix": "Check the MRR history for negative or duplicated "
               "amounts and send a corrected export."}
           for k, why in invariant_failures(metrics).items()}
    for note in problems:
        if note.severity != "problem" or "mrr" not in note.tables:
            continue
        said = (note.caveat or note.message).rstrip(".")
        for key in HEADLINE_NAMES:
            out.setdefault(key, {"reason": f"the export contradicts itself: {said}",
                                 "fix": "Ask the client for an export that resolves it (see "
                                 "the data-quality appendix)."})
    return out
