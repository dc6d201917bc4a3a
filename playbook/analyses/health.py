"""How healthy is each account: the health scorecard and whether the score predicts renewal;
the relationship flags live in :mod:`playbook.analyses.relationships` (re-exported here).

Pure functions on the canonical frames of :mod:`playbook.contract`; the conventions
(active accounts, account MRR, "on or before ``as_of``", usage depth) are those of
:mod:`playbook.analyses.account_state`. Frames per account are indexed by ``account_id``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
from playbook.analyses.history import (
    ActiveAccounts,
    HighTickets,
    LatestValues,
    RecentEvents,
    UsageHistory,
)
from playbook.analyses.outcomes import outcome_progress, realised_in
from playbook.analyses.relationships import FLAG_COLUMNS as FLAG_COLUMNS
from playbook.analyses.relationships import accounts_at_risk as accounts_at_risk
from playbook.analyses.relationships import flag_summary as flag_summary
from playbook.analyses.relationships import relationship_flags as relationship_flags
from playbook.analyses.scoring import check_keys, scale_1_5, weighted_total
from playbook.analyses.stats import wilson_interval
from playbook.contract import RISK_TRIGGER_TYPES
from playbook.errors import ParamsError
from playbook.membership import positions

HEALTH_MEASURES = (
    "usage",
    "nps",
    "products",
    "tickets",
    "executive_relationship",
    "champion_quality",
    "outcomes",
    "risk_events",
)
#: Band names in the order tables list them, worst first (other names follow, sorted).
BAND_ORDER = ("red", "yellow", "green")
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
    outcomes: pd.DataFrame | None = None,
    triggers: pd.DataFrame | None = None,
    usage_trend_weight: float,
    usage_fall_to_zero: float,
    ticket_window_days: int,
    tickets_to_zero: int,
    outcome_lookback_days: int | None = None,
    trigger_window_days: int | None = None,
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
    ``outcomes``
        Realised value of the account's customer-defined outcomes x 100
        (:func:`playbook.analyses.outcomes.realised_at`: per outcome the latest measurement
        dated in the ``outcome_lookback_days`` days up to ``as_of``, progress to target capped
        to [0, 1], averaged over the outcomes). NaN for an account with no outcome measured
        then: no outcome is missing, not failure. ``outcome_lookback_days`` is
        ``outcomes.lookback_days``; required when ``outcomes`` is given.
    ``risk_events``
        Inverse of recent churn-risk trigger events: 0 when the account recorded a trigger
        of a type in :data:`playbook.contract.RISK_TRIGGER_TYPES` (champion left, executive
        change, reorganisation, merger or acquisition, budget cut, layoffs) dated in the
        ``trigger_window_days`` days up to ``as_of``, else 100. With a ``triggers`` table an
        account without such an event scores 100 (as for tickets). ``trigger_window_days``
        is ``triggers.churn_window_days``; required when ``triggers`` is given.

    Returns
    -------
    DataFrame indexed by ``account_id`` (accounts active on ``as_of``), one column per
    measure in :data:`HEALTH_MEASURES`.
    """
    as_of = as_timestamp(as_of)
    acc = active_accounts(accounts, as_of)
    snap = usage_snapshot(usage, as_of, trend_months=3)
    nps = latest_on_or_before(surveys, ["nps"], as_of)["nps"]
    csm = latest_on_or_before(csm_inputs, ["executive_relationship", "champion_quality"], as_of)
    high = None if tickets is None else _high_tickets(tickets, as_of, ticket_window_days)
    realised = OutcomeValues(outcomes, outcome_lookback_days).at(acc.index, as_of)
    risky = RiskEvents(triggers, trigger_window_days).at(acc.index, as_of)
    return _measures(acc, snap, nps, csm, high, realised, risky,
                     usage_trend_weight=usage_trend_weight,
                     usage_fall_to_zero=usage_fall_to_zero, tickets_to_zero=tickets_to_zero)


def _measures(acc: pd.DataFrame, snap: pd.DataFrame, nps: pd.Series, csm: pd.DataFrame,
              high: pd.Series | None, realised: pd.Series | None,
              risky: pd.Series | None, *,
              usage_trend_weight: float, usage_fall_to_zero: float,
              tickets_to_zero: int, products_top: float | None = None) -> pd.DataFrame:
    """:func:`measure_scores` from what it reads on the day: the active accounts, the usage
    snapshot, the latest NPS and CSM ratings, high-priority tickets per account (None
    without a tickets table), the realised value of outcomes (0-1; None without an
    outcomes table) and recent churn-risk triggers per account (None without a triggers
    table). ``products_top``: the most products of any account active on the day, when
    ``acc`` holds only some of them (None: ``acc`` is all of them)."""
    out = pd.DataFrame(index=acc.index)
    out["usage"] = _usage_measure(snap, usage_trend_weight, usage_fall_to_zero)
    out["nps"] = (nps.reindex(out.index).clip(0, 10) * 10.0).astype(float)
    products = number_column(acc, "products")
    top = products.max() if products_top is None else products_top
    out["products"] = (100.0 * products / top).clip(0, 100) if top and top > 0 else np.nan
    if high is None:
        out["tickets"] = pd.Series(np.nan, index=out.index, dtype=float)
    else:
        n = high.reindex(out.index).fillna(0).astype(float)
        out["tickets"] = 100.0 * (1.0 - n / tickets_to_zero).clip(lower=0.0)
    for c in ("executive_relationship", "champion_quality"):
        out[c] = scale_1_5(csm[c].reindex(out.index))
    out["outcomes"] = (np.nan if realised is None else
                       100.0 * realised.reindex(out.index).astype(float))
    out["risk_events"] = (np.nan if risky is None else
                          np.where(risky.reindex(out.index).fillna(0) > 0, 0.0, 100.0))
    return out.astype(float)


def _usage_measure(snap: pd.DataFrame, trend_weight: float, fall_to_zero: float) -> pd.Series:
    """The usage measure from a :func:`usage_snapshot`."""
    level = 100.0 * snap["depth"]
    change = snap["active_change"].where(snap["active_users"].notna(), snap["actions_change"])
    fall = (-change).clip(lower=0.0)
    trend = 100.0 * (1.0 - fall / fall_to_zero).clip(0.0, 1.0)
    blended = (1.0 - trend_weight) * level + trend_weight * trend
    return blended.where(trend.notna(), level).where(level.notna(), trend)


def _high_tickets(tickets: pd.DataFrame, as_of: pd.Timestamp, window_days: int) -> pd.Series:
    """High-priority tickets per account opened in the ``window_days`` days up to
    ``as_of`` (accounts without any are absent)."""
    tickets = tickets.reset_index(drop=True)
    opened = date_column(tickets, "opened_at")
    recent = (opened <= as_of) & (opened > as_of - pd.Timedelta(days=window_days))
    priority = tickets.get("priority", pd.Series("", index=tickets.index)).astype("string")
    high = recent & priority.str.lower().isin(HIGH_PRIORITIES).fillna(False)
    return tickets.loc[high.to_numpy(dtype=bool)].groupby("account_id").size()


class OutcomeValues:
    """Realised value of customer-defined outcomes (0-1) per account on a date, the
    measurements' progress computed once (:func:`playbook.analyses.outcomes.realised_at`)
    and grouped by account, so that a date looks up its accounts' measurements instead of
    joining every measurement. Without an outcomes table :meth:`at` returns None (the
    measure is unavailable)."""

    def __init__(self, outcomes: pd.DataFrame | None, lookback_days: int | None) -> None:
        self.empty = outcomes is None or outcomes.empty
        if self.empty:
            return
        if lookback_days is None:
            raise ParamsError("The outcomes health measure needs outcomes.lookback_days.",
                              fix="Pass outcome_lookback_days with the outcomes table.")
        progress = outcome_progress(outcomes)
        self.lookback_days = lookback_days
        prog = progress.loc[progress["progress"].notna(),
                            ["account_id", "outcome", "measured_at", "progress",
                             "progress_capped"]].reset_index(drop=True)
        codes, self._ids = pd.factorize(prog["account_id"])
        # each account's measurements, in table order, one run per account (rows without an
        # account are never looked up)
        known = np.flatnonzero(codes >= 0)
        self._order = known[np.argsort(codes[known], kind="stable")]
        self._count = np.bincount(codes[known], minlength=len(self._ids))
        self._start = np.r_[0, np.cumsum(self._count)[:-1]].astype(np.int64)
        self._prog = prog.drop(columns="account_id")
        self._when = prog["measured_at"].to_numpy(dtype="datetime64[ns]")

    def codes_of(self, ids: pd.Index) -> np.ndarray:
        """Each account of ``ids``' code here (-1: no measured outcome)."""
        return positions(ids, self._ids) if not self.empty else np.full(len(ids), -1)

    def at(self, accounts: pd.Index, as_of: DateLike, *, codes: np.ndarray | None = None
           ) -> pd.Series | None:
        """Realised value (0-1, NaN without a measured outcome) of ``accounts`` on ``as_of``,
        indexed by account id; None without an outcomes table. ``codes``: the accounts'
        (:meth:`codes_of`), when known."""
        if self.empty:
            return None
        day = as_timestamp(as_of)
        code = self.codes_of(accounts) if codes is None else np.asarray(codes)
        has = code >= 0
        n = np.zeros(len(accounts), dtype=np.int64)
        n[has] = self._count[code[has]]
        first = np.zeros(len(accounts), dtype=np.int64)
        first[has] = self._start[code[has]]
        query = np.repeat(np.arange(len(accounts)), n)
        offset = np.arange(len(query)) - np.repeat(np.cumsum(n) - n, n)
        first = np.repeat(first, n)
        rows = self._order[first + offset]
        # the lookback window here too, so only the measurements that count are taken
        lo = (day - pd.Timedelta(days=self.lookback_days)).to_datetime64()
        when = self._when[rows]
        inside = (when <= day.to_datetime64()) & (when >= lo)
        m = self._prog.take(rows[inside]).reset_index(drop=True)
        m.insert(0, "_i", query[inside])
        m.insert(1, "date", day)
        got = realised_in(m, accounts, lookback_days=self.lookback_days)
        return pd.Series(got["realised"].to_numpy(dtype=float), index=accounts)


class RiskEvents:
    """Churn-risk trigger events (:data:`playbook.contract.RISK_TRIGGER_TYPES`) per account
    in the ``window_days`` days up to a date. Without a triggers table :meth:`at` returns
    None (the measure is unavailable)."""

    def __init__(self, triggers: pd.DataFrame | None, window_days: int | None) -> None:
        self.empty = triggers is None or triggers.empty
        if self.empty:
            return
        if window_days is None:
            raise ParamsError("The risk-events health measure needs "
                              "triggers.churn_window_days.",
                              fix="Pass trigger_window_days with the triggers table.")
        self.events = RecentEvents(triggers, "date", "type", RISK_TRIGGER_TYPES)
        self.window_days = window_days

    def codes_of(self, ids: pd.Index) -> np.ndarray:
        """Each account of ``ids``' code here (-1: no risk event)."""
        return self.events.codes_of(ids) if not self.empty else np.full(len(ids), -1)

    def at(self, accounts: pd.Index, as_of: DateLike, *, codes: np.ndarray | None = None
           ) -> pd.Series | None:
        """Risk events per account of ``accounts`` on ``as_of`` (0 without any); None
        without a triggers table. ``codes``: the accounts' (:meth:`codes_of`), when known."""
        if self.empty:
            return None
        return self.events.counts(as_timestamp(as_of), accounts, self.window_days,
                                  codes=codes)


class HealthInputs:
    """The tables of the health measures parsed once, to score accounts on many dates
    (:func:`health_scores_on`): each date then costs array look-ups, not a new parse of
    the usage, survey, ticket and CSM tables (:mod:`playbook.analyses.history`)."""

    def __init__(self, usage: pd.DataFrame | None, surveys: pd.DataFrame | None,
                 tickets: pd.DataFrame | None, csm_inputs: pd.DataFrame | None,
                 outcomes: pd.DataFrame | None = None,
                 outcome_lookback_days: int | None = None,
                 triggers: pd.DataFrame | None = None,
                 trigger_window_days: int | None = None) -> None:
        self.usage = UsageHistory(usage)
        self.nps = LatestValues(surveys, ["nps"])
        self.csm = LatestValues(csm_inputs, ["executive_relationship", "champion_quality"])
        self.tickets = HighTickets(tickets, HIGH_PRIORITIES)
        self.outcomes = OutcomeValues(outcomes, outcome_lookback_days)
        self.risk_events = RiskEvents(triggers, trigger_window_days)

    def codes_of(self, ids: pd.Index) -> dict[str, np.ndarray]:
        """Each account of ``ids``' code in each table (-1: not in it), by table:
        ``usage``, ``nps``, ``csm``, ``tickets``, ``outcomes``, ``risk_events``."""
        return {"usage": self.usage.codes_of(ids), "nps": self.nps.codes_of(ids),
                "csm": self.csm.codes_of(ids), "tickets": self.tickets.codes_of(ids),
                "outcomes": self.outcomes.codes_of(ids),
                "risk_events": self.risk_events.codes_of(ids)}

    def measures(self, acc: pd.DataFrame, as_of: pd.Timestamp, *,
                 usage_trend_weight: float, usage_fall_to_zero: float,
                 ticket_window_days: int, tickets_to_zero: int,
                 outcome_lookback_days: int | None = None,
                 trigger_window_days: int | None = None,
                 products_top: float | None = None,
                 codes: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
        """:func:`measure_scores` on ``as_of`` (same frame) of the accounts active then
        (``acc``, :func:`active_accounts`). ``outcome_lookback_days`` and
        ``trigger_window_days`` are the ones given to the constructor (accepted here so
        that the measure options pass through whole). When ``acc`` is only some of the
        active accounts, ``products_top`` is the most products of any of them (the
        products measure's scale); their rows are then those of all active accounts.
        ``codes``: the accounts' codes in each table (:meth:`codes_of`), when known."""
        ids = acc.index  # each table is looked up for these accounts only
        codes = self.codes_of(ids) if codes is None else codes
        high = (None if self.tickets.empty else
                self.tickets.counts(as_of, ids, ticket_window_days, codes=codes["tickets"]))
        return _measures(acc, self.usage.snapshot(as_of, trend_months=3, codes=codes["usage"]),
                         self.nps.at(as_of, codes=codes["nps"])["nps"],
                         self.csm.at(as_of, codes=codes["csm"]), high,
                         self.outcomes.at(ids, as_of, codes=codes["outcomes"]),
                         self.risk_events.at(ids, as_of, codes=codes["risk_events"]),
                         usage_trend_weight=usage_trend_weight,
                         usage_fall_to_zero=usage_fall_to_zero,
                         tickets_to_zero=tickets_to_zero, products_top=products_top)


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
        if scores.empty:  # (the dtype of an empty result is that of Series.map)
            return scores.map(lambda s: band_of(s, bands)).rename("health_band")
        return pd.Series(list(_bands_of(scores.to_numpy(dtype=float), bands)),
                         index=scores.index, name="health_band")
    seg = (segments if segments is not None else pd.Series(index=scores.index, dtype=object))
    seg = seg.reindex(scores.index)
    key = np.array([g if (isinstance(g, str) and g in bands) else "default" for g in seg],
                   dtype=object)
    values = scores.to_numpy(dtype=float)
    result = np.full(len(scores), None, dtype=object)
    for g in set(key):
        rows = key == g
        result[rows] = _bands_of(values[rows], bands[g])
    return pd.Series(result, index=scores.index, name="health_band", dtype=object)


def _bands_of(scores: np.ndarray, bounds: Mapping[str, float]) -> np.ndarray:
    """:func:`band_of` of each score, as an object array (None for NaN)."""
    ordered = sorted(bounds.items(), key=lambda kv: kv[1])
    names = np.array([name for name, _ in ordered] + [None], dtype=object)
    uppers = np.array([upper for _, upper in ordered], dtype=float)
    pos = np.minimum(np.searchsorted(uppers, scores, side="left"), len(uppers) - 1)
    return names[np.where(np.isnan(scores), len(uppers), pos)]


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
    outcomes: pd.DataFrame | None = None,
    triggers: pd.DataFrame | None = None,
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
    usage, surveys, tickets, csm_inputs, outcomes, triggers : DataFrame, optional
        Canonical tables; None means the measure is unavailable for every account.
    **measure_options
        ``health.measure_options``, passed to :func:`measure_scores` (all four:
        ``usage_trend_weight``, ``usage_fall_to_zero``, ``ticket_window_days``,
        ``tickets_to_zero``; plus ``outcome_lookback_days`` with ``outcomes`` and
        ``trigger_window_days`` with ``triggers``).

    Returns
    -------
    DataFrame indexed by ``account_id``: ``segment``, ``score_<m>`` (0-100 or NaN) and
    ``contrib_<m>`` (points of the total) per measure, ``health_score`` (0-100, NaN when no
    measure is available), ``health_band`` and ``measures_used`` (comma separated).
    """
    check_keys(weights, HEALTH_MEASURES, "health weight(s)")
    as_of = as_timestamp(as_of)
    scores = measure_scores(accounts, as_of=as_of, usage=usage, surveys=surveys,
                            tickets=tickets, csm_inputs=csm_inputs, outcomes=outcomes,
                            triggers=triggers, **measure_options)
    return _scorecard(active_accounts(accounts, as_of), scores, weights, bands)


def health_scores_on(
    accounts: pd.DataFrame,
    dates: Sequence[DateLike],
    *,
    weights: Mapping[str, float],
    bands: Bands,
    usage: pd.DataFrame | None = None,
    surveys: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    csm_inputs: pd.DataFrame | None = None,
    outcomes: pd.DataFrame | None = None,
    triggers: pd.DataFrame | None = None,
    wanted: Mapping[pd.Timestamp, pd.Index] | None = None,
    **measure_options: float,
) -> dict[pd.Timestamp, pd.DataFrame]:
    """:func:`health_scores` on each of ``dates`` (same frames), the tables parsed once.

    ``wanted`` (optional): date -> the account IDs to score on that date (a date not in it
    scores every active account). The other active accounts' rows are left out, not
    computed: a health score is a function of the account alone but for the products
    measure's scale (the most products of any active account), taken from all of them.
    The wanted rows equal those of the whole frame, in its order (what the backtest needs
    at 100,000 accounts: a month's decisions are a few thousand of them).

    Returns a dict: date (Timestamp) -> the :func:`health_scores` frame of that date.
    """
    check_keys(weights, HEALTH_MEASURES, "health weight(s)")
    inputs = HealthInputs(usage, surveys, tickets, csm_inputs, outcomes,
                          measure_options.get("outcome_lookback_days"), triggers,
                          measure_options.get("trigger_window_days"))
    active = ActiveAccounts(accounts)
    codes = inputs.codes_of(active.ids)  # each account row's code in each table, once
    products = number_column(accounts.reset_index(drop=True), "products").to_numpy(dtype=float)
    wanted = {as_timestamp(k): v for k, v in (wanted or {}).items()}
    out = {}
    for day in dates:
        as_of = as_timestamp(day)
        mask = active.mask(as_of)
        top = None
        if as_of in wanted:
            top = pd.Series(products[mask]).max()
            mask &= positions(active.ids, pd.Index(wanted[as_of]).unique()) >= 0
        acc = active.rows(mask)
        scores = inputs.measures(acc, as_of, products_top=top,
                                 codes={k: v[mask] for k, v in codes.items()},
                                 **measure_options)
        out[as_of] = _scorecard(acc, scores, weights, bands)
    return out


def _scorecard(acc: pd.DataFrame, scores: pd.DataFrame, weights: Mapping[str, float],
               bands: Bands) -> pd.DataFrame:
    """:func:`health_scores` from the measures of the day of the accounts active then
    (``acc``)."""
    contrib, total, used = weighted_total(scores, weights)
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
    "outcomes": "outcomes",
    "risk_events": "triggers",
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
    values = set(present.unique())      # once: a set per band walked every row
    known = [b for b in BAND_ORDER if b in values]
    return known + sorted(values - set(known), key=str)


# --------------------------------------------------------------------------- summaries
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
