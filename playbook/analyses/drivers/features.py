"""The features of the modelling table, one builder per source table (accounts, usage,
surveys, tickets, contacts, touches, onboarding, the client's declared variables).

Each builder takes the decisions frame of :func:`playbook.analyses.drivers.table.modelling_table`
(``_row``, ``account_id``, ``cutoff_date``), the canonical tables and the table's report; it
returns one column per feature it could build (indexed like the decisions) and records in
the report what it built, what it skipped and why, and its limitations. Only records dated
on or before each decision's cut-off are used (the rows ``_records_by_cutoff`` keeps). The
builders do not join every record to every decision of its account: records are sorted by
account (an integer code) and date once per table (:class:`~playbook.analyses.drivers.
prepared.SortedRecords`, kept per read-only table for every decision set a report builds)
and each decision finds its latest record (surveys, touches), its count of records
(onboarding steps) or its window's records (tickets, ``_records_in_window``) by binary
search; account and contact IDs are matched as codes (:func:`playbook.membership.
positions`), not by merging strings. The features and their units are listed in
:func:`~playbook.analyses.drivers.table.modelling_table`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from playbook import textfmt as tf
from playbook.analyses.drivers.columns import has_values, numeric_or_nan
from playbook.analyses.drivers.prepared import SortedRecords, search
from playbook.analyses.grouped import sums_by_key
from playbook.analyses.history import MONTHS
from playbook.analyses.touch_contacts import touch_contact_codes
from playbook.analyses.variables import Variable
from playbook.membership import positions
from playbook.read_only import kept_result

__all__ = [
    "CONTACT_FEATURES",
    "NOT_RECORDED",
    "NO_ANSWER",
    "NPS_LEVELS",
    "RECORDED_SUFFIX",
    "TICKET_FEATURES",
    "TICKET_WINDOW_DAYS",
    "USAGE_FEATURES",
    "account_features",
    "contact_features",
    "onboarding_features",
    "survey_features",
    "ticket_features",
    "touch_features",
    "usage_features",
    "variable_features",
]

DIRECTOR_PLUS = ("c_level", "vp", "director")
USER_ROLES = ("user", "champion")
HIGH_PRIORITIES = ("high", "urgent")

#: The canonical tables by name (a missing or None table skips its features).
Tables = Mapping[str, pd.DataFrame | None]
#: The modelling table's report (``built``, ``skipped``, ``notes``, ...), filled in by the
#: builders (see :func:`~playbook.analyses.drivers.table.modelling_table`).
Report = dict[str, Any]


def _skip(report: Report, features: Sequence[str], reason: str) -> None:
    """Record in the report that ``features`` were not built, and why."""
    for f in features:
        report["skipped"][f] = reason


def _built(report: Report, frame: pd.DataFrame) -> pd.DataFrame:
    """Record ``frame``'s columns as built features; return it."""
    report["built"].extend(frame.columns)
    return frame


def _provided(tables: Tables, name: str, report: Report, features: Sequence[str]
              ) -> pd.DataFrame | None:
    """The table ``name``, or None after recording ``features`` as skipped because it was
    not provided."""
    table = tables.get(name)
    if table is None:
        _skip(report, features, f"table '{name}' not provided")
    return table


def _records_by_cutoff(
    base: pd.DataFrame, records: pd.DataFrame, date_col: str, *, window_days: int | None = None
) -> pd.DataFrame:
    """Join records to decisions by account; keep those dated on or before the cut-off.

    With ``window_days`` keep only records in ``(cutoff - window_days, cutoff]``.
    """
    recs = records.copy()
    recs["account_id"] = recs["account_id"].astype("string")
    recs[date_col] = pd.to_datetime(recs[date_col])
    joined = base[["_row", "account_id", "cutoff_date"]].merge(recs, on="account_id")
    keep = joined[date_col] <= joined["cutoff_date"]
    if window_days is not None:
        keep &= joined[date_col] > joined["cutoff_date"] - pd.Timedelta(days=window_days)
    return joined.loc[keep]


def _records_in_window(base: pd.DataFrame, records: pd.DataFrame, date_col: str, *,
                       window_days: int) -> pd.DataFrame:
    """The rows of :func:`_records_by_cutoff` with ``window_days`` (records dated in
    ``(cutoff - window_days, cutoff]``), in the same order (by decision, then as in
    ``records``), found by binary search in the records sorted by account and date
    (:class:`~playbook.analyses.drivers.prepared.SortedRecords`, kept per read-only table)
    rather than by joining every record to every decision of its account. The index is a
    fresh range. Records without a date or an account, and decisions without a cut-off,
    match nothing.
    """
    ordered = _window_prepared(records, date_col)
    lo, hi = ordered.window(base, window_days)
    n = hi - lo
    rows = np.repeat(np.arange(len(base)), n)
    offsets = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    picked = ordered.order[np.repeat(lo, n) + offsets]
    by = np.lexsort((picked, rows))  # each decision's records in their own order
    rows, picked = rows[by], picked[by]
    out = base[["_row", "account_id", "cutoff_date"]].iloc[rows].reset_index(drop=True)
    rest = records.drop(columns="account_id").iloc[picked].reset_index(drop=True)
    rest[date_col] = pd.to_datetime(rest[date_col])
    return pd.concat([out, rest], axis=1)


#: The columns of ``accounts`` :func:`account_features` reads.
ACCOUNT_COLUMNS = ("start_date", "products", "arr", "segment")


def account_features(base: pd.DataFrame, accounts: pd.DataFrame, report: Report
                     ) -> pd.DataFrame:
    """From ``accounts``: ``tenure_years`` (years of 365.25 days from the start to the
    cut-off), ``products`` (count), ``contract_value`` (money; ``renewals.arr_before``, else
    the current ``accounts.arr``), ``log2_contract_value`` and ``segment`` (text)."""
    acc = accounts.drop_duplicates("account_id")
    # only the columns read below are joined (the accounts table may have many more)
    acc = acc[[c for c in ("account_id", *ACCOUNT_COLUMNS) if c in acc]].copy()
    acc["account_id"] = acc["account_id"].astype("string")
    joined = base[["_row", "account_id", "cutoff_date"]].merge(acc, on="account_id", how="left")
    joined.index = joined["_row"].to_numpy()
    out = pd.DataFrame(index=base.index)
    if has_values(joined, "start_date"):
        days = (joined["cutoff_date"] - pd.to_datetime(joined["start_date"])).dt.days
        out["tenure_years"] = days / 365.25
    else:
        _skip(report, ["tenure_years"], "accounts.start_date is empty")
    if has_values(joined, "products"):
        out["products"] = pd.to_numeric(joined["products"], errors="coerce").astype(float)
    else:
        _skip(report, ["products"], "accounts.products is missing or empty")
    contract = numeric_or_nan(base, "arr_before")
    if contract.notna().any():
        report["notes"].append("contract_value = renewals.arr_before (ARR before the decision).")
    if contract.isna().any() and has_values(joined, "arr"):
        n_fill = int(contract.isna().sum())
        contract = contract.fillna(pd.to_numeric(joined["arr"], errors="coerce").astype(float))
        report["notes"].append(
            f"contract_value of {tf.plural(n_fill, 'decision')} is accounts.arr, a current "
            "snapshot (for "
            "churned accounts possibly their last or zero ARR)."
        )
    if contract.notna().any():
        out["contract_value"] = contract
        out["log2_contract_value"] = np.log2(contract.where(contract > 0))
    else:
        _skip(report, ["contract_value", "log2_contract_value"],
              "neither renewals.arr_before nor accounts.arr given")
    if has_values(joined, "segment"):
        out["segment"] = joined["segment"].astype("string")
    else:
        _skip(report, ["segment"], "accounts.segment is missing or empty")
    if {"products", "segment"} & set(out.columns):
        report["notes"].append(
            "products and segment are current snapshots from accounts, not values at the "
            "cut-off."
        )
    return _built(report, out)


USAGE_FEATURES = (
    "active_users",
    "active_users_change_3m",
    "usage_change_share_3m",
    "usage_decline",
    "seat_utilisation",
)


def usage_features(base: pd.DataFrame, tables: Tables, report: Report, *,
                   usage_drop_share: float) -> pd.DataFrame | None:
    """From ``usage``: active users in the last complete month on or before the cut-off,
    their change over 3 months (count and share), ``usage_decline`` (fell by more than
    ``usage_drop_share``, a share) and ``seat_utilisation`` (share of licensed seats)."""
    usage = _provided(tables, "usage", report, USAGE_FEATURES)
    if usage is None:
        return None
    if not has_values(usage, "active_users"):
        _skip(report, USAGE_FEATURES, "usage.active_users is missing or empty")
        return None
    ids, keys, sums = _usage_prepared(usage)
    key_code = keys // MONTHS
    # the last complete month on or before the cut-off: its last day is on or before it
    cut = base["cutoff_date"]
    partial = (cut.dt.day < cut.dt.days_in_month).to_numpy(dtype=bool)  # before its last day
    bound = (cut.dt.year * 12 + cut.dt.month - 1).to_numpy(dtype=float) - partial
    decided = (cut.notna() & base["account_id"].notna()).to_numpy()
    code = np.full(len(base), -1, dtype=np.int64)
    code[decided] = positions(base["account_id"].astype("string")[decided], ids)
    asked = np.flatnonzero(code >= 0)
    pos = search(keys, code[asked] * MONTHS + bound[asked].astype(np.int64), "right") - 1
    hit = pos >= 0
    hit[hit] = key_code[pos[hit]] == code[asked][hit]
    rows, last = base.index[asked[hit]], pos[hit]
    out = pd.DataFrame(index=base.index)
    out["active_users"] = pd.Series(sums["active_users"][last], index=rows)
    # the same account's month three months earlier (on or before the cut-off, too)
    want = keys[last] - 3
    at = np.minimum(search(keys, want), max(len(keys) - 1, 0))
    earlier = np.where(keys[at] == want, sums["active_users"][at], np.nan) if len(at) else \
        np.zeros(0)
    before = pd.Series(earlier, index=rows)
    out["active_users_change_3m"] = out["active_users"] - before
    share = out["active_users_change_3m"] / before.where(before > 0)
    out["usage_change_share_3m"] = share
    out["usage_decline"] = (share < -usage_drop_share).astype("boolean").mask(share.isna())
    if has_values(usage, "licensed_seats"):
        seats = pd.Series(sums["licensed_seats"][last], index=rows)
        out["seat_utilisation"] = out["active_users"] / seats.where(seats > 0)
    else:
        out = out.drop(columns=[c for c in ["seat_utilisation"] if c in out])
        _skip(report, ["seat_utilisation"], "usage.licensed_seats is missing or empty")
    return _built(report, out)


def _usage_sums(usage: pd.DataFrame) -> tuple[pd.Index, np.ndarray, dict[str, np.ndarray]]:
    """Each account-month's active users and licensed seats summed (blank when all blank),
    sorted by account and month: the distinct account IDs, the keys (account code x
    :data:`~playbook.analyses.history.MONTHS` + month number) and the sums by column.
    Independent of the decisions: worked out once per usage table
    (:func:`~playbook.read_only.kept_result`)."""
    month = pd.to_datetime(usage["month"])
    known = (month.notna() & usage["account_id"].notna()).to_numpy()
    month = month[known]
    account, ids = pd.factorize(usage["account_id"][known].astype("string"))
    number = (month.dt.year * 12 + month.dt.month - 1).to_numpy(dtype=np.int64)
    measures = [c for c in ("active_users", "licensed_seats") if c in usage]
    values = pd.DataFrame({c: pd.to_numeric(usage[c][known], errors="coerce").astype(float)
                           for c in measures})
    keys, sums = sums_by_key(account.astype(np.int64) * MONTHS + number, values,
                             min_count=1)
    for v in (keys, *sums.values()):
        v.flags.writeable = False
    return ids, keys, sums


#: The level of a survey feature for a decision with no answer in the look-back.
NO_ANSWER = "no answer"
#: The levels of ``nps_detractor`` as its own-level coding has them (the first is the
#: reference the others are compared with).
NPS_LEVELS = ("not a detractor", "detractor", NO_ANSWER)
#: The level of a categorical client variable whose value the export leaves blank.
NOT_RECORDED = "not recorded"
#: An accounts variable ``var_<key>`` may come with the date each value was recorded, in the
#: column ``var_<key>_recorded`` (params ``variables.<key>.recorded``; the loader names it
#: so). A value recorded after a decision's cut-off may carry the outcome: the leakage guard
#: (:mod:`playbook.analyses.drivers.leakage`) leaves such a variable out.
RECORDED_SUFFIX = "_recorded"


def survey_features(base: pd.DataFrame, tables: Tables, report: Report, *, low_nps: float,
                    lookback_days: int | None, no_answer: str) -> pd.DataFrame | None:
    """From ``surveys``: the last NPS and CSAT answers on or before the cut-off (within
    ``lookback_days`` when given) and ``nps_detractor`` (last NPS at or below ``low_nps``).

    ``no_answer`` says what ``nps_detractor`` is without an answer: ``"own_level"`` (the
    default) makes it a categorical feature with the levels of :data:`NPS_LEVELS`, so a
    decision without an answer has its own odds ratio against answered non-detractors and
    is never counted as either answer; ``"missing"`` leaves it blank (the decision drops
    out of a model using it); ``"not_detractor"`` / ``"detractor"`` count it as one (the
    first is favourable to silence: avoid unless the client knows non-response means
    content)."""
    names = {"nps": ["last_nps", "nps_detractor"], "csat": ["last_csat"]}
    surveys = _provided(tables, "surveys", report, names["nps"] + names["csat"])
    if surveys is None:
        return None
    out = pd.DataFrame(index=base.index)
    answered = [col for col in names if has_values(surveys, col)]
    by_column = _survey_prepared(surveys, answered)
    for col, feats in names.items():
        if col not in answered:
            _skip(report, feats, f"surveys.{col} is missing or empty")
            continue
        # the latest answer on or before the cut-off; when it is older than the look-back,
        # every other answer is too
        rows, picked, unit = by_column[col].latest(base)
        latest = surveys[col].iloc[picked].astype(float).set_axis(base.index[rows])
        if lookback_days is not None:
            when = pd.to_datetime(surveys["date"]).to_numpy(dtype=unit)[picked]
            start = (base["cutoff_date"] - pd.Timedelta(days=lookback_days)).to_numpy(
                dtype=unit)[rows]
            latest = latest[when > start]
        out[feats[0]] = latest
        if col == "nps":
            detractor = (out["last_nps"] <= low_nps).astype("boolean")
            if no_answer == "own_level":
                out["nps_detractor"] = _nps_levels(detractor, out["last_nps"].isna())
                continue
            if no_answer == "missing":
                detractor = detractor.mask(out["last_nps"].isna())
            else:
                detractor = detractor.mask(out["last_nps"].isna(), no_answer == "detractor")
            out["nps_detractor"] = detractor
    return _built(report, out)


def _nps_levels(detractor: pd.Series, unanswered: pd.Series) -> pd.Series:
    """``nps_detractor`` as a categorical of :data:`NPS_LEVELS` (reference: not a
    detractor; a decision without an answer is ``no answer``)."""
    text = np.where(unanswered, NO_ANSWER,
                    np.where(detractor.fillna(False).astype(bool), NPS_LEVELS[1], NPS_LEVELS[0]))
    return pd.Series(pd.Categorical(text, categories=list(NPS_LEVELS)), index=detractor.index)


TICKET_FEATURES = ("tickets_90d", "high_priority_tickets_90d", "ticket_hours_90d")
#: Days up to the cut-off whose tickets the ticket features count (in their names: 90d).
TICKET_WINDOW_DAYS = 90


def ticket_features(base: pd.DataFrame, tables: Tables, report: Report, *,
                    window_days: int) -> pd.DataFrame | None:
    """From ``tickets`` opened in the ``window_days`` up to the cut-off: tickets, of which
    high or urgent priority (counts), and hours spent on those closed by the cut-off."""
    tickets = _provided(tables, "tickets", report, TICKET_FEATURES)
    if tickets is None:
        return None
    recs = _records_in_window(base, tickets, "opened_at", window_days=window_days)
    grouped = recs.groupby("_row")
    out = pd.DataFrame(index=base.index)
    out["tickets_90d"] = grouped.size().reindex(base.index, fill_value=0).astype(float)
    if has_values(tickets, "priority"):
        high = recs["priority"].astype("string").str.lower().isin(HIGH_PRIORITIES)
        out["high_priority_tickets_90d"] = (
            high.groupby(recs["_row"]).sum().reindex(base.index, fill_value=0).astype(float)
        )
    else:
        _skip(report, ["high_priority_tickets_90d"], "tickets.priority is missing or empty")
    if has_values(tickets, "hours_spent"):
        closed = pd.to_datetime(recs["closed_at"]) if "closed_at" in recs else None
        done = closed.notna() & (closed <= recs["cutoff_date"]) if closed is not None else True
        hours = pd.to_numeric(recs["hours_spent"], errors="coerce").fillna(0).where(done, 0)
        out["ticket_hours_90d"] = (
            hours.groupby(recs["_row"]).sum().reindex(base.index, fill_value=0).astype(float)
        )
    else:
        _skip(report, ["ticket_hours_90d"], "tickets.hours_spent is missing or empty")
    return _built(report, out)


CONTACT_FEATURES = (
    "strong_user_relationships",
    "exec_relationships",
    "strong_exec_relationships",
    "exec_sponsor",
)


def _classified_contacts(contacts: pd.DataFrame) -> pd.DataFrame:
    """``contacts`` with ``_role`` (lower case), ``_is_user`` (role user or champion),
    ``_exec_role`` (role executive), ``_director_plus`` (seniority director or above) and
    ``_strong`` (a strong relationship)."""
    c = contacts.copy()
    c["account_id"] = c["account_id"].astype("string")
    role = c["role"].astype("string").str.lower() if "role" in c else pd.Series(pd.NA, c.index)
    seniority = (
        c["seniority"].astype("string").str.lower() if "seniority" in c
        else pd.Series(pd.NA, c.index)
    )
    strength = (
        c["relationship_strength"].astype("string").str.lower()
        if "relationship_strength" in c else pd.Series(pd.NA, c.index)
    )
    director_plus = seniority.isin(DIRECTOR_PLUS).fillna(False).astype(bool)
    strong = strength.eq("strong").fillna(False).astype(bool)
    c["_role"] = role
    c["_is_user"] = role.isin(USER_ROLES).fillna(False).astype(bool)
    c["_exec_role"] = role.eq("executive").fillna(False).astype(bool)
    c["_director_plus"] = director_plus
    c["_strong"] = strong
    return c


def contact_features(base: pd.DataFrame, tables: Tables, report: Report, *,
                     sponsor_roles: tuple[str, ...]) -> pd.DataFrame | None:
    """From ``contacts`` (undated: the current list): strong user relationships, director-
    level-or-above relationships and of which strong (counts), ``exec_sponsor`` (boolean)."""
    contacts = _provided(tables, "contacts", report, CONTACT_FEATURES)
    if contacts is None:
        return None
    c = _classified_contacts(contacts)
    sponsor = (c["_strong"] & c["_director_plus"]
               & c["_role"].isin(sponsor_roles).fillna(False).astype(bool))
    kinds = {
        "strong_user_relationships": (c["_is_user"] & c["_strong"]),
        "exec_relationships": c["_director_plus"],
        "strong_exec_relationships": c["_director_plus"] & c["_strong"],
        "exec_sponsor": sponsor,
    }
    # contacts of each kind per account, looked up by each decision's account (integer
    # codes; a decision whose account lists no contact counts 0 of each)
    code, ids = pd.factorize(c["account_id"])
    listed = code >= 0
    where = positions(base["account_id"].astype("string"), ids)
    found = where >= 0
    out = pd.DataFrame(index=base.index)
    for name, kind in kinds.items():
        per_account = np.bincount(code[listed], weights=kind.to_numpy(dtype=float)[listed],
                                  minlength=len(ids))
        out[name] = np.where(found, per_account[np.where(found, where, 0)], 0.0) \
            if len(ids) else 0.0
    out["exec_sponsor"] = (out["exec_sponsor"] > 0).astype("boolean")
    report["notes"].append(
        "Contacts carry no dates: the current contact list is taken as known at every "
        "cut-off (relationships built or lost later are treated as already there)."
    )
    return _built(report, out)


def touch_features(base: pd.DataFrame, tables: Tables, report: Report, *,
                   cap_days: int, exec_by_seniority: bool) -> pd.DataFrame | None:
    """From ``touches`` joined to ``contacts``: days from the last user and the last
    executive contact to the cut-off, capped at ``cap_days`` (no contact = the cap)."""
    names = ["days_since_user_contact", "days_since_exec_contact"]
    touches, contacts = _provided(tables, "touches", report, names), tables.get("contacts")
    if touches is None:
        return None
    if contacts is None or "contact_id" not in touches:
        _skip(report, names, "touches need the contacts table (joined by contact_id) to tell "
              "user from executive contacts")
        return None
    unused, by_kind = _touch_prepared(touches, contacts, exec_by_seniority)
    if unused:
        report["notes"].append(
            f"{unused} touch(es) without a contact_id found in contacts were not used for the "
            "days-since-contact features."
        )
    out = pd.DataFrame(index=base.index)
    latest = {name: by_kind[name].latest_dates(base) for name in names}
    for name in names:
        days = (base["cutoff_date"] - latest[name]).dt.days
        out[name] = days.clip(upper=cap_days).fillna(cap_days).astype(float)
    report["notes"].append(
        f"Days since last contact are capped at {cap_days}; no logged contact in that time "
        f"(or ever) counts as {cap_days}."
    )
    return _built(report, out)


def _touch_records(touches: pd.DataFrame, contacts: pd.DataFrame, exec_by_seniority: bool
                   ) -> tuple[int, dict[str, SortedRecords]]:
    """The touches not used (their contact_id is blank or not in ``contacts``: count) and,
    per feature of :func:`touch_features`, the touches of its kind (user contacts,
    executive contacts) sorted by account and date: what does not depend on the
    decisions, worked out once per touches table (:func:`~playbook.read_only.kept_result`)."""
    c = _classified_contacts(contacts)
    c["_is_exec"] = ((c["_director_plus"] | c["_exec_role"]) if exec_by_seniority
                     else c["_exec_role"])
    c = c[["contact_id", "_is_user", "_is_exec"]]
    # each touch's contact: the first row of its contact_id (blank or unknown: not used),
    # matched once for the run (the relationship flags match the same codes)
    code, contact = touch_contact_codes(touches, contacts)
    first = np.unique(code[code >= 0], return_index=True)[1]
    c = c.iloc[np.flatnonzero(code >= 0)[first]]
    used = contact >= 0
    # each touch's kinds (a touch without a known contact is of neither)
    kinds = {}
    for name, flag in zip(("days_since_user_contact", "days_since_exec_contact"),
                          ["_is_user", "_is_exec"], strict=True):
        kinds[name] = used.copy()
        kinds[name][used] = c[flag].to_numpy(dtype=bool)[contact[used]]
    return int((~used).sum()), SortedRecords.by_kind(touches["account_id"], touches["date"],
                                                     kinds)


def onboarding_features(base: pd.DataFrame, tables: Tables, report: Report, *,
                        final_step: str | None) -> pd.DataFrame | None:
    """From ``onboarding``: distinct steps completed by the cut-off (count), and
    ``onboarding_incomplete`` (``final_step`` not done by then; boolean) when it is given."""
    onboarding = _provided(tables, "onboarding", report,
                           ["onboarding_steps", "onboarding_incomplete"])
    if onboarding is None:
        return None
    steps = _onboarding_prepared(onboarding, final_step)
    out = pd.DataFrame({"onboarding_steps": steps["steps"].counts(base)}, index=base.index)
    if final_step is None:
        _skip(report, ["onboarding_incomplete"], "no final_onboarding_step given")
    else:
        done_by_cutoff = steps["final"].counts(base) > 0
        out["onboarding_incomplete"] = pd.array(~done_by_cutoff, dtype="boolean")
    return _built(report, out)


def _onboarding_records(onboarding: pd.DataFrame, final_step: str | None
                        ) -> dict[str, SortedRecords]:
    """Each account's first completion of each named step, sorted by account and date:
    ``steps`` (all of them) and, with ``final_step``, ``final`` (that step's). A step
    counts at a cut-off once its first completion is on or before it. Worked out once per
    onboarding table (:func:`~playbook.read_only.kept_result`)."""
    done = pd.DataFrame({"account_id": onboarding["account_id"].astype("string"),
                         "step": onboarding["step"],
                         "date": pd.to_datetime(onboarding["completed_date"])})
    done = done[done["date"].notna().to_numpy() & done["step"].notna().to_numpy()]
    first = done.groupby(["account_id", "step"], sort=False)["date"].min().reset_index()
    kinds: dict[str, np.ndarray | None] = {"steps": None}
    if final_step is not None:
        kinds["final"] = (first["step"].astype("string") == final_step).fillna(
            False).to_numpy(dtype=bool)
    return SortedRecords.by_kind(first["account_id"], first["date"], kinds)


def variable_features(base: pd.DataFrame, tables: Tables, report: Report, *,
                      variables: Sequence[Variable]) -> pd.DataFrame | None:
    """One feature per declared client variable, named by its label (see
    :func:`modelling_table`)."""
    if not variables:
        return None
    out = pd.DataFrame(index=base.index)
    snapshot = []
    for var in variables:
        source = tables.get(var.table)
        if source is None or not has_values(source, var.column):
            why = (f"table '{var.table}' not provided" if source is None else
                   f"{var.table} has no value of variables.{var.key}")
            _skip(report, [var.label], why)
            continue
        if var.table == "usage":
            values = _usage_variable(base, source, var.column)
        else:
            acc = source.drop_duplicates("account_id")
            by_id = acc.set_index(acc["account_id"].astype("string"))[var.column]
            values = base["account_id"].map(by_id)
            snapshot.append(var.label)
            after = _recorded_after_cutoff(base, acc, var.column + RECORDED_SUFFIX)
            if after is not None:
                report["recorded_after_cutoff"][var.label] = after
        out[var.label] = _variable_feature(values, var)
        if var.kind != "numeric" and var.reference is not None and \
                not values.astype("string").eq(var.reference).any():
            report["notes"].append(
                f"{var.label}: no decision has the reference level '{var.reference}'; its "
                "levels are compared with the most common one instead.")
        report["variables"][var.key] = var.label
        if var.kind == "numeric":
            report["units"][var.label] = (var.scale, var.unit_text)
    if snapshot:
        report["notes"].append(
            f"{', '.join(snapshot)}: the accounts file's current value"
            f"{'s' if len(snapshot) > 1 else ''}, not the value at the cut-off.")
    return _built(report, out)


def _recorded_after_cutoff(base: pd.DataFrame, accounts: pd.DataFrame, column: str
                           ) -> float | None:
    """Share (0-1) of decisions whose account's value was recorded after the decision's
    cut-off, from the recording date in ``accounts[column]`` (None when the accounts carry
    no such date; a decision without a date is not counted as late)."""
    if not has_values(accounts, column):
        return None
    when = pd.to_datetime(accounts.set_index(accounts["account_id"].astype("string"))[column])
    recorded = base["account_id"].map(when)
    return float((recorded > base["cutoff_date"]).mean()) if len(base) else 0.0


def _usage_variable(base: pd.DataFrame, usage: pd.DataFrame, column: str) -> pd.Series:
    """A usage variable's value in the last complete month on or before each cut-off."""
    u = usage.dropna(subset=[column])[["account_id", "month", column]].copy()
    u["_month_end"] = pd.to_datetime(u["month"]).dt.to_period("M").dt.to_timestamp() \
        + pd.offsets.MonthEnd(0)
    recs = _records_by_cutoff(base, u, "_month_end")
    last = recs.sort_values("_month_end", kind="stable").groupby("_row")[column].last()
    return last.reindex(base.index)


def _variable_feature(values: pd.Series, var: Variable) -> pd.Series:
    """Numeric: floats. Categorical: a pandas categorical whose first category is the
    declared reference level (present in the values), else plain text (the model then
    compares with the most common level). A blank categorical value is its own level,
    :data:`NOT_RECORDED` (its own odds ratio; never merged with a level it may not be)."""
    if var.kind == "numeric":
        return pd.to_numeric(values, errors="coerce").astype(float)
    text = values.astype("string")
    levels = sorted(text.dropna().unique())
    if text.isna().any() and len(levels):
        text = text.fillna(NOT_RECORDED)
    if var.reference is None or var.reference not in levels:
        return text
    order = [var.reference, *(lvl for lvl in sorted(text.dropna().unique())
                              if lvl != var.reference)]
    return pd.Series(pd.Categorical(text.astype(object).where(text.notna(), None),
                                    categories=order), index=values.index)


# --------------------------------------------------------------------------- prepared records
# What each builder works out from its source table before it looks at any decision (IDs
# matched, records sorted by account and date), kept per read-only table and computed once
# for all the kernels of a run (:func:`_prepared`).


def _prepared(frame: pd.DataFrame, key: tuple, compute: Callable[[], Any], *,
              also: tuple[pd.DataFrame | None, ...] = ()) -> Any:
    """``compute()`` kept for ``(frame, key)`` (:func:`~playbook.read_only.kept_result`,
    not copied: the builders only read it) and, for the run's stored tables, computed once
    for all the run's kernels (``across_kernels``: the renewal model's table in one
    kernel, the expansion model's in another, the renewals due in a third, all from the
    same records; a pickle read back costs a fraction of preparing them: 0.004 s against
    1.6 s for the touches by kind at 100,000 accounts)."""
    return kept_result(frame, key, compute, copy=False, also=also, across_kernels=True)


def _usage_prepared(usage: pd.DataFrame) -> tuple[pd.Index, np.ndarray, dict[str, np.ndarray]]:
    """:func:`_usage_sums` of ``usage``, kept (:func:`_prepared`)."""
    return _prepared(usage, ("usage_sums",), lambda: _usage_sums(usage))


def _survey_prepared(surveys: pd.DataFrame, answered: Sequence[str]
                     ) -> dict[str, SortedRecords]:
    """Per answered survey column, its answers sorted by account and date, kept
    (:func:`_prepared`)."""
    return _prepared(surveys, ("survey_records", *answered), lambda: (
        SortedRecords.by_kind(surveys["account_id"], surveys["date"],
                              {col: surveys[col].notna().to_numpy(dtype=bool)
                               for col in answered})))


def _window_prepared(records: pd.DataFrame, date_col: str) -> SortedRecords:
    """``records`` sorted by account and ``date_col`` (:func:`_records_in_window`), kept
    (:func:`_prepared`)."""
    return _prepared(records, ("records_by_date", date_col), lambda: (
        SortedRecords.of(records["account_id"], records[date_col])))


def _touch_prepared(touches: pd.DataFrame, contacts: pd.DataFrame, exec_by_seniority: bool
                    ) -> tuple[int, dict[str, SortedRecords]]:
    """:func:`_touch_records`, kept (:func:`_prepared`; while ``contacts`` is the same
    read-only table too)."""
    return _prepared(touches, ("touch_records", exec_by_seniority),
                     lambda: _touch_records(touches, contacts, exec_by_seniority),
                     also=(contacts,))


def _onboarding_prepared(onboarding: pd.DataFrame, final_step: str | None
                         ) -> dict[str, SortedRecords]:
    """:func:`_onboarding_records`, kept (:func:`_prepared`)."""
    return _prepared(onboarding, ("onboarding_records", final_step),
                     lambda: _onboarding_records(onboarding, final_step))
