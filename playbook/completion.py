"""The accounts table completed from the other tables, once every table is loaded.

What the accounts file lacks is derived and logged: start date, status, churn date and MRR
from billing, churn events from billing when there is no churn table, ``mrr`` from ``arr``
(or the reverse), churn dates from churn events, contract terms from contract types. What
the tables say against each other about an account's lifecycle (active accounts with
churn events and no return in billing, churned accounts without an event, renewal dates
in the past) is logged with the findings it weakens.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playbook import textfmt as tf
from playbook.billing import lifecycle_from_billing
from playbook.client_data import LoadFacts
from playbook.contracts import (
    renewal_dates_look_like_last,
    stale_renewal_dates,
    terms_from_types,
)
from playbook.membership import is_in
from playbook.quality import QualityLog


def complete_accounts(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp | None,
                      log: QualityLog, facts: LoadFacts, churn_date_rule: str,
                      renewal_date_means: str) -> None:
    """Fill derivable account fields and log contradictions between tables.

    ``tables["accounts"]`` is replaced by the completed table (and ``churn_events`` added
    when billing supplies them); ``churn_date_rule`` is ``churn.churn_date_from_billing``,
    ``renewal_date_means`` ``contracts.renewal_date_means`` of the params.

    * start date, status, churn date and MRR from billing when the accounts file lacks
      them (:func:`lifecycle_from_accounts_billing`), and churn events with the reason
      "unknown" when there is no churn table;
    * ``mrr`` from ``arr / 12`` (and the reverse) when only one is given;
    * ``churn_date`` from the latest churn event when blank, for accounts not flagged
      active (an active account with churn events came back; it is logged, not churned);
    * ``status`` from ``churn_date`` when blank;
    * a warning on active accounts' past renewal dates, as ``renewal_date_means`` reads them
      (:func:`check_renewal_dates`).
    """
    acc = tables["accounts"]
    for col in ("arr", "mrr", "churn_date", "status", "products", "start_date"):
        if col not in acc:
            acc[col] = pd.Series(dtype={"churn_date": "datetime64[ns]", "status": "str",
                                        "start_date": "datetime64[ns]",
                                        "products": "Int64"}.get(col, "float"),
                                 index=acc.index)
    if as_of is not None:
        acc = lifecycle_from_accounts_billing(tables, acc, as_of, facts, log, churn_date_rule)
    acc["mrr"] = acc["mrr"].fillna(acc["arr"] / 12)
    acc["arr"] = acc["arr"].fillna(acc["mrr"] * 12)
    events = tables.get("churn_events")
    if events is not None and len(events):
        last = events.groupby("account_id")["churn_date"].max()
        # Only accounts not flagged active take their churn date from the events: an
        # active account with churn events has come back (or carries a stale flag).
        fill = acc["churn_date"].isna() & ~acc["status"].eq("active")
        acc.loc[fill, "churn_date"] = acc.loc[fill, "account_id"].map(last)
        active_with_churn = acc["status"].eq("active") & is_in(acc["account_id"], last.index)
        if active_with_churn.any():
            n = int(active_with_churn.sum())
            ids = acc.loc[active_with_churn, "account_id"]
            back = came_back(ids, last, tables.get("mrr"))
            odd = ids[~ids.isin(back)]
            if len(odd):
                returned = (f"; {len(back):,} were billed again after a gap (reactivations)"
                            if back else "")
                log.add("accounts", "problem", f"{tf.plural(n, 'account')} flagged active "
                                               f"{tf.noun(n, 'has', 'have')} churn "
                        f"events ({n / len(acc):.0%} of accounts): {len(odd):,} show no return "
                        "in the MRR history, so the churn flag or the churn events are wrong"
                        + returned, count=len(odd), examples=odd.tolist(),
                        affects=["revenue", "reasons", "drivers"],
                        tables=["accounts", "churn_events"],
                        caveat=f"{len(odd):,} accounts flagged active have churn events and "
                        "no return in billing")
            else:
                log.add("accounts", "info", f"{tf.plural(n, 'account')} flagged active "
                                            f"{tf.noun(n, 'has', 'have')} churn events "
                        "and were billed again after a gap: reactivations, consistent",
                        count=n, examples=ids.tolist())
        churned_without = acc["status"].eq("churned") & ~is_in(acc["account_id"], last.index)
        if churned_without.any():
            n = int(churned_without.sum())
            share = n / max(1, int(acc["status"].eq("churned").sum()))
            log.add("accounts", "problem", f"{tf.plural(n, 'churned account')} "
                                           f"{tf.noun(n, 'has', 'have')} no churn event "
                    f"(no reason or date recorded for {share:.0%} of churned accounts)",
                    count=n,
                    examples=acc.loc[churned_without, "account_id"].tolist(),
                    affects=["reasons", "drivers"], tables=["accounts", "churn_events"],
                    caveat=f"{n:,} churned accounts have no churn event")
    acc["status"] = acc["status"].fillna(
        pd.Series(np.where(acc["churn_date"].notna(), "churned", "active"), index=acc.index))
    no_start = acc["start_date"].isna()
    if no_start.any():
        log.add("accounts", "warning", f"{tf.plural(int(no_start.sum()), 'account')} "
                f"{tf.noun(int(no_start.sum()), 'has', 'have')} no start "
                "date and no billing to take it from: left out", count=int(no_start.sum()),
                examples=acc.loc[no_start, "account_id"].tolist(),
                affects=["revenue", "segments", "drivers"])
        acc = acc.loc[~no_start].copy()
    before_start = acc["churn_date"].notna() & (acc["churn_date"] < acc["start_date"])
    if before_start.any():
        log.add("accounts", "problem", f"{tf.plural(int(before_start.sum()), 'account')} "
                                       "churned before "
                "their start date", count=int(before_start.sum()),
                examples=acc.loc[before_start, "account_id"].tolist(),
                affects=["revenue", "reasons", "drivers"], tables=["accounts"],
                caveat=f"{int(before_start.sum()):,} accounts churned before they started")
    if as_of is not None:
        check_renewal_dates(acc, as_of, renewal_date_means, log)
    tables["accounts"] = acc


def check_renewal_dates(acc: pd.DataFrame, as_of: pd.Timestamp, renewal_date_means: str,
                        log: QualityLog) -> None:
    """Warn about active accounts whose renewal date is in the past, as
    ``contracts.renewal_date_means`` reads it (:func:`playbook.contracts.stale_renewal_dates`).

    ``last``: past dates are what the column holds, nothing to say. ``next``: the date was
    not updated at the last renewal; when most active accounts' dates are past the column
    most likely holds the last renewal, and the warning says which parameter to set.
    ``contract_end``: the contract ended and the account is still active: taken as renewed.
    """
    if renewal_date_means == "last":
        return
    stale = stale_renewal_dates(acc, as_of)
    if not stale.any():
        return
    n = int(stale.sum())
    if renewal_date_means == "contract_end":
        message = (f"{tf.plural(n, 'active account')} {tf.noun(n, 'has', 'have')} a contract "
                   "end date in "
                   "the past (out of "
                   "contract, or renewed without the date being updated?): taken as renewed "
                   "on that date, their next renewal one contract term later")
    else:
        message = (f"{tf.plural(n, 'active account')} {tf.noun(n, 'has', 'have')} a renewal "
                   "date in the "
                   "past (renewed without "
                   "the date being updated?); renewals due and renewal timing are understated")
        if renewal_dates_look_like_last(acc, as_of):
            message += (". Most active accounts' renewal dates are past: if the column holds "
                        "the latest renewal, set `contracts: {renewal_date_means: last}` in "
                        "the params file")
    log.add("accounts", "warning", message, count=n,
            examples=acc.loc[stale, "account_id"].tolist(), affects=["revenue", "drivers"])


def resolve_contract_terms(tables: dict[str, pd.DataFrame], term_by_type: dict[str, int],
                           default_term: int, log: QualityLog) -> None:
    """Fill ``accounts.contract_term_months`` where blank from ``contract_type`` and
    ``contracts.term_by_type`` (:func:`playbook.contracts.terms_from_types`); log the
    contract types the mapping lacks (those accounts keep the default term)."""
    acc = tables["accounts"]
    if "contract_type" not in acc or acc["contract_type"].isna().all():
        return
    terms, unknown = terms_from_types(acc["contract_type"], term_by_type)
    if "contract_term_months" not in acc:
        acc["contract_term_months"] = pd.Series(pd.NA, index=acc.index, dtype="Int64")
    fill = acc["contract_term_months"].isna() & terms.notna()
    acc.loc[fill, "contract_term_months"] = terms[fill].round().astype("Int64")
    if unknown:
        lacking = acc["contract_type"].astype("string").str.strip().isin(unknown) & \
            acc["contract_term_months"].isna()
        shown = ", ".join(repr(u) for u in unknown[:8]) + (" ..." if len(unknown) > 8 else "")
        log.add("accounts", "warning", f"{tf.plural(int(lacking.sum()), 'account')} "
                f"{tf.noun(int(lacking.sum()), 'has', 'have')} a contract type "
                f"with no term in contracts.term_by_type ({shown}): given the default term "
                f"of {tf.plural(default_term, 'month')}. Add each type's months to "
                "`contracts.term_by_type` in the params file (1 = month-to-month)",
                count=int(lacking.sum()), examples=acc.loc[lacking, "account_id"].tolist(),
                affects=["drivers"])


def lifecycle_from_accounts_billing(tables: dict[str, pd.DataFrame], acc: pd.DataFrame,
                                   as_of: pd.Timestamp, facts: LoadFacts, log: QualityLog,
                                   churn_date_rule: str) -> pd.DataFrame:
    """Derive the account fields the accounts file lacks from billing (logged).

    Only columns the file did not supply are derived (a supplied column with blanks keeps
    its blanks, except a blank start date, which takes the first billed month): start date
    (first billed month), status and churn date together (:mod:`playbook.billing`), and
    MRR (the last billed month's). Accounts never billed cannot have a lifecycle from
    billing and are left out when status is derived. Without a churn table, every churned
    account gets one churn event with the reason "unknown" and its last MRR as lost MRR.
    A supplied status that billing contradicts is logged as a problem.
    """
    mrr = tables.get("mrr")
    supplied = facts.supplied.get("accounts", set())
    if mrr is None or not len(mrr):
        return acc
    life = lifecycle_from_billing(mrr, as_of, line_ends=facts.line_ends,
                                  churn_date_rule=churn_date_rule)
    ids = acc["account_id"]
    derived = []
    blank_start = acc["start_date"].isna() & is_in(ids, life.index)
    if blank_start.any():
        acc.loc[blank_start, "start_date"] = ids[blank_start].map(life["start_date"])
        derived.append("start date" if "start_date" not in supplied else
                       f"{int(blank_start.sum()):,} blank start dates")
    if not {"status", "churn_date"} & supplied:
        never = pd.Series(~is_in(ids, life.index), index=ids.index)
        if never.any():
            log.add("accounts", "warning", f"{tf.plural(int(never.sum()), 'account')} "
                    f"{tf.noun(int(never.sum()), 'was', 'were')} never "
                    "billed: with no status in the accounts file they have no lifecycle and "
                    "are left out", count=int(never.sum()), examples=ids[never].tolist(),
                    affects=["revenue", "segments"])
            acc = acc.loc[~never].copy()
            ids = acc["account_id"]
        acc["status"] = ids.map(life["status"]).astype(object)
        acc["churn_date"] = ids.map(life["churn_date"]).astype("datetime64[ns]")
        derived.append("status and churn date (no MRR in the as-of month after earlier MRR "
                       "= churned; churn date = "
                       + ("first unbilled month)" if churn_date_rule == "first_unbilled_month"
                          else "end of the last paid period)"))
    elif "status" in supplied and mrr["month"].max() >= as_of.to_period("M").to_timestamp():
        # (accounts with churn events are judged against them in complete_accounts)
        said = acc.set_index("account_id")["status"]
        billed = life["status"].reindex(said.index)
        events = tables.get("churn_events")
        with_events = set(events["account_id"]) if events is not None else set()
        wrong = said.eq("active") & billed.eq("churned") & ~is_in(said.index, with_events)
        if wrong.any():
            log.add("accounts", "problem", f"{tf.plural(int(wrong.sum()), 'account')} flagged "
                                           "active "
                    f"{tf.noun(int(wrong.sum()), 'has', 'have')} no MRR in the as-of month "
                    f"({as_of:%b %Y}) after earlier billing",
                    count=int(wrong.sum()), examples=wrong[wrong].index.tolist(),
                    affects=["revenue", "reasons", "drivers"], tables=["accounts", "mrr"],
                    caveat=f"{int(wrong.sum()):,} accounts flagged active are no longer "
                    "billed")
    if not {"mrr", "arr"} & supplied:
        acc["mrr"] = ids.map(life["last_mrr"]).astype(float)
        derived.append("MRR (the last billed month's)")
    if derived:
        log.add("accounts", "info", "derived from billing: " + "; ".join(derived),
                count=len(acc))
    if "churn_events" not in tables:
        churned = acc[acc["status"].eq("churned") & acc["churn_date"].notna()]
        tables["churn_events"] = pd.DataFrame({
            "account_id": churned["account_id"].to_numpy(),
            "churn_date": churned["churn_date"].to_numpy(),
            "reason_code": "unknown", "reason_text": pd.Series([None] * len(churned),
                                                               dtype=object),
            "lost_mrr": churned["account_id"].map(life["last_mrr"]).to_numpy(dtype=float)})
        if len(churned):
            log.add("churn_events", "warning", "no churn table: "
                    f"{tf.plural(len(churned), 'churn event')} synthesised from billing with "
                    "the reason 'unknown' (date and "
                    "lost MRR from billing); why customers leave cannot be analysed",
                    count=len(churned), affects=["reasons"])
    return acc


def came_back(ids: pd.Series, last_event: pd.Series, mrr: pd.DataFrame | None) -> set[str]:
    """Accounts among ``ids`` billed again after a gap following their last churn event.

    ``last_event``: date of each account's last churn event (indexed by account ID). A
    return needs a month from the event's month on with no MRR, then MRR again; MRR that
    simply runs on is no return. Months are counted as numbers (months since January
    1970), an account's paid months read together rather than account by account.
    """
    if mrr is None or not len(mrr):
        return set()
    paid = mrr.loc[(mrr["mrr"] > 0) & is_in(mrr["account_id"], ids), ["account_id", "month"]]
    starts = pd.DataFrame({"account_id": last_event.index,
                           "start": month_numbers(last_event)}).dropna(subset=["start"])
    rows = pd.DataFrame({"account_id": paid["account_id"].to_numpy(),
                         "m": month_numbers(paid["month"])}).merge(starts, on="account_id")
    # the last paid month after the event's month, per account that has one
    last_paid = rows.loc[rows["m"] > rows["start"]].groupby("account_id", sort=False)["m"].max()
    if not len(last_paid):
        return set()
    rows = rows.merge(last_paid.rename("last").reset_index(), on="account_id")
    # a gap: fewer distinct paid months from the event's month up to (not including) the
    # last paid month than months in that span
    inside = rows.loc[(rows["m"] >= rows["start"]) & (rows["m"] < rows["last"])]
    counted = inside.drop_duplicates(["account_id", "m"]).groupby("account_id",
                                                                  sort=False).size()
    span = rows.drop_duplicates("account_id").set_index("account_id")
    months = (span["last"] - span["start"]).astype("int64")
    gap = counted.reindex(months.index, fill_value=0).to_numpy() < months.to_numpy()
    return {str(a) for a in months.index[gap]}


def month_numbers(dates: pd.Series) -> np.ndarray:
    """Months since January 1970 of each date (``Period("M").ordinal``), as floats; missing
    dates NaN."""
    values = dates.to_numpy(dtype="datetime64[ns]")
    out = values.astype("datetime64[M]").astype("int64").astype(float)
    out[np.isnat(values)] = np.nan
    return out
