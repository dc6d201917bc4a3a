"""How many people it takes, and what churn costs: the touch model, headcount, owner
coverage and compounding revenue paths.

Pure functions (no I/O, printing or plotting). ``touch_model`` is the ``touch_model:``
section of ``playbook/defaults.yaml`` as a plain dict::

    {"tiers": {"high": {"accounts_per_csm": [20, 30], "role": "enterprise CSM",
                        "touches": {"monthly_call": 12, "qbr": 4, "onsite": 1}}, ...},
     "hours_per_touch": {"monthly_call": 1.0, ...},        # contact hours per account
     "prep_hours_per_touch": {"monthly_call": 0.5, ...},   # optional, 0 when not listed
     "travel_hours_per_touch": {"onsite": 6.0},            # optional, 0 when not listed
     "program_hours_per_touch": {"webinar": 12.0, ...},    # one-to-many touches, per tier
     "csm_hours_per_year": 1600,
     "account_admin_hours_per_year": {"high": 20, "medium": 4, "low": 0.5},
     "loaded_cost_per_csm": 120000,
     "loaded_cost_per_role": {"enterprise CSM": 150000, ...}}   # optional

Touch hours
    A *per-account* touch (one listed in ``hours_per_touch``) costs ``count x (contact +
    preparation + travel)`` hours for every account of the tier. A *one-to-many* touch (one
    listed in ``program_hours_per_touch``: webinars, campaigns, newsletters) costs ``count x
    program hours`` once for the whole tier (when the tier has any account), whatever its
    size. A touch may be both (e.g. a webinar with 0 hours per account and 12 per session).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from playbook.analyses.account_state import account_mrr
from playbook.analyses.scenarios import check_compounding, mrr_path
from playbook.errors import ParamsError

TouchModel = Mapping[str, object]


# --------------------------------------------------------------------------- touch plan
def _ratio_range(spec: Mapping[str, object]) -> tuple[float, float]:
    """(low, high) accounts per CSM; a single number means low == high; 0 means pooled."""
    r = spec.get("accounts_per_csm", 0)
    if isinstance(r, Sequence) and not isinstance(r, str):
        if len(r) != 2:
            raise ParamsError(f"accounts_per_csm must be [low, high]; got {r}.",
                              fix="Write e.g. accounts_per_csm: [20, 30].")
        low, high = float(r[0]), float(r[1])
    else:
        low = high = float(r)  # type: ignore[arg-type]
    return min(low, high), max(low, high)


def _hours(touch_model: TouchModel, key: str) -> Mapping[str, float]:
    return touch_model.get(key) or {}  # type: ignore[return-value]


def touch_plan(touch_model: TouchModel) -> pd.DataFrame:
    """The touch plan, one row per tier and touch, with the hours each touch takes.

    ``hours_per_account = count x (contact + prep + travel)`` for per-account touches (0 for
    one-to-many ones); ``program_hours = count x program_hours_per_touch`` for one-to-many
    touches (0 otherwise), counted once per tier. A touch with count 0 (or null) is left
    out: that is how a client's params drop a touch of the shared defaults.

    Returns
    -------
    DataFrame with columns ``tier``, ``touch``, ``count`` (per account per year for
    per-account touches, per year for one-to-many ones), ``contact_hours``, ``prep_hours``,
    ``travel_hours`` (each per touch), ``one_to_many`` (bool), ``hours_per_account``
    (per year), ``program_hours`` (per year, whole tier).

    Raises
    ------
    ParamsError
        A touch with neither ``hours_per_touch`` nor ``program_hours_per_touch``.
    """
    contact = _hours(touch_model, "hours_per_touch")
    prep = _hours(touch_model, "prep_hours_per_touch")
    travel = _hours(touch_model, "travel_hours_per_touch")
    program = _hours(touch_model, "program_hours_per_touch")
    rows = []
    for tier, spec in touch_model["tiers"].items():  # type: ignore[union-attr]
        for touch, count in (spec.get("touches") or {}).items():
            if not count:  # 0 (or null) drops a touch, e.g. a default a client does not run
                continue
            if touch not in contact and touch not in program:
                raise ParamsError(
                    f"Touch '{touch}' of tier '{tier}' has no hours.",
                    fix=f"Add touch_model.hours_per_touch.{touch} (contact hours per account "
                    f"touched) or touch_model.program_hours_per_touch.{touch} (hours per "
                    "occurrence of a one-to-many touch such as a webinar).")
            c, pr, tr = (float(contact.get(touch, 0.0)), float(prep.get(touch, 0.0)),
                         float(travel.get(touch, 0.0)))
            per_account = touch in contact
            rows.append({
                "tier": tier, "touch": touch, "count": float(count),
                "contact_hours": c, "prep_hours": pr, "travel_hours": tr,
                "one_to_many": touch in program,
                "hours_per_account": float(count) * (c + pr + tr) if per_account else 0.0,
                "program_hours": float(count) * float(program.get(touch, 0.0)),
            })
    cols = ["tier", "touch", "count", "contact_hours", "prep_hours", "travel_hours",
            "one_to_many", "hours_per_account", "program_hours"]
    return pd.DataFrame(rows, columns=cols)


def touch_hours_per_account(tier: str, touch_model: TouchModel) -> float:
    """Yearly touch hours per account of a tier: ``sum(count x (contact + prep + travel))``
    over its per-account touches (admin hours not included)."""
    plan = touch_plan(touch_model)
    return float(plan.loc[plan["tier"] == tier, "hours_per_account"].sum())


def _plan_text(rows: pd.DataFrame) -> str:
    """``monthly_call 12x1.5h + qbr 4x6h`` (hours per touch incl. prep and travel)."""
    parts = []
    for r in rows.itertuples():
        if r.one_to_many:
            per = r.program_hours / r.count if r.count else 0.0
            parts.append(f"{r.touch} {r.count:g}x{per:g}h pooled")
        else:
            parts.append(f"{r.touch} {r.count:g}x"
                         f"{r.contact_hours + r.prep_hours + r.travel_hours:g}h")
    return " + ".join(parts)


def tier_effort(touch_model: TouchModel) -> pd.DataFrame:
    """Per tier: the hours and cost parameters the headcount follows from.

    Returns
    -------
    DataFrame indexed by tier (model order): ``role``, ``accounts_per_csm_low``,
    ``accounts_per_csm_high``, ``pooled``, ``touches`` (plan as text), ``contact_hours``,
    ``prep_hours``, ``travel_hours`` (per account per year, summed over touches),
    ``touch_hours_per_account`` (their sum), ``admin_hours_per_account``,
    ``hours_per_account`` (touch + admin), ``program_hours`` (one-to-many, whole tier a
    year), ``implied_accounts_per_csm`` (= ``csm_hours_per_year / hours_per_account``, NaN
    when an account takes no hours), ``loaded_cost`` (``loaded_cost_per_role[role]``, else
    ``loaded_cost_per_csm``).
    """
    plan = touch_plan(touch_model)
    csm_hours = float(touch_model["csm_hours_per_year"])  # type: ignore[arg-type]
    default_cost = float(touch_model["loaded_cost_per_csm"])  # type: ignore[arg-type]
    costs = _hours(touch_model, "loaded_cost_per_role")
    admin = _hours(touch_model, "account_admin_hours_per_year")
    rows = {}
    for tier, spec in touch_model["tiers"].items():  # type: ignore[union-attr]
        low, high = _ratio_range(spec)
        t = plan[plan["tier"] == tier]
        per_acc = t[~t["one_to_many"] | (t["hours_per_account"] > 0)]
        split = {k: float((per_acc["count"] * per_acc[f"{k}_hours"]).sum())
                 for k in ("contact", "prep", "travel")}
        touch_h = float(t["hours_per_account"].sum())
        admin_h = float(admin.get(tier, 0.0))
        role = str(spec.get("role") or "CSM")
        rows[tier] = {
            "role": role, "accounts_per_csm_low": low, "accounts_per_csm_high": high,
            "pooled": high == 0, "touches": _plan_text(t),
            "contact_hours": split["contact"], "prep_hours": split["prep"],
            "travel_hours": split["travel"], "touch_hours_per_account": touch_h,
            "admin_hours_per_account": admin_h, "hours_per_account": touch_h + admin_h,
            "program_hours": float(t["program_hours"].sum()),
            "implied_accounts_per_csm": (csm_hours / (touch_h + admin_h)
                                         if touch_h + admin_h > 0 else np.nan),
            "loaded_cost": float(costs.get(role, default_cost)),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "tier"
    return out


# --------------------------------------------------------------------------- headcount
def required_headcount(
    tier_counts: Mapping[str, float], touch_model: TouchModel
) -> pd.DataFrame:
    """CSM headcount and cost per tier, by ratio and by effort, with the inputs echoed.

    By ratio
        ``fte_by_ratio_max = accounts / accounts_per_csm_low`` (fewest accounts per CSM,
        most people) and ``fte_by_ratio_min = accounts / accounts_per_csm_high``. A tier
        whose ratio is 0 (``[0, 0]``) is *pooled*: no assigned manager, 0 FTE.
    By effort
        ``hours_per_account = touch_hours + admin_hours`` where ``touch_hours = sum over the
        tier's per-account touches of count x (contact + prep + travel)`` and
        ``admin_hours = account_admin_hours_per_year[tier]``; ``total_hours = accounts x
        hours_per_account + program_hours`` (one-to-many touches, only when the tier has
        accounts); ``fte_by_effort = total_hours / csm_hours_per_year``.
        Example: 60 high-touch accounts x (12 x 1.5 + 4 x 6 + 1 x 16 + 20) h / 1600 h =
        2.925 FTE.
    Why the two differ
        ``implied_accounts_per_csm = csm_hours_per_year / hours_per_account`` is the ratio
        the touches imply; ``effort_vs_ratio`` says where it falls against the ratio range:
        ``"inside"``, ``"fewer"`` (the touches take more time than the ratio assumes, so
        effort needs more people), ``"more"`` (the ratio leaves slack) or ``"pooled"``.
    Cost
        ``cost_* = fte_* x loaded_cost`` (money per year), ``loaded_cost`` from
        ``loaded_cost_per_role[role]``, else ``loaded_cost_per_csm``.

    Parameters
    ----------
    tier_counts : mapping
        Tier -> number of accounts (e.g. ``value_tiers(...).value_counts()``; fractions are
        allowed for projections). Every tier must be in ``touch_model["tiers"]``; model
        tiers not counted get 0 accounts.
    touch_model : mapping
        The ``touch_model`` params section, as in ``defaults.yaml``.

    Returns
    -------
    DataFrame indexed by tier (model order) plus a ``total`` row: ``accounts``, the columns
    of :func:`tier_effort`, ``fte_by_ratio_min``, ``fte_by_ratio_max``, ``total_hours``,
    ``csm_hours_per_year``, ``fte_by_effort``, ``effort_vs_ratio``, ``loaded_cost_per_csm``,
    ``cost_by_ratio_min``, ``cost_by_ratio_max``, ``cost_by_effort``.
    """
    model_tiers: Mapping[str, Mapping[str, object]] = touch_model["tiers"]  # type: ignore
    unknown = sorted(set(tier_counts) - set(model_tiers), key=str)
    if unknown:
        raise ParamsError(
            f"Tier(s) {', '.join(map(str, unknown))} have no touch model.",
            fix="Add them under touch_model.tiers, or rename the value tiers to match.",
        )
    csm_hours = float(touch_model["csm_hours_per_year"])  # type: ignore[arg-type]
    out = tier_effort(touch_model)
    n = pd.Series({t: float(tier_counts.get(t, 0)) for t in out.index})
    out.insert(0, "accounts", n)
    high, low = out["accounts_per_csm_high"], out["accounts_per_csm_low"]
    out["fte_by_ratio_min"] = (n / high.where(high > 0)).fillna(0.0)
    out["fte_by_ratio_max"] = (n / low.where(low > 0)).fillna(out["fte_by_ratio_min"])
    out["total_hours"] = n * out["hours_per_account"] + out["program_hours"].where(n > 0, 0.0)
    out["csm_hours_per_year"] = csm_hours
    out["fte_by_effort"] = out["total_hours"] / csm_hours
    out["effort_vs_ratio"] = [
        "pooled" if pooled else "inside" if lo <= imp <= hi or pd.isna(imp)
        else "fewer" if imp < lo else "more"
        for pooled, imp, lo, hi in zip(out["pooled"], out["implied_accounts_per_csm"], low,
                                       high, strict=True)]
    out["loaded_cost_per_csm"] = float(touch_model["loaded_cost_per_csm"])  # type: ignore
    for k in ("ratio_min", "ratio_max", "effort"):
        out[f"cost_by_{k}"] = out[f"fte_by_{k}"] * out["loaded_cost"]
    sums = ["accounts", "total_hours", "program_hours", "fte_by_ratio_min", "fte_by_ratio_max",
            "fte_by_effort", "cost_by_ratio_min", "cost_by_ratio_max", "cost_by_effort"]
    total: dict[str, object] = {c: out[c].sum() for c in sums}
    total.update(csm_hours_per_year=csm_hours, pooled=False, role="", touches="",
                 effort_vs_ratio="",
                 loaded_cost_per_csm=float(touch_model["loaded_cost_per_csm"]))  # type: ignore
    out.loc["total"] = pd.Series(total)
    if (out["accounts"] == out["accounts"].round()).all():
        out["accounts"] = out["accounts"].astype(int)
    return out.astype({"pooled": bool})


def headcount_sensitivity(
    tier_counts: Mapping[str, float],
    touch_model: TouchModel,
    *,
    account_growth: float,
    years: int,
    top_tier_shifts: Sequence[float],
) -> pd.DataFrame:
    """Headcount (by effort) and cost as the account count grows and the tier mix shifts.

    Year ``y`` has ``N_y = N x (1 + account_growth)^y`` accounts (fractions kept). A shift
    ``s`` moves the top tier's share of accounts from ``p_1`` to ``p_1 + s`` (clipped to
    0-1) and scales every other tier's share by ``(1 - p_1 - s) / (1 - p_1)``, so the mix
    of the other tiers is unchanged. Each cell is :func:`required_headcount` of the
    projected counts. Example: 100 accounts 10/30/60, shift +0.05, growth 20%, year 1:
    120 x 0.15 = 18 high, 120 x 0.30 x 0.85/0.90 = 34 medium, 68 low.

    Returns
    -------
    DataFrame with one row per (``year`` 0..years, ``shift`` 0 then the given shifts):
    ``accounts``, ``top_tier_accounts``, ``fte_by_effort``, ``cost_by_effort``,
    ``fte_by_ratio_min``, ``fte_by_ratio_max``.
    """
    tiers = list(touch_model["tiers"])  # type: ignore[arg-type]
    counts = pd.Series({t: float(tier_counts.get(t, 0)) for t in tiers})
    total = float(counts.sum())
    shares = counts / total if total else counts
    top = tiers[0]
    rows = []
    for shift in [0.0, *[float(s) for s in top_tier_shifts if s != 0]]:
        p1 = float(np.clip(shares[top] + shift, 0.0, 1.0))
        rest = shares.drop(top)
        scale = (1 - p1) / rest.sum() if rest.sum() else 0.0
        mix = pd.concat([pd.Series({top: p1}), rest * scale])
        for year in range(years + 1):
            n_y = total * (1 + account_growth) ** year
            req = required_headcount((mix * n_y).to_dict(), touch_model).loc["total"]
            rows.append({"year": year, "shift": shift, "accounts": n_y,
                         "top_tier_accounts": p1 * n_y,
                         **{k: float(req[k]) for k in ("fte_by_effort", "cost_by_effort",
                                                       "fte_by_ratio_min",
                                                       "fte_by_ratio_max")}})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- evidence
def has_owners(accounts: pd.DataFrame) -> bool:
    """True when the canonical ``accounts`` table has an ``owner`` column naming at least one
    owner (blank or whitespace-only text is no owner): today's coverage can be measured."""
    if "owner" not in accounts.columns:
        return False
    names = accounts["owner"].dropna().astype(str).str.strip()
    return bool((names != "").any())


def capacity_evidence(accounts: pd.DataFrame, *, touch_model_from_client: bool
                      ) -> dict[str, bool]:
    """What the coverage and headcount section may rest on.

    ``owners``: the accounts name their owners (:func:`has_owners`), so current coverage
    and the gap to the touch model can be measured; ``touch_model``: the client's own
    params set ``touch_model`` (``touch_model_from_client``, from
    :meth:`playbook.config.Params.set_by_client`), so the headcount a plan needs is the
    client's plan, not the default B2B one; ``sized``: either holds. Without both the
    section sizes nothing: a default touch model on a consumer or self-serve base would
    print CSMs the business never had.
    """
    owners = has_owners(accounts)
    return {"owners": owners, "touch_model": bool(touch_model_from_client),
            "sized": owners or bool(touch_model_from_client)}


# --------------------------------------------------------------------------- coverage
def owner_coverage(
    accounts: pd.DataFrame,
    tiers: pd.Series,
    *,
    touch_model: TouchModel,
    mrr: pd.Series | None = None,
) -> pd.DataFrame:
    """Book of business per owner and whether it fits the touch model's ratio.

    Each owner's *main tier* is the tier holding most of their accounts (ties go to the
    tier listed first in ``touch_model["tiers"]``, i.e. the higher-touch one). Coverage
    compares the owner's number of accounts with that tier's ``accounts_per_csm`` range:
    ``under-covered`` when above the high end (too many accounts for the touch model),
    ``over-covered`` when below the low end (fewer accounts than one CSM can serve),
    ``within`` otherwise, ``pooled`` when the main tier has no assigned manager.
    ``load`` = ``sum over tiers of accounts_t / midpoint ratio_t`` (pooled tiers count 0)
    is the owner's book in CSM-equivalents by ratio: 1.0 is one full CSM.
    ``effort_fte`` = ``sum over tiers of accounts_t x hours_per_account_t /
    csm_hours_per_year``: the same by effort (one-to-many programme hours are not
    allocated to owners).

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts`` (``owner``; MRR from ``mrr`` else ``arr / 12``).
    tiers : Series
        Value tier per ``account_id`` (only these accounts are counted).
    touch_model : mapping
        The ``touch_model`` params section.
    mrr : Series, optional
        MRR per ``account_id`` to use instead of the accounts table's (e.g. the value
        scores' MRR on the as-of date).

    Returns
    -------
    DataFrame indexed by ``owner`` (blank owner -> ``"(unassigned)"``), sorted by
    accounts descending: ``accounts``, ``mrr`` (money/month), ``accounts_<tier>`` per tier,
    ``main_tier``, ``accounts_per_csm_low``, ``accounts_per_csm_high``, ``load``,
    ``effort_fte``, ``coverage``.
    """
    model_tiers: Mapping[str, Mapping[str, object]] = touch_model["tiers"]  # type: ignore
    t = tiers.dropna().astype(object).rename("tier")
    acc = accounts.drop_duplicates("account_id").set_index("account_id")
    df = t.to_frame().join(acc[["owner"]] if "owner" in acc else pd.DataFrame(index=acc.index))
    df["owner"] = df.get("owner", pd.Series(index=df.index, dtype=object))
    df["owner"] = df["owner"].astype(object).where(df["owner"].notna(), "(unassigned)")
    if mrr is not None:
        df["mrr"] = mrr.reindex(df.index).astype(float)
    else:
        df["mrr"] = account_mrr(acc.reset_index()).set_axis(acc.index).reindex(df.index)
    order = list(model_tiers) + sorted(set(df["tier"]) - set(model_tiers), key=str)
    mix = pd.crosstab(df["owner"], df["tier"]).reindex(columns=order, fill_value=0)
    out = pd.DataFrame({"accounts": mix.sum(axis=1),
                        "mrr": df.groupby("owner")["mrr"].sum(min_count=1)})
    for tier in order:
        out[f"accounts_{tier}"] = mix[tier]
    out["main_tier"] = mix.idxmax(axis=1)  # first column wins ties: model order
    ranges = {k: _ratio_range(v) for k, v in model_tiers.items()}
    out["accounts_per_csm_low"] = out["main_tier"].map(lambda k: ranges.get(k, (np.nan,) * 2)[0])
    out["accounts_per_csm_high"] = out["main_tier"].map(lambda k: ranges.get(k, (np.nan,) * 2)[1])
    mid = pd.Series({k: (lo + hi) / 2 for k, (lo, hi) in ranges.items()}).reindex(order)
    out["load"] = (mix / mid.where(mid > 0)).fillna(0.0).sum(axis=1)
    hpa = tier_effort(touch_model)["hours_per_account"].reindex(order).fillna(0.0)
    out["effort_fte"] = (mix * hpa).sum(axis=1) / float(
        touch_model["csm_hours_per_year"])  # type: ignore[arg-type]
    out["coverage"] = [
        _coverage(n, lo, hi)
        for n, lo, hi in zip(out["accounts"], out["accounts_per_csm_low"],
                             out["accounts_per_csm_high"], strict=True)
    ]
    out.index.name = "owner"
    return out.sort_values(["accounts", "mrr"], ascending=False)


def _coverage(n: int, low: float, high: float) -> str:
    if pd.isna(high):
        return "unknown tier"
    if high == 0:
        return "pooled"
    if n > high:
        return "under-covered"
    if n < low:
        return "over-covered"
    return "within"


def current_capacity(coverage: pd.DataFrame, touch_model: TouchModel) -> pd.Series:
    """Current CSM full-time equivalents per tier, from the owners' books.

    Every named owner counts as one FTE, split across tiers in proportion to the hours the
    touch model assigns to their accounts (``accounts_t x hours_per_account_t``), i.e. on
    the assumption that owners spend their time as the model would. An owner whose
    accounts take no hours by the model is split by number of accounts. Unassigned
    accounts add no capacity. Example: an owner with 10 high (78 h) and 100 low (0.5 h)
    accounts gives 780 / 830 = 0.94 FTE to high and 0.06 to low.

    Returns
    -------
    Series indexed by tier (model order), summing to the number of named owners.
    """
    tiers = list(touch_model["tiers"])  # type: ignore[arg-type]
    cov = coverage.drop(index="(unassigned)", errors="ignore")
    mix = pd.DataFrame({t: cov.get(f"accounts_{t}", pd.Series(0, index=cov.index))
                        for t in tiers}, index=cov.index).astype(float)
    hpa = tier_effort(touch_model)["hours_per_account"].reindex(tiers).fillna(0.0)
    hours = mix * hpa
    weights = hours.where(hours.sum(axis=1) > 0, mix, axis=0)
    shares = weights.div(weights.sum(axis=1).where(lambda s: s > 0), axis=0).fillna(0.0)
    return shares.sum().rename("current_fte")


def headcount_gap(required: pd.DataFrame, current: pd.Series) -> pd.DataFrame:
    """Current vs required CSMs and cost per tier, with a ``total`` row.

    ``gap = fte_by_effort - current`` (positive: people missing; negative: more people
    than the touch model needs); ``cost_current = current x loaded_cost`` of the tier's
    role; ``cost_gap = cost_by_effort - cost_current``.

    Returns
    -------
    DataFrame indexed by tier plus ``total``: ``role``, ``accounts``, ``fte_by_ratio_min``,
    ``fte_by_ratio_max``, ``fte_by_effort``, ``current``, ``gap``, ``loaded_cost``,
    ``cost_by_effort``, ``cost_current``, ``cost_gap``.
    """
    tiers = required.drop(index="total")
    out = tiers[["role", "accounts", "fte_by_ratio_min", "fte_by_ratio_max", "fte_by_effort",
                 "loaded_cost", "cost_by_effort"]].copy()
    out["current"] = current.reindex(out.index).fillna(0.0).astype(float)
    out["gap"] = out["fte_by_effort"] - out["current"]
    out["cost_current"] = out["current"] * out["loaded_cost"]
    out["cost_gap"] = out["cost_by_effort"] - out["cost_current"]
    total = out.drop(columns=["role", "loaded_cost"]).sum()
    out.loc["total"] = total
    out.loc["total", "role"] = ""
    return out[["role", "accounts", "fte_by_ratio_min", "fte_by_ratio_max", "fte_by_effort",
                "current", "gap", "loaded_cost", "cost_by_effort", "cost_current",
                "cost_gap"]]


# --------------------------------------------------------------------------- revenue paths
#: domain.md's worked example of what churn compounds to, the reference beside the client's
#: paths (:func:`revenue_paths` keywords): 1,000 customers at 100 a month growing 50% a year,
#: at 0%, 10% and 30% annual churn.
REFERENCE_PATHS: dict[str, Any] = {"customers": 1000, "arpa": 100.0, "growth": 0.5,
                                   "churn_rates": (0.0, 0.1, 0.3)}


def revenue_paths(
    *,
    customers: float,
    arpa: float,
    growth: float,
    churn_rates: Sequence[float],
    years: int,
    compounding: Literal["monthly", "yearly"],
    churn_base: Literal["current", "starting"],
) -> pd.DataFrame:
    """MRR path per month under constant growth and churn rates: what churn compounds to.

    One :func:`playbook.analyses.scenarios.mrr_path` per churn rate, from ``customers x
    arpa`` with all growth as new sales and no price change: ``MRR_t = customers_t x arpa``
    (money per month; ARPA held constant). With annual growth ``g`` and annual churn ``c``
    applied per step:

    * ``compounding="yearly"``: one step a year; MRR is flat within a year and steps at
      months 12, 24, ...;
    * ``compounding="monthly"``: one step a month with nominal rates ``g/12`` and ``c/12``
      (so the no-churn path grows ``(1 + g/12)^12 - 1`` = 63.2% a year for g = 50%).

    and, per step with rates ``g_s``, ``c_s``:

    * ``churn_base="current"`` (multiplicative): churn is a share of the current base,
      including customers won in the step: ``C_{s+1} = C_s (1 + g_s)(1 - c_s)``;
    * ``churn_base="starting"`` (additive): churn is a share of the base at the start of
      the step: ``C_{s+1} = C_s (1 + g_s - c_s)``.

    Worked figures (1,000 customers at 100/month, g = 50%, c = 30%, year 3, vs no churn
    100,000 x 1.5^3 = 337,500 yearly or 100,000 x (1 + 0.5/12)^36 = 434,746 monthly):
    yearly/current 100,000 x (1.5 x 0.7)^3 = 115,763 (-65.7%); yearly/starting
    100,000 x 1.2^3 = 172,800 (-48.8%); monthly/current 100,000 x 1.015625^36 = 174,744
    (-59.8%); monthly/starting 100,000 x (1 + 0.2/12)^36 = 181,313 (-58.3%).
    Every variant leaves MRR about half or less of the no-churn path (the source quotes
    -56%).

    Returns
    -------
    DataFrame indexed by ``month`` (0 .. 12 x years; month 0 is today) with one float
    column per churn rate (column labels are the rates, ``columns.name = "annual_churn"``).
    """
    check_compounding(compounding, churn_base)
    months = pd.Index(np.arange(12 * years + 1), name="month")
    model = dict(years=years, compounding=compounding, churn_base=churn_base)
    paths = {float(c): mrr_path(customers * arpa, {"new_sales": growth, "expansion": 0.0,
                                                   "churn": float(c)}, **model).to_numpy()
             for c in churn_rates}
    out = pd.DataFrame(paths, index=months)
    out.columns.name = "annual_churn"
    return out


def path_gap(paths: pd.DataFrame, year: int) -> pd.DataFrame:
    """MRR at the end of ``year`` per churn rate, and the gap to the no-churn path.

    ``gap = MRR(no churn) - MRR(churn c)`` in money per month and ``gap_share = gap /
    MRR(no churn)`` (0.5 = half the no-churn MRR is gone), at month ``12 x year``.
    ``paths`` must be :func:`revenue_paths` output with a 0.0 churn column.

    Returns
    -------
    DataFrame indexed by ``annual_churn``: ``mrr``, ``no_churn_mrr``, ``gap``, ``gap_share``.
    """
    if 0.0 not in paths.columns:
        raise ParamsError("path_gap needs the no-churn path (a 0.0 churn rate).",
                          fix="Include 0.0 in churn_rates when calling revenue_paths.")
    month = 12 * year
    if month not in paths.index:
        raise ParamsError(f"Year {year} is outside the simulated paths.",
                          fix="Call revenue_paths with more years.")
    row = paths.loc[month]
    base = float(row[0.0])
    out = pd.DataFrame({"mrr": row.astype(float), "no_churn_mrr": base})
    out["gap"] = base - out["mrr"]
    out["gap_share"] = out["gap"] / base if base else np.nan
    out.index.name = "annual_churn"
    return out
