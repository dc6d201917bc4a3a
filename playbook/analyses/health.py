"""How healthy is each account: the health scorecard, relationship flags, and whether the
score predicts renewal.

Pure functions on the canonical frames of :mod:`playbook.contract`; the conventions
(active accounts, account MRR, "on or before ``as_of``", usage depth) are those of
:mod:`playbook.analyses.account_state`. Frames per account are indexed by ``account_id``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from playbook.analyses.account_state import (
    DateLike,
    active_accounts,
    as_timestamp,
    date_column,
    latest_on_or_before,
    number_column,
    usage_snapshot,
)
from playbook.analyses.scoring import check_keys, scale_1_5, weighted_total
from playbook.analyses.stats import wilson_interval
from playbook.errors import ParamsError

HEALTH_MEASURES = (
    "usage",
    "nps",
    "products",
    "tickets",
    "executive_relationship",
    "champion_quality",
)
#: Band names in the order tables list them, worst first (other names follow, sorted).
BAND_ORDER = ("red", "yellow", "green")
EXECUTIVE_SENIORITY = ("c_level", "vp", "director")
USER_ROLES = ("user", "champion")
HIGH_PRIORITIES = ("high", "urgent")

Bands = Mapping[str, float] | Mapping[str, Mapping[str, float]]


# --------------------------------------------------------------------------- measures
def measure_scores(
    accounts: pd.DataFrame,
    *,
    as_of: DateLike,
    usage: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    csm_inputs: pd.DataFrame | None = None,
    usage_trend_weight: float,
    usage_fall_to_zero: float,
    ticket_window_days: int,
    tickets_to_zero: int,
) -> pd.DataFrame:
    """Each health measure on a 0-100 scale (NaN where the data is missing).

    The four options are ``health.measure_options`` (e.g. 0.25, 0.5, 90 and 5).

    ``usage``
        ``(1 - t) * level + t * trend`` with ``t = usage_trend_weight`` (e.g. 0.25).
        ``level = 100 * min(active_users / licensed_seats, 1)`` in the latest usage month on
        or before ``as_of``. ``trend`` = 100 when active users are flat or up versus 3 months
        earlier, falling linearly to 0 at a fall of ``usage_fall_to_zero`` (e.g. 50%); without
        active users, the same rule on key actions. The measure uses what exists: when the
        month 3 months earlier is missing, ``usage = level``; without licensed seats (no
        level), ``usage = trend``.
    ``nps``
        Latest NPS answer (0-10; answers on the same latest date averaged) x 10.
    ``products``
        ``100 * products / max products of any active account``.
    ``tickets``
        High-priority load, inverse: tickets of priority high or urgent opened in the
        ``ticket_window_days`` (e.g. 90) days up to ``as_of``: ``100 * max(0, 1 - n /
        tickets_to_zero)`` (0 tickets -> 100, ``tickets_to_zero`` or more -> 0). When a
        ``tickets`` table is given, an account without tickets scores 100.
    ``executive_relationship``, ``champion_quality``
        Latest ``csm_inputs`` rating (1-5) mapped by ``(v - 1) / 4 * 100``.

    Returns
    -------
    DataFrame indexed by ``account_id`` (accounts active on ``as_of``), one column per
    measure in :data:`HEALTH_MEASURES`.
    """
    as_of = as_timestamp(as_of)
    acc = active_accounts(accounts, as_of)
    out = pd.DataFrame(index=acc.index)
    out["usage"] = _usage_measure(usage, as_of, usage_trend_weight, usage_fall_to_zero)
    nps = latest_on_or_before(surveys, ["nps"], as_of)["nps"]
    out["nps"] = (nps.reindex(out.index).clip(0, 10) * 10.0).astype(float)
    products = number_column(acc, "products")
    top = products.max()
    out["products"] = (100.0 * products / top).clip(0, 100) if top and top > 0 else np.nan
    out["tickets"] = _ticket_measure(tickets, out.index, as_of, ticket_window_days,
                                     tickets_to_zero)
    csm = latest_on_or_before(csm_inputs, ["executive_relationship", "champion_quality"], as_of)
    for c in ("executive_relationship", "champion_quality"):
        out[c] = scale_1_5(csm[c].reindex(out.index))
    return out.astype(float)


def _usage_measure(
    usage: pd.DataFrame | None, as_of: pd.Timestamp, trend_weight: float, fall_to_zero: float
) -> pd.Series:
    snap = usage_snapshot(usage, as_of, trend_months=3)
    level = 100.0 * snap["depth"]
    change = snap["active_change"].where(snap["active_users"].notna(), snap["actions_change"])
    fall = (-change).clip(lower=0.0)
    trend = 100.0 * (1.0 - fall / fall_to_zero).clip(0.0, 1.0)
    blended = (1.0 - trend_weight) * level + trend_weight * trend
    return blended.where(trend.notna(), level).where(level.notna(), trend)


def _ticket_measure(
    tickets: pd.DataFrame | None,
    ids: pd.Index,
    as_of: pd.Timestamp,
    window_days: int,
    to_zero: int,
) -> pd.Series:
    if tickets is None:
        return pd.Series(np.nan, index=ids, dtype=float)
    tickets = tickets.reset_index(drop=True)
    opened = date_column(tickets, "opened_at")
    recent = (opened <= as_of) & (opened > as_of - pd.Timedelta(days=window_days))
    priority = tickets.get("priority", pd.Series("", index=tickets.index)).astype("string")
    high = recent & priority.str.lower().isin(HIGH_PRIORITIES).fillna(False)
    n = tickets.loc[high.to_numpy(dtype=bool)].groupby("account_id").size()
    n = n.reindex(ids).fillna(0).astype(float)
    return 100.0 * (1.0 - n / to_zero).clip(lower=0.0)


# --------------------------------------------------------------------------- bands
def band_of(score: float, bounds: Mapping[str, float]) -> str | None:
    """Band of one score: the first band (by ascending upper bound) with ``score <= bound``.

    Upper bounds are inclusive: with red 50 / yellow 75 / green 100, 50 is red, 50.01 and 51
    are yellow, 75 is yellow, 76 is green. Scores above the highest bound get the highest
    band; NaN gives None.
    """
    if score is None or pd.isna(score):
        return None
    ordered = sorted(bounds.items(), key=lambda kv: kv[1])
    for name, upper in ordered:
        if score <= upper:
            return name
    return ordered[-1][0]


def health_bands(
    scores: pd.Series, bands: Bands, segments: pd.Series | None = None
) -> pd.Series:
    """Band per account, with per-segment bounds when ``bands`` is a dict of dicts.

    ``bands`` is either ``{"red": 50, "yellow": 75, "green": 100}`` (one set for everyone)
    or ``{"default": {...}, "Enterprise": {...}}``: accounts whose ``segments`` value is a
    key use that set, all others ``"default"``. A mix of bounds and per-segment dicts (what
    layered params give when a client file adds ``Enterprise: {...}`` to the shared
    defaults) uses the plain bounds as ``"default"`` unless a ``"default"`` dict is given.
    """
    nested = {k: v for k, v in bands.items() if isinstance(v, Mapping)}
    flat = {k: v for k, v in bands.items() if not isinstance(v, Mapping)}
    if nested and flat:
        bands = {"default": flat, **nested}
    per_segment = bool(nested)
    if per_segment and "default" not in bands:
        raise ParamsError(
            "Per-segment health bands need a 'default' entry.",
            fix="Add health.bands.default: {red: 50, yellow: 75, green: 100}.",
        )
    if not per_segment:
        return scores.map(lambda s: band_of(s, bands)).rename("health_band")
    seg = (segments if segments is not None else pd.Series(index=scores.index, dtype=object))
    seg = seg.reindex(scores.index)
    result = [
        band_of(s, bands[g] if (isinstance(g, str) and g in bands) else bands["default"])
        for s, g in zip(scores, seg, strict=True)
    ]
    return pd.Series(result, index=scores.index, name="health_band", dtype=object)


# --------------------------------------------------------------------------- the scorecard
def health_scores(
    accounts: pd.DataFrame,
    *,
    as_of: DateLike,
    weights: Mapping[str, float],
    bands: Bands,
    usage: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    csm_inputs: pd.DataFrame | None = None,
    **measure_options: float,
) -> pd.DataFrame:
    """Health score (0-100) and band of every account active on ``as_of``, self-explaining.

    Each measure is scored 0-100 by :func:`measure_scores` (only data dated on or before
    ``as_of``). ``contrib_<m> = w_m * score_m / sum(w_j over the measures available for this
    account)``: a missing measure's weight is spread pro rata over the available ones (e.g.
    without ``csm_inputs`` and the default weights, the remaining 0.70 of weight is scaled
    to 1, so usage counts 0.30 / 0.70 = 42.9%). The contributions sum to ``health_score``.

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts`` (``segment`` is used for per-segment bands).
    as_of : str or Timestamp
        Reference date.
    weights : mapping
        ``health.weights``: measure -> relative weight (keys from :data:`HEALTH_MEASURES`;
        a weight of 0 switches a measure off).
    bands : mapping
        ``health.bands``: inclusive upper bounds, one set or per segment (see
        :func:`health_bands`).
    usage, surveys, tickets, csm_inputs : DataFrame, optional
        Canonical tables; None means the measure is unavailable for every account.
    **measure_options
        ``health.measure_options``, passed to :func:`measure_scores` (all four:
        ``usage_trend_weight``, ``usage_fall_to_zero``, ``ticket_window_days``,
        ``tickets_to_zero``).

    Returns
    -------
    DataFrame indexed by ``account_id``: ``segment``, ``score_<m>`` (0-100 or NaN) and
    ``contrib_<m>`` (points of the total) per measure, ``health_score`` (0-100, NaN when no
    measure is available), ``health_band`` and ``measures_used`` (comma separated).
    """
    check_keys(weights, HEALTH_MEASURES, "health weight(s)")
    as_of = as_timestamp(as_of)
    scores = measure_scores(accounts, as_of=as_of, usage=usage, surveys=surveys,
                            tickets=tickets, csm_inputs=csm_inputs, **measure_options)
    contrib, total, used = weighted_total(scores, weights)
    acc = active_accounts(accounts, as_of)
    out = pd.DataFrame(index=scores.index)
    out["segment"] = acc.get("segment", pd.NA)
    for m in HEALTH_MEASURES:
        out[f"score_{m}"] = scores[m]
    for m in HEALTH_MEASURES:
        out[f"contrib_{m}"] = contrib.get(m, np.nan)
    out["health_score"] = total
    out["health_band"] = health_bands(total, bands, out["segment"])
    out["measures_used"] = used
    return out


#: Fewest measures a health *score* combines: one measure alone is that measure (e.g. ticket
#: load), not a health score, and the report does not call it one.
MIN_MEASURES = 2
#: The table each measure comes from (products owned is a column of ``accounts``).
MEASURE_TABLES = {
    "usage": "usage",
    "nps": "surveys",
    "products": "accounts",
    "tickets": "tickets",
    "executive_relationship": "csm_inputs",
    "champion_quality": "csm_inputs",
}


def measures_available(scored: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """The measures the scorecard actually used, with their effective weights.

    A measure is used when its weight (``health.weights``) is above 0 and at least one
    active account has a score for it (``score_<m>`` of :func:`health_scores`). Its
    effective weight is its weight over the sum of the weights of the used measures: the
    weights of measures without data are spread pro rata, so an account measured on every
    used measure is scored with exactly these weights.

    Returns
    -------
    DataFrame indexed by measure (order of :data:`HEALTH_MEASURES`): ``weight`` (as set),
    ``effective_weight`` (0-1, sums to 1), ``accounts`` (accounts with a score for it),
    ``share_accounts`` (of all scored rows) and ``table`` (:data:`MEASURE_TABLES`). Empty
    when no measure has data.
    """
    rows = {}
    for m in HEALTH_MEASURES:
        w = float(weights.get(m, 0) or 0)
        col = scored.get(f"score_{m}")
        n = int(col.notna().sum()) if col is not None else 0
        if w > 0 and n > 0:
            rows[m] = {"weight": w, "accounts": n,
                       "share_accounts": n / len(scored) if len(scored) else np.nan,
                       "table": MEASURE_TABLES[m]}
    out = pd.DataFrame.from_dict(rows, orient="index",
                                 columns=["weight", "accounts", "share_accounts", "table"])
    out.index.name = "measure"
    total = out["weight"].sum()
    out.insert(1, "effective_weight", out["weight"] / total if total > 0 else np.nan)
    return out


# --------------------------------------------------------------------------- relationships
def relationship_flags(
    accounts: pd.DataFrame,
    contacts: pd.DataFrame,
    touches: pd.DataFrame,
    usage: pd.DataFrame | None = None,
    *,
    as_of: DateLike,
    exec_days: int,
    user_days: int,
    renewal_horizon_days: int,
    strong_exec_enterprise: int,
    strong_exec_smb: int,
    enterprise_segments: tuple[str, ...],
    usage_drop_share: float,
    strong_adoption_depth: float,
) -> pd.DataFrame:
    """Relationship metrics and the four relationship risk flags of every active account.

    Parameters
    ----------
    accounts, contacts, touches : DataFrame
        Canonical tables; only touches dated on or before ``as_of`` count.
    usage : DataFrame, optional
        Canonical ``usage``; without it the two usage flags are undecided (see Notes).
    as_of : str or Timestamp
        Reference date.
    exec_days, user_days, renewal_horizon_days : int
        ``thresholds.exec_contact_days_before_renewal``,
        ``thresholds.user_contact_days_after_drop``, ``thresholds.renewal_horizon_days``.
    strong_exec_enterprise, strong_exec_smb : int
        ``thresholds.strong_exec_relationships_enterprise`` and ``..._smb``.
    enterprise_segments : tuple of str
        ``thresholds.enterprise_segments``: segment (or size band) labels treated as
        enterprise.
    usage_drop_share : float
        ``thresholds.usage_drop_share``: a fall of active users of at least this share over
        3 months is a drop.
    strong_adoption_depth : float
        ``thresholds.strong_adoption_depth``: usage depth (active / licensed seats) from
        which adoption counts as strong.

    Returns
    -------
    DataFrame indexed by ``account_id`` with the metrics, ``enterprise`` (bool),
    ``renewal_date``, the four flags and ``flags`` (how many are set).

    Notes
    -----
    Metrics:

    * **Executive contact**: seniority director, VP or C-level (or, when seniority is blank,
      role ``executive``). **User contact**: any other contact of role user or champion.
    * ``strong_user_relationships``: user contacts with relationship ``strong``.
    * ``exec_relationships``: executive contacts (any strength);
      ``strong_exec_relationships``: those with relationship ``strong``.
    * ``days_since_user_contact`` / ``days_since_exec_contact``: whole days from the latest
      touch on or before ``as_of`` with such a contact (touches without ``contact_id``
      cannot be attributed and are ignored); NaN when there was none.
    * ``depth`` and ``active_change``: latest usage depth and the 3-month change of active
      users (see :func:`playbook.analyses.account_state.usage_snapshot`).

    Flags (nullable bool; ``<NA>`` where missing usage data leaves a flag undecided):

    ``flag_renewal_no_exec``
        ``as_of <= renewal_date <= as_of + renewal_horizon_days`` and no executive touch in
        the last ``exec_days`` days (days since > ``exec_days``, or never): quick outreach.
    ``flag_single_threaded``
        ``strong_exec_relationships`` below ``strong_exec_enterprise`` for accounts
        whose ``segment`` (else ``size_band``) is in ``enterprise_segments``, below
        ``strong_exec_smb`` for the others.
    ``flag_adoption_no_users``
        Strong adoption (``depth >= strong_adoption_depth``) and no strong user
        relationship: build champions.
    ``flag_drop_no_user_contact``
        Active users fell by at least ``usage_drop_share`` over 3 months and no user
        touch in the last ``user_days`` days: emergency help.

    Without any renewal date in ``accounts`` (none is known), ``flag_renewal_no_exec`` is
    ``<NA>`` for every account. The two usage flags use three-valued logic: without usage
    data a flag is ``<NA>``
    unless its other condition already rules it out (e.g. the account has a strong user
    relationship, so ``flag_adoption_no_users`` is False either way).
    """
    as_of = as_timestamp(as_of)
    acc = active_accounts(accounts, as_of)
    ids = acc.index
    people = _classify_contacts(contacts)
    strong = people["relationship_strength"] == "strong"
    out = pd.DataFrame(index=ids)
    out["strong_user_relationships"] = _count(people[people["is_user"] & strong], ids)
    out["exec_relationships"] = _count(people[people["is_exec"]], ids)
    out["strong_exec_relationships"] = _count(people[people["is_exec"] & strong], ids)
    days = _days_since_contact(touches, people, as_of)
    out["days_since_user_contact"] = days["user"].reindex(ids)
    out["days_since_exec_contact"] = days["exec"].reindex(ids)
    snap = usage_snapshot(usage, as_of).reindex(ids)
    out["depth"] = snap["depth"]
    out["active_change"] = snap["active_change"]

    seg = acc["segment"] if "segment" in acc else pd.Series(pd.NA, index=ids)
    if "size_band" in acc:
        seg = seg.fillna(acc["size_band"])
    out["enterprise"] = seg.isin(list(enterprise_segments)).fillna(False).astype(bool)
    out["renewal_date"] = date_column(acc, "renewal_date")

    due = (out["renewal_date"] >= as_of) & (
        out["renewal_date"] <= as_of + pd.Timedelta(days=renewal_horizon_days))
    no_exec = ~(out["days_since_exec_contact"] <= exec_days)
    # without any renewal date no renewal is known to be due: undecided, not "no flag"
    out["flag_renewal_no_exec"] = _nullable(due & no_exec, pd.Series(
        out["renewal_date"].isna().all(), index=ids))
    needed = np.where(out["enterprise"], strong_exec_enterprise, strong_exec_smb)
    out["flag_single_threaded"] = pd.array(out["strong_exec_relationships"] < needed,
                                           dtype="boolean")
    adopted = _nullable(out["depth"] >= strong_adoption_depth, out["depth"].isna())
    out["flag_adoption_no_users"] = adopted & (out["strong_user_relationships"] == 0)
    dropped = _nullable(out["active_change"] <= -usage_drop_share, out["active_change"].isna())
    no_user = ~(out["days_since_user_contact"] <= user_days)
    out["flag_drop_no_user_contact"] = dropped & no_user
    flag_cols = [c for c in out if c.startswith("flag_")]
    out["flags"] = out[flag_cols].fillna(False).astype(int).sum(axis=1)
    return out


def _classify_contacts(contacts: pd.DataFrame) -> pd.DataFrame:
    c = contacts.reset_index(drop=True)
    for col in ("role", "seniority", "relationship_strength"):
        c[col] = (c[col].astype("string").str.lower() if col in c
                  else pd.Series(pd.NA, index=c.index, dtype="string"))
    is_exec = c["seniority"].isin(EXECUTIVE_SENIORITY).fillna(False) | (
        c["seniority"].isna() & (c["role"] == "executive").fillna(False))
    c["is_exec"] = is_exec.astype(bool)
    c["is_user"] = (~c["is_exec"] & c["role"].isin(USER_ROLES).fillna(False)).astype(bool)
    return c


def _count(rows: pd.DataFrame, ids: pd.Index) -> pd.Series:
    return rows.groupby("account_id").size().reindex(ids).fillna(0).astype(int)


def _days_since_contact(
    touches: pd.DataFrame, people: pd.DataFrame, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Days since the latest touch with a user / an executive contact, per account."""
    touches = touches.reset_index(drop=True)
    t = touches.assign(date=date_column(touches, "date"))
    t = t.loc[(t["date"] <= as_of) & t["contact_id"].notna()]
    kinds = people.set_index(people["contact_id"].astype(str))[["is_user", "is_exec"]]
    t = t.join(kinds, on=t["contact_id"].astype(str).rename("_cid"))
    out = {}
    for kind, col in (("user", "is_user"), ("exec", "is_exec")):
        last = t.loc[t[col].fillna(False).astype(bool)].groupby("account_id")["date"].max()
        out[kind] = (as_of - last).dt.days.astype(float)
    return pd.DataFrame(out)


def _nullable(values: pd.Series, missing: pd.Series) -> pd.Series:
    """Boolean Series with ``<NA>`` where ``missing`` (the comparison had no data)."""
    out = values.astype("boolean")
    out[missing.to_numpy(dtype=bool)] = pd.NA
    return out


# --------------------------------------------------------------------------- validation
def band_outcomes(
    scores: pd.DataFrame | pd.Series,
    outcomes: pd.Series | pd.DataFrame,
    *,
    small_group_n: int,
) -> pd.DataFrame:
    """Renewal and churn rate by health band: does the score predict?

    Parameters
    ----------
    scores : DataFrame or Series
        :func:`health_scores` output (its ``health_band``) or a Series of bands, indexed by
        ``account_id``, measured *before* the outcomes.
    outcomes : Series or DataFrame
        Per ``account_id``: a boolean Series (True = renewed / stayed, False = churned) or
        outcome codes ``renewed`` / ``downgraded`` / ``churned`` (a downgrade counts as
        renewed and is also counted apart). A ``renewals`` table (``account_id``,
        ``renewal_date``, ``outcome``) is accepted: each account's latest decision is used.
        Accounts without an outcome are left out.
    small_group_n : int
        ``thresholds.small_group_n``: bands with fewer accounts get ``small_sample = True``.

    Returns
    -------
    DataFrame indexed by band (band order of the scores if categorical, else red, yellow,
    green, then others) plus a ``total`` row: ``n``, ``renewed``, ``downgraded``,
    ``churned``, ``renewal_rate`` (renewed / n), ``churn_rate`` (churned / n) with a 95%
    Wilson interval, and ``small_sample``. A score that predicts shows churn falling from
    red to green.
    """
    band = scores["health_band"] if isinstance(scores, pd.DataFrame) else scores
    outcome = _outcome_codes(outcomes)
    df = pd.DataFrame({"band": band.astype(object)}).join(outcome.rename("outcome"),
                                                            how="inner")
    df = df.dropna()
    order = _band_order(band, df["band"])
    rows = {b: df.loc[df["band"] == b, "outcome"] for b in order}
    rows["total"] = df["outcome"]
    out = pd.DataFrame({
        "n": {b: len(s) for b, s in rows.items()},
        "renewed": {b: int(s.isin(["renewed", "downgraded"]).sum()) for b, s in rows.items()},
        "downgraded": {b: int((s == "downgraded").sum()) for b, s in rows.items()},
        "churned": {b: int((s == "churned").sum()) for b, s in rows.items()},
    })
    out.index.name = "health_band"
    n = out["n"].where(out["n"] > 0)
    out["renewal_rate"] = out["renewed"] / n
    out["churn_rate"] = out["churned"] / n
    low, high = wilson_interval(out["churned"].to_numpy(), out["n"].to_numpy())
    out["churn_rate_low"], out["churn_rate_high"] = low, high
    out["small_sample"] = out["n"] < small_group_n
    return out


def _outcome_codes(outcomes: pd.Series | pd.DataFrame) -> pd.Series:
    if isinstance(outcomes, pd.DataFrame):
        o = outcomes.assign(_d=date_column(outcomes, "renewal_date")).sort_values("_d")
        o = o.drop_duplicates("account_id", keep="last").set_index("account_id")["outcome"]
    else:
        o = outcomes
    if pd.api.types.is_bool_dtype(o.dtype) or set(o.dropna().unique()) <= {True, False}:
        return o.map({True: "renewed", False: "churned"}).astype(object)
    return o.astype("string").str.lower().astype(object)


def _band_order(band: pd.Series, present: pd.Series) -> list[str]:
    if isinstance(band.dtype, pd.CategoricalDtype):
        return list(band.cat.categories)
    known = [b for b in BAND_ORDER if b in set(present)]
    return known + sorted(set(present) - set(known), key=str)


# --------------------------------------------------------------------------- summaries
FLAG_COLUMNS = (
    "flag_renewal_no_exec",
    "flag_single_threaded",
    "flag_adoption_no_users",
    "flag_drop_no_user_contact",
)


def band_mix(
    scored: pd.DataFrame, *, by: str = "segment", mrr: pd.Series | None = None
) -> pd.DataFrame:
    """Accounts (and MRR) per health band within each group, e.g. per segment.

    Parameters
    ----------
    scored : DataFrame
        :func:`health_scores` output (``health_band`` and the ``by`` column).
    by : str
        Grouping column; accounts with a blank value are grouped as "(blank)".
    mrr : Series, optional
        MRR per ``account_id``; adds ``mrr_<band>`` columns.

    Returns
    -------
    DataFrame indexed by group (largest group first) plus a last row ``All``: ``accounts``
    (scored accounts), ``n_<band>`` counts, ``share_<band>`` (of the group's scored
    accounts) and, with ``mrr``, ``mrr_<band>``. Bands are in the order red, yellow, green,
    then others. Accounts without a score are left out.
    """
    s = scored.dropna(subset=["health_band"])
    group = s[by].astype(object).where(s[by].notna(), "(blank)") if by in s else pd.Series(
        "All", index=s.index)
    bands = _band_order(s["health_band"], s["health_band"])
    counts = pd.crosstab(group, s["health_band"].astype(object)).reindex(
        columns=bands, fill_value=0)
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    counts.loc["All"] = counts.sum(axis=0)
    out = pd.DataFrame(index=counts.index)
    out.index.name = by
    out["accounts"] = counts.sum(axis=1).astype(int)
    for b in bands:
        out[f"n_{b}"] = counts[b].astype(int)
    for b in bands:
        out[f"share_{b}"] = counts[b] / out["accounts"].where(out["accounts"] > 0)
    if mrr is not None:
        m = mrr.reindex(s.index).astype(float)
        sums = m.groupby([group, s["health_band"].astype(object)]).sum().unstack(fill_value=0.0)
        sums = sums.reindex(index=counts.index[:-1], columns=bands, fill_value=0.0)
        sums.loc["All"] = sums.sum(axis=0)
        for b in bands:
            out[f"mrr_{b}"] = sums[b].astype(float)
    return out


def health_examples(
    scored: pd.DataFrame, mrr: pd.Series | None = None, *, per_band: int = 3
) -> pd.DataFrame:
    """A few accounts per band whose score can be read off their contributions.

    Per band (red, yellow, green order), ``per_band`` accounts: candidates are ranked by the
    number of measures used (most first), then MRR (largest first), then account id; the
    best candidate of each ``segment`` is taken first (so the examples span segments), in
    that order, then the next best overall. Returns the rows of ``scored`` with an ``mrr``
    column, in band order, each band's accounts by MRR (largest first).
    """
    s = scored.dropna(subset=["health_score"]).copy()
    s["mrr"] = mrr.reindex(s.index).astype(float) if mrr is not None else np.nan
    s["_measures"] = s["measures_used"].fillna("").map(lambda x: len([p for p in x.split(",")
                                                                     if p]))
    s["_id"] = s.index.astype(str)
    seg = s["segment"] if "segment" in s else pd.Series("", index=s.index)
    s["_seg"] = seg.astype(object).where(seg.notna(), "")
    parts = []
    for b in _band_order(s["health_band"], s["health_band"]):
        g = s.loc[s["health_band"] == b].sort_values(
            ["_measures", "mrr", "_id"], ascending=[False, False, True], na_position="last")
        first = g.drop_duplicates("_seg")
        picked = pd.concat([first, g.drop(index=first.index)]).head(per_band)
        parts.append(picked.sort_values(["mrr", "_id"], ascending=[False, True],
                                        na_position="last"))
    drop = ["_measures", "_id", "_seg"]
    if not parts:
        return s.drop(columns=drop).iloc[:0]
    return pd.concat(parts).drop(columns=drop)


def flag_summary(
    flags: pd.DataFrame,
    accounts: pd.DataFrame,
    mrr: pd.Series,
    *,
    top_owners: int = 2,
) -> pd.DataFrame:
    """Per relationship-risk flag: accounts, MRR and the owners holding most of them.

    Parameters
    ----------
    flags : DataFrame
        :func:`relationship_flags` output.
    accounts : DataFrame
        Canonical ``accounts`` (``owner``).
    mrr : Series
        MRR per ``account_id``.
    top_owners : int
        How many owners to name per flag.

    Returns
    -------
    DataFrame indexed by flag column (order of :data:`FLAG_COLUMNS`, flags missing from
    ``flags`` left out): ``accounts`` (flag set), ``undecided`` (``<NA>``: data missing),
    ``mrr`` (MRR of the flagged accounts), ``share_mrr`` (of all MRR of ``flags``' accounts)
    and ``owners`` (the ``top_owners`` owners with most flagged accounts, as
    "Name (count)", largest first, ties by name; blank owners shown as "(no owner)").
    """
    owner = accounts.drop_duplicates("account_id").set_index("account_id").get("owner")
    owner = (owner.reindex(flags.index) if owner is not None
             else pd.Series(pd.NA, index=flags.index)).astype(object)
    owner = owner.where(owner.notna(), "(no owner)")
    m = mrr.reindex(flags.index).astype(float)
    total = m.sum()
    rows = {}
    for col in FLAG_COLUMNS:
        if col not in flags:
            continue
        hit = flags[col].fillna(False).astype(bool)
        counts = owner[hit].value_counts()
        counts = counts.reset_index().set_axis(["owner", "n"], axis=1).sort_values(
            ["n", "owner"], ascending=[False, True]).head(top_owners)
        rows[col] = {
            "accounts": int(hit.sum()),
            "undecided": int(flags[col].isna().sum()),
            "mrr": float(m[hit].sum()),
            "share_mrr": float(m[hit].sum() / total) if total > 0 else np.nan,
            "owners": ", ".join(f"{o} ({n})" for o, n in zip(counts["owner"], counts["n"],
                                                              strict=True)),
        }
    out = pd.DataFrame.from_dict(rows, orient="index",
                                 columns=["accounts", "undecided", "mrr", "share_mrr", "owners"])
    out.index.name = "flag"
    return out


def accounts_at_risk(
    flags: pd.DataFrame, accounts: pd.DataFrame, mrr: pd.Series, *, min_flags: int = 1
) -> pd.DataFrame:
    """Accounts with at least ``min_flags`` relationship-risk flags, largest MRR first.

    Returns those rows of ``flags`` (metrics and flags) with ``name``, ``owner``,
    ``segment`` (when in ``accounts``) and ``mrr`` added, sorted by ``mrr`` descending, then
    ``flags`` descending, then account id.
    """
    acc = accounts.drop_duplicates("account_id").set_index("account_id")
    f = flags.loc[flags["flags"] >= max(min_flags, 1)].copy()
    for col in ("name", "owner", "segment"):
        if col in acc:
            f[col] = acc[col].reindex(f.index)
    f["mrr"] = mrr.reindex(f.index).astype(float)
    f["_id"] = f.index.astype(str)
    f = f.sort_values(["mrr", "flags", "_id"], ascending=[False, False, True],
                      na_position="last")
    return f.drop(columns="_id")
