"""The leakage-safe modelling table: one row per renewal decision, its features measured at
a cut-off before the decision from records dated on or before it (:func:`modelling_table`),
and the history window that leaves out decisions the data cannot describe
(:func:`data_start`, :func:`history_days`, :func:`drop_short_history`).

The features themselves are built per source table in
:mod:`playbook.analyses.drivers.features`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from playbook import textfmt as tf
from playbook.analyses.drivers.columns import as_numeric, has_values
from playbook.analyses.drivers.features import (
    TICKET_WINDOW_DAYS,
    account_features,
    contact_features,
    onboarding_features,
    survey_features,
    ticket_features,
    touch_features,
    usage_features,
    variable_features,
)
from playbook.analyses.variables import declared
from playbook.errors import DriverModelError

__all__ = [
    "USAGE_LOOKBACK_DAYS",
    "data_start",
    "drop_short_history",
    "history_days",
    "modelling_table",
]


def modelling_table(
    decisions: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame | None],
    *,
    cutoff_days: int,
    usage_drop_share: float,
    low_nps: float,
    contact_days_cap: int,
    nps_lookback_days: int | None,
    nps_no_answer: str,
    sponsor_roles: Sequence[str],
    exec_by_seniority: bool,
    final_onboarding_step: str | None,
    as_of: pd.Timestamp | str | None = None,
    variables: Mapping[str, Any] | None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Features per renewal decision, measured at the cut-off, without look-ahead.

    The cut-off of a decision is ``decision_date - cutoff_days`` (``drivers.cutoff_days``).
    Only records dated on or before the cut-off are used, so nothing that happened in the
    run-up to the decision (or after it) can leak into the features. Every option is a
    parameter: :meth:`playbook.config.Params.feature_options` gives them (all but
    ``cutoff_days`` and ``as_of``).

    Parameters
    ----------
    decisions : DataFrame
        From :func:`renewal_decisions` or :func:`upcoming_renewals` (account_id,
        decision_date; renewed, downgraded and arr_before are carried over when present).
    tables : mapping of str to DataFrame or None
        Canonical tables by name: ``accounts`` (required), and optionally ``usage``,
        ``tickets``, ``surveys``, ``contacts``, ``touches``, ``onboarding``. A missing or
        ``None`` table skips its features; the report says which and why.
    cutoff_days : int
        Days between the cut-off and the decision.
    usage_drop_share : float
        ``usage_decline`` is true when active users fell by more than this share over the 3
        months before the cut-off (``thresholds.usage_drop_share``).
    low_nps : float
        ``nps_detractor`` is true when the last NPS is at or below this (``thresholds.low_nps``).
    contact_days_cap : int
        Days since last contact are capped here; no contact in that time (or never) = the cap
        (``drivers.contact_days_cap``). Ticket features count the tickets opened in the
        :data:`~playbook.analyses.drivers.features.TICKET_WINDOW_DAYS` up to the cut-off.
    nps_no_answer : {"own_level", "missing", "not_detractor", "detractor"}
        What ``nps_detractor`` is for a decision with no NPS answer in the window: its own
        level "no answer" (``nps_detractor`` is then categorical: not a detractor /
        detractor / no answer, compared with answered non-detractors), missing (the row
        drops out of a model using it), or counted as not / as a detractor.
    nps_lookback_days : int or None
        Only survey answers in the ``nps_lookback_days`` up to the cut-off count (None = any
        answer on or before the cut-off).
    sponsor_roles : sequence of str
        Contact roles that can be an executive sponsor (with a strong relationship at director
        level or above; ``drivers.sponsor_roles``, e.g. ``("executive",)``).
    exec_by_seniority : bool
        For ``days_since_exec_contact``: True counts touches with role-executive contacts and
        with any contact at director level or above; False only role-executive contacts.
    final_onboarding_step : str or None
        Name of the step that ends onboarding (e.g. ``"Go-live"``); builds
        ``onboarding_incomplete``.
    as_of : date, optional
        For scoring renewals still to come: a cut-off later than ``as_of`` is moved back to
        ``as_of`` (nothing after the day the scores are made for is used). The report counts
        the decisions concerned in ``cutoff_capped_at_as_of``. None (past decisions): no cap.
    variables : mapping or None
        The client's own variables (params ``variables``: key -> table, kind, label,
        reference, unit, scale; see :func:`playbook.analyses.variables.declared`). Each is a
        feature named by its label: an accounts variable is the account's value (a current
        snapshot, like ``segment``), a usage variable its value in the last complete month on
        or before the cut-off. A categorical one enters as dummies against its
        ``reference`` level (the first category of the column), a numeric one per ``scale``
        units (``report["units"]``, to pass to :func:`fit_renewal_model`).

    Returns
    -------
    table : DataFrame
        One row per decision: ``account_id``, ``decision_date``, ``cutoff_date``, ``renewed``,
        ``downgraded`` and the built features:

        ===========================  ======================================================
        active_users                 active users in the last complete month on or before
                                     the cut-off (count)
        active_users_change_3m       that month's active users minus those 3 months
                                     earlier (count; NaN when either month is missing)
        usage_change_share_3m        the same change as a share of the earlier month
        usage_decline                usage_change_share_3m < -usage_drop_share (boolean)
        seat_utilisation             active users / licensed seats, same month (share)
        last_nps, last_csat          last survey answer on or before the cut-off
        nps_detractor                last_nps <= low_nps (boolean; with nps_no_answer
                                     own_level a categorical: not a detractor,
                                     detractor, no answer)
        tickets_90d                  tickets opened in the window (count)
        high_priority_tickets_90d    of which priority high or urgent (count)
        ticket_hours_90d             hours on tickets opened in the window *and* closed by
                                     the cut-off (hours on still-open tickets may include
                                     later work, so they are left out)
        strong_user_relationships    contacts with role user/champion and a strong
                                     relationship (count)
        exec_relationships           contacts at director level or above, any role (count)
        strong_exec_relationships    of which strong (count)
        exec_sponsor                 at least one strong executive or champion contact at
                                     director level or above (boolean)
        days_since_user_contact      days from the last touch with a user/champion contact
                                     to the cut-off, capped at contact_days_cap
        days_since_exec_contact      same for executive contacts (role executive or
                                     director level or above)
        tenure_years                 (cut-off - start_date) in years of 365.25 days
        products                     products owned (accounts snapshot)
        contract_value               ARR before the decision (renewals.arr_before), else
                                     the accounts' current ARR (money)
        log2_contract_value          log2(contract_value) (a step of 1 = double the contract
                                     value; NaN when the value is 0 or missing)
        segment                      the client's segment label (text)
        onboarding_steps             distinct onboarding steps completed by the cut-off
        onboarding_incomplete        final_onboarding_step not completed by the cut-off
                                     (boolean; only when final_onboarding_step is given)
        ===========================  ======================================================

    report : dict
        ``built`` (list of feature names), ``skipped`` (feature -> reason), ``notes`` (list of
        sentences about limitations), ``cutoff_days``, ``n_decisions``,
        ``cutoff_before_start`` (decisions whose cut-off precedes the account's start),
        ``variables`` (key -> feature name of each client variable built), ``units``
        (feature -> (scale, unit) of the numeric client variables) and
        ``recorded_after_cutoff`` (feature -> share of decisions whose value was recorded
        after their cut-off: an accounts variable with a recording date, see
        :data:`~playbook.analyses.drivers.features.RECORDED_SUFFIX`; pass it to
        :func:`fit_renewal_model`, whose leakage guard leaves such a feature out).

    Notes
    -----
    Contacts carry no dates: the contacts list is taken as known at every cut-off, i.e. a
    relationship built (or lost) after the cut-off is treated as if it existed before. This is
    a look-ahead the data cannot rule out; the report notes it. ``products``, ``segment`` and
    (without a renewals table) ``contract_value`` are current snapshots from ``accounts``, with
    the same limitation. A usage month counts only once it is complete (its last day is on or
    before the cut-off).
    """
    if tables.get("accounts") is None:
        raise DriverModelError(
            "modelling_table needs the accounts table.",
            fix="Pass tables={'accounts': accounts, ...}.",
        )
    base = _decision_frame(decisions, cutoff_days)
    report: dict[str, Any] = {
        "cutoff_days": cutoff_days,
        "built": [],
        "skipped": {},
        "notes": [],
        "n_decisions": len(base),
        "cutoff_capped_at_as_of": 0,
        "variables": {},
        "units": {},
        "recorded_after_cutoff": {},
    }
    if as_of is not None:
        late = base["cutoff_date"] > pd.Timestamp(as_of)
        base.loc[late, "cutoff_date"] = pd.Timestamp(as_of)
        report["cutoff_capped_at_as_of"] = int(late.sum())
        if late.any():
            report["notes"].append(
                f"{tf.plural(int(late.sum()), 'decision')} {tf.noun(int(late.sum()), 'is', 'are')} "
                f"less than {cutoff_days} days away: their "
                "features are measured at the as-of date instead."
            )
    builders = [
        (usage_features, {"usage_drop_share": usage_drop_share}),
        (survey_features, {"low_nps": low_nps, "lookback_days": nps_lookback_days,
                            "no_answer": nps_no_answer}),
        (ticket_features, {"window_days": TICKET_WINDOW_DAYS}),
        (contact_features, {"sponsor_roles": tuple(sponsor_roles)}),
        (touch_features, {"cap_days": contact_days_cap, "exec_by_seniority": exec_by_seniority}),
        (onboarding_features, {"final_step": final_onboarding_step}),
        (variable_features, {"variables": declared(variables)}),
    ]
    pieces = [account_features(base, tables["accounts"], report)]
    for builder, kwargs in builders:
        pieces.append(builder(base, tables, report, **kwargs))
    table = base.drop(columns=["_row"]).join([p for p in pieces if p is not None and p.shape[1]])
    report["cutoff_before_start"] = int(
        (table["tenure_years"] < 0).sum() if "tenure_years" in table else 0
    )
    if report["cutoff_before_start"]:
        report["notes"].append(
            f"{tf.plural(report['cutoff_before_start'], 'decision')} "
            f"{tf.noun(report['cutoff_before_start'], 'has', 'have')} a cut-off before the account "
            "started (tenure_years < 0): features there describe a customer not yet live."
        )
    return table.reset_index(drop=True), report


def _decision_frame(decisions: pd.DataFrame, cutoff_days: int) -> pd.DataFrame:
    base = pd.DataFrame(
        {
            "account_id": decisions["account_id"].astype("string").to_numpy(),
            "decision_date": pd.to_datetime(decisions["decision_date"]).to_numpy(),
        }
    )
    base["cutoff_date"] = base["decision_date"] - pd.Timedelta(days=cutoff_days)
    for col in ("renewed", "downgraded", "arr_before"):
        if col in decisions:
            base[col] = decisions[col].to_numpy()
    if "renewed" not in base:
        base["renewed"] = np.nan
    base["_row"] = np.arange(len(base))
    base.index = base["_row"].to_numpy()
    return base


#: Usage features compare the last complete month before the cut-off with the month three
#: months earlier; that month starts at most 5 months (5 x 31 days) before the cut-off.
USAGE_LOOKBACK_DAYS = 5 * 31


def data_start(tables: Mapping[str, pd.DataFrame | None]) -> pd.Timestamp:
    """First day of the first month of data: where the client's history begins.

    The first month of ``mrr`` (the subscription history); without it, of ``usage``;
    without either, the earliest date in ``touches``, ``tickets`` or ``surveys``. NaT when
    none of these is given. Tables that carry older records (onboarding milestones, account
    start dates) do not move it: the activity the features are built from starts here.
    """
    for name, col in (("mrr", "month"), ("usage", "month")):
        t = tables.get(name)
        if t is not None and has_values(t, col):
            return pd.Timestamp(pd.to_datetime(t[col]).min()).to_period("M").to_timestamp()
    firsts = [
        pd.to_datetime(t[col]).min()
        for name, col in (("touches", "date"), ("tickets", "opened_at"), ("surveys", "date"))
        if (t := tables.get(name)) is not None and has_values(t, col)
    ]
    return pd.Timestamp(min(firsts)).to_period("M").to_timestamp() if firsts else pd.NaT


def history_days(
    *,
    contact_days_cap: int,
    nps_lookback_days: int | None,
    usage_days: int = USAGE_LOOKBACK_DAYS,
) -> int:
    """The longest look-back any feature takes before its cut-off (days).

    ``max(contact_days_cap, nps_lookback_days, TICKET_WINDOW_DAYS, usage_days)``: days since
    the last contact count back up to the cap, the last NPS answer within its look-back,
    tickets within their window, usage over about 5 months. Without an NPS look-back (any
    answer counts) the NPS feature is left out of the maximum.
    """
    return int(max(contact_days_cap, nps_lookback_days or 0, TICKET_WINDOW_DAYS, usage_days))


def drop_short_history(
    table: pd.DataFrame, start: pd.Timestamp | str | None, lookback_days: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Leave out decisions whose features would rest on history the data does not hold.

    Rule: a decision is left out when its ``cutoff_date - lookback_days`` precedes ``start``
    (the first month of data, :func:`data_start`). Its features would otherwise count
    contacts, tickets or answers that happened before the export began as "none" (e.g. 180
    days without an executive contact for an account called every month).

    Returns
    -------
    kept : DataFrame
        The rows of ``table`` that have the full look-back inside the data (index kept).
    info : dict
        ``data_start`` (date), ``lookback_days``, ``first_cutoff`` (earliest cut-off kept:
        ``data_start + lookback_days``), ``excluded`` and ``kept`` (counts),
        ``excluded_not_renewed`` (non-renewals among the excluded).
    """
    if start is None or pd.isna(start):
        info = {"data_start": None, "lookback_days": lookback_days, "first_cutoff": None,
                "excluded": 0, "kept": len(table), "excluded_not_renewed": 0}
        return table, info
    start_ts = pd.Timestamp(start)
    first_cutoff = start_ts + pd.Timedelta(days=lookback_days)
    short = pd.to_datetime(table["cutoff_date"]) < first_cutoff
    renewed = as_numeric(table["renewed"]) if "renewed" in table else pd.Series(np.nan)
    info = {
        "data_start": start_ts,
        "lookback_days": int(lookback_days),
        "first_cutoff": first_cutoff,
        "excluded": int(short.sum()),
        "kept": int((~short).sum()),
        "excluded_not_renewed": int((renewed[short] == 0).sum()) if "renewed" in table else 0,
    }
    return table.loc[~short], info
