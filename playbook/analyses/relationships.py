"""Relationship risk: who the client knows at each customer, how recently, and the four
relationship-risk flags (renewal without an executive touch, single-threaded, adoption without
user ties, a usage drop without user contact), with their summaries.

Pure functions on the canonical frames of :mod:`playbook.contract` (``accounts``,
``contacts``, ``touches``, ``usage``), with the conventions of
:mod:`playbook.analyses.account_state`; also reachable as ``health.relationship_flags`` etc.
(:mod:`playbook.analyses.health` re-exports them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playbook.analyses.account_state import (
    DateLike,
    active_accounts,
    as_timestamp,
    date_column,
    usage_snapshot,
)
from playbook.analyses.touch_contacts import touch_contact_codes
from playbook.membership import positions_in_slices
from playbook.read_only import kept_result

EXECUTIVE_SENIORITY = ("c_level", "vp", "director")
USER_ROLES = ("user", "champion")


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
    triggers: pd.DataFrame | None = None,
    champion_days: int | None = None,
) -> pd.DataFrame:
    """Relationship metrics and the relationship risk flags of every active account (four,
    and a fifth with ``triggers``).

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
    triggers : DataFrame, optional
        Canonical ``triggers``; with it (and ``champion_days``) the fifth flag,
        ``flag_champion_left_no_exec``, is computed (otherwise the column is absent).
    champion_days : int, optional
        ``triggers.churn_window_days``: a champion_left trigger this many days old or newer
        counts.

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
    ``flag_champion_left_no_exec`` (with ``triggers`` only)
        A ``champion_left`` trigger in the last ``champion_days`` days (up to ``as_of``) and
        no executive touch on or after the latest one: find the new sponsor.

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
    days = _days_since_contact(touches, people, as_of, ids, contacts=contacts)
    out["days_since_user_contact"] = days["user"]
    out["days_since_exec_contact"] = days["exec"]
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
    if triggers is not None and champion_days is not None:
        out["flag_champion_left_no_exec"] = _champion_left_no_exec(
            triggers, out["days_since_exec_contact"], as_of, champion_days)
    flag_cols = [c for c in out if c.startswith("flag_")]
    out["flags"] = out[flag_cols].fillna(False).astype(int).sum(axis=1)
    return out


def _champion_left_no_exec(triggers: pd.DataFrame, days_since_exec: pd.Series,
                           as_of: pd.Timestamp, days: int) -> pd.Series:
    """True where the latest champion_left trigger is at most ``days`` old and no executive
    touch is dated on or after it (days since the touch > days since the trigger)."""
    t = triggers[(triggers["type"].astype(str) == "champion_left")
                 & (triggers["date"] <= as_of)
                 & (triggers["date"] > as_of - pd.Timedelta(days=days))]
    latest = t.groupby(t["account_id"].astype(str))["date"].max()
    since = (as_of - latest).dt.days.astype(float).reindex(days_since_exec.index.astype(str))
    since.index = days_since_exec.index
    no_exec = ~(days_since_exec <= since)
    return pd.array(since.notna() & no_exec, dtype="boolean")


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


#: Touches matched to their accounts at a time by :func:`_days_since_contact` (their
#: contacts: :mod:`playbook.analyses.touch_contacts`, by slices as well): their arrays per
#: touch (the IDs' codes, dates, masks: about 45 bytes a touch) then stay within about 45
#: MB however many touches. The account IDs are hashed once for all the chunks
#: (:func:`playbook.membership.positions_in_slices`): hashed again for each, the IDs took
#: 48 of the relationship flags' 56 s at 1,000,000 accounts.
TOUCH_CHUNK = 1_000_000

#: The kinds of a touch's contact in :func:`_touch_kinds` (bits), by kind.
_KIND_BITS = {"user": 1, "exec": 2}


def _touch_kinds(touches: pd.DataFrame, people: pd.DataFrame,
                 contacts: pd.DataFrame | None = None) -> np.ndarray:
    """Per touch (in ``touches`` order), the kinds of its contact as bits
    (:data:`_KIND_BITS`: a user contact, an executive contact, both or neither), -1 when
    its ``contact_id`` is blank or no contact row's: a touch is of a kind when a contact row
    of its ``contact_id`` is (``people``: :func:`_classify_contacts` of ``contacts``, row
    for row; without ``contacts``, ``people`` is matched). The touches' contacts are
    matched as integer codes once for the run
    (:func:`playbook.analyses.touch_contacts.touch_contact_codes`, which the renewal
    model's features read too). Independent of any date: kept per touches table (int8, a
    byte a touch)."""
    code, touch_code = touch_contact_codes(touches, people if contacts is None else contacts)
    listed = code >= 0
    distinct = int(code.max()) + 1 if listed.any() else 0
    bits = np.zeros(distinct, dtype=np.int8)
    for kind, bit in _KIND_BITS.items():
        of_kind = np.bincount(code[listed], weights=people[f"is_{kind}"].to_numpy(
            dtype=float)[listed], minlength=distinct) > 0
        bits[of_kind] |= bit
    out = np.full(len(touches), -1, dtype=np.int8)
    known = touch_code >= 0
    out[known] = bits[touch_code[known]]
    return out


def _days_since_contact(
    touches: pd.DataFrame, people: pd.DataFrame, as_of: pd.Timestamp, ids: pd.Index, *,
    contacts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Days since the latest touch on or before ``as_of`` with a user / an executive
    contact, per account of ``ids`` (NaN without one): a touch counts for a kind when a
    contact row of its ``contact_id`` is of that kind (:func:`_touch_kinds`, kept per
    touches table when ``contacts``, the table ``people`` was classified from, is given and
    both are read-only: a second date matches no contact again). Accounts are matched as
    integer codes (:func:`playbook.membership.positions_in_slices`), not joined as
    strings, and the touches :data:`TOUCH_CHUNK` at a time (each kind's latest date per
    account the maximum over the chunks)."""
    kinds = (_touch_kinds(touches, people) if contacts is None else
             kept_result(touches, ("touch_kinds",),
                         lambda: _touch_kinds(touches, people, contacts),
                         copy=False, also=(contacts,)))
    wanted, accounts = pd.factorize(ids)
    never = np.iinfo(np.int64).min
    # the last slot: a blank ID (its code -1 reads it), never touched
    last = {kind: np.full(len(accounts) + 1, never) for kind in _KIND_BITS}
    for start, account in positions_in_slices(touches["account_id"], accounts, TOUCH_CHUNK):
        part = touches.iloc[start:start + TOUCH_CHUNK]
        date = date_column(part, "date")
        bits = kinds[start:start + len(part)]
        use = (date <= as_of).to_numpy(dtype=bool) & (bits >= 0) & (account >= 0)
        account, bits = account[use], bits[use]
        when = date.to_numpy(dtype="datetime64[ns]")[use].view(np.int64)
        for kind, bit in _KIND_BITS.items():
            flag = (bits & bit) != 0
            np.maximum.at(last[kind], account[flag], when[flag])
    day = np.datetime64(as_of.to_datetime64(), "ns").view(np.int64)
    out = {}
    for kind in _KIND_BITS:
        last_of = last[kind][wanted]
        seen = last_of > never
        days = np.full(len(ids), np.nan)
        days[seen] = (day - last_of[seen]) // pd.Timedelta(days=1).value
        out[kind] = days
    return pd.DataFrame(out, index=ids)


def _nullable(values: pd.Series, missing: pd.Series) -> pd.Series:
    """Boolean Series with ``<NA>`` where ``missing`` (the comparison had no data)."""
    out = values.astype("boolean")
    out[missing.to_numpy(dtype=bool)] = pd.NA
    return out


# --------------------------------------------------------------------------- summaries
FLAG_COLUMNS = (
    "flag_renewal_no_exec",
    "flag_single_threaded",
    "flag_adoption_no_users",
    "flag_drop_no_user_contact",
    "flag_champion_left_no_exec",
)


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
