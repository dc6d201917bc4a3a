"""Table assembly (:mod:`playbook.assembly`) where a table is part of a file or needs
another: row filters, derivations and joins, each proposed with its comment.

* a snapshot export (tenure in months, churn label, reasons, no dates): start date =
  tenure months before the as-of date, churn events = the churned rows dated at the as-of
  date with the account's MRR lost, MRR = the active rows in the as-of month
  (:func:`settle_snapshot`);
* renewals from an opportunities or deals export (renewal type or pipeline, closed stages:
  Closed Won -> renewed, Closed Lost -> churned) and its lost renewals as churn events;
  churn events from a subscription list (rows with a cancellation date)
  (:func:`settle_filters`);
* a join bringing account IDs from a file that maps another key to them (Zendesk tickets
  by organisation) (:func:`propose_joins`).

Values of the client in these rules are written by ``q()``; words of the params vocabulary
are :class:`~playbook.scaffold.yaml_out.Word` and written plain.
"""

from __future__ import annotations

from collections import Counter

from playbook.contract import TABLES
from playbook.scaffold.codes import guess_codes
from playbook.scaffold.columns import GUESS, LIKELY, ColumnGuess, match_headers
from playbook.scaffold.headers import norm, tokens
from playbook.scaffold.sources import Source
from playbook.scaffold.tables import TableGuess, file_hint, propose_table
from playbook.scaffold.values import blank_mask, nonblank, parse_numbers_loosely
from playbook.scaffold.yaml_out import Word, short_list


def _is(values: list[str]) -> dict:
    """The filter test keeping rows holding one of ``values``."""
    return {"equals": values[0]} if len(values) == 1 else {"in": list(values)}


def tenure_header(source: Source, used: set[str]) -> str | None:
    """A column holding each customer's tenure in whole months ('Tenure Months', 'tenure',
    'Months as Customer'): numbers from 0 to 1200."""
    for h in source.headers:
        words, n = set(tokens(h)), norm(h)
        if h in used or words & {"years", "year", "days", "day", "weeks"}:
            continue
        if not (words & {"tenure", "lifetime"} or n in {
                "monthsascustomer", "monthssubscribed", "customermonths", "monthsactive",
                "subscriptionmonths", "monthsofservice"}):
            continue
        nums = parse_numbers_loosely(nonblank(source.sample()[h]))
        if len(nums) and nums.notna().mean() >= 0.9:
            nums = nums.dropna()
            if (nums >= 0).all() and (nums % 1 == 0).all() and nums.max() <= 1200:
                return h
    return None


def settle_snapshot(chosen: dict[str, TableGuess]) -> None:
    """A snapshot export: one row per customer with its tenure in months, a churned flag
    and reasons, and no start date (no billing file either). The accounts' start date is
    derived as the tenure counted back from the as-of date (the snapshot's date); the same
    file read again gives the churn events (its churned rows, churn date = the as-of date,
    lost MRR = the account's MRR) and, when it holds a monthly charge, the MRR of the
    snapshot month (its active rows)."""
    acc = chosen.get("accounts")
    if acc is None or "mrr" in chosen or "start_date" in acc.columns:
        return
    src = acc.source
    tenure = tenure_header(src, {g.header for g in acc.columns.values()})
    if tenure is None:
        return
    acc.derive["start_date"] = ({"months_before": {"date": Word("as_of"), "months": tenure}},
                                f"likely: a snapshot: '{tenure}' months before the snapshot's "
                                "date (the as-of date)")
    acc.reasons.append(f"a snapshot (tenure in '{tenure}', no dates)")
    status = acc.columns.get("status")
    if status is None:
        return
    codes = guess_codes("status", status.header, src.frame[status.header])
    churned = [v for v, c in codes.mapping.items() if c == "churned"]
    active = [v for v, c in codes.mapping.items() if c == "active"]
    if churned and "churn_events" not in chosen:
        found = match_headers("churn_events", src.headers, src)
        cols = {"account_id": acc.columns["account_id"], **{
            c: g for c, g in found.items() if c != "account_id" and g.score >= GUESS
            and g.header != status.header}}
        ev = TableGuess("churn_events", src, cols, score=100, reasons=[
            f"the churned rows of {src.label}: a snapshot's '{status.header}' says who left"])
        ev.filters.append(({"column": status.header, **_is(churned)},
                           f"likely: the rows '{status.header}' marks churned"))
        if "churn_date" not in cols:
            ev.derive["churn_date"] = ({"constant_date": Word("as_of")},
                                       "likely: a snapshot dates every churn at its own date")
        if "lost_mrr" not in cols and {"mrr", "arr"} & set(acc.columns):
            ev.derive["lost_mrr"] = ({"from_table": {"table": Word("accounts"),
                                                     "column": Word("mrr")}},
                                     "likely: the MRR the account paid")
        chosen["churn_events"] = ev
    if active and "mrr" in acc.columns:
        m = TableGuess("mrr", src, {"account_id": acc.columns["account_id"],
                                    "mrr": acc.columns["mrr"]}, layout="monthly",
                       score=100, reasons=[f"the active rows of {src.label}: a "
                                                 "snapshot has the MRR of its own month only"])
        m.filters.append(({"column": status.header, **_is(active)},
                          f"likely: the rows '{status.header}' marks active"))
        m.derive["month"] = ({"constant_date": Word("as_of")}, "likely: the snapshot's month")
        chosen["mrr"] = m


def _type_header(source: Source, outcome: str) -> tuple[str, list[str], list[str]] | None:
    """A column saying which opportunities are renewals ('Opportunity Type', 'Pipeline'):
    (header, its renewal values, its other values), when it holds both."""
    for h in source.headers:
        if h == outcome or not set(tokens(h)) & {"type", "pipeline", "kind", "category"}:
            continue
        values = list(Counter(nonblank(source.frame[h])))
        renew = [v for v in values if "renew" in norm(v)]
        if renew and len(renew) < len(values) <= 40:
            return h, renew, [v for v in values if v not in renew]
    return None


def opportunity_filters(t: TableGuess, outcome: str, keep: tuple[str, ...]
                        ) -> list[tuple[dict, str]]:
    """Filters keeping the renewal opportunities (by type or pipeline) whose stage maps to
    one of ``keep`` (decided ones: Closed Won -> renewed, Closed Lost -> churned)."""
    out = []
    kind = _type_header(t.source, outcome)
    if kind is not None:
        header, renew, other = kind
        out.append(({"column": header, **_is(renew)},
                    f"likely: renewals only (not {short_list(other, 4)})"))
    codes = guess_codes("outcome", outcome, t.source.frame[outcome])
    closed = [v for v, c in codes.mapping.items() if c in keep]
    rest = [v for v in codes.counts if v not in closed]
    if closed and rest:
        out.append(({"column": outcome, **_is(closed)},
                    f"likely: decided ones only (not {short_list(rest, 4)})"))
    return out


def settle_filters(chosen: dict[str, TableGuess]) -> None:
    """Row filters where a table is only some rows of its file: renewals from an
    opportunities or deals export (renewal type, closed stages), churn events from one
    (lost renewals) or from a subscription list (rows with a cancellation date)."""
    ren = chosen.get("renewals")
    if ren is not None and "outcome" in ren.columns:
        ren.filters += opportunity_filters(ren, ren.columns["outcome"].header,
                                           ("renewed", "churned", "downgraded"))
    ev = chosen.get("churn_events")
    if ev is None or ev.filters:
        return
    stage = match_headers("renewals", ev.source.headers, ev.source).get("outcome")
    if stage is not None and stage.score >= LIKELY and _type_header(ev.source, stage.header):
        ev.filters += opportunity_filters(ev, stage.header, ("churned",))
        if not any(r["column"] == stage.header for r, _ in ev.filters):
            chosen.pop("churn_events")  # no lost renewals to read as churn
        return
    date = ev.columns.get("churn_date")
    if date is not None:
        blank = blank_mask(ev.source.frame[date.header].astype(str))
        if blank.any() and not blank.all():
            ev.filters.append(({"column": date.header, "is_blank": False},
                               f"likely: the rows with a '{date.header}' ({int((~blank).sum()):,}"
                               f" of {len(blank):,}): the others have not churned"))


def _bridge(src: Source, other: Source, ids: set[str]) -> tuple[str, str, str, float] | None:
    """(header in ``src``, key header in ``other``, account-ID header in ``other``, share):
    ``other`` holds each key once and maps it to account IDs, and most values of the
    ``src`` column are keys of ``other`` (e.g. Zendesk tickets name the organisation, the
    organisations export gives its CRM id)."""
    id_cols = [h for h in other.headers if nonblank(other.frame[h]).isin(ids).mean() >= 0.8]
    for kb in other.headers if id_cols else ():
        keys = nonblank(other.frame[kb])
        if kb in id_cols or keys.empty or keys.duplicated().any():
            continue
        keyset = set(keys)
        for ks in src.headers:
            values = nonblank(src.sample()[ks])
            share = float(values.isin(keyset).mean()) if len(values) else 0.0
            if share >= 0.8:
                return ks, kb, id_cols[0], share
    return None


def propose_joins(chosen: dict[str, TableGuess], sources: list[Source], used: set[int]
                  ) -> None:
    """A file that would be a table but for the account ID gets it by a join with another
    unused file mapping its key to account IDs (:func:`_bridge`)."""
    acc = chosen.get("accounts")
    if acc is None or "account_id" not in acc.columns:
        return
    ids = set(nonblank(acc.source.frame[acc.columns["account_id"].header]))
    for src in [s for s in sources if id(s) not in used]:
        for table in TABLES:
            if table in chosen or id(src) in used:
                continue
            g = propose_table(table, src)
            spec = TABLES[table]
            content = [c for c, x in g.columns.items()
                       if spec.column(c).kind != "id" and x.score >= LIKELY]
            if g.missing != ["account_id"] or not (file_hint(table, src) or content):
                continue
            for other in [s for s in sources if id(s) not in used and s is not src]:
                found = _bridge(src, other, ids)
                if found is None:
                    continue
                ks, kb, ib, share = found
                join: dict = {"file": other.path.name, "on": {ks: kb}, "columns": [ib]}
                if other.sheet is not None:
                    join["sheet"] = other.sheet
                if other.delimiter and other.delimiter != src.delimiter:
                    join["delimiter"] = other.delimiter
                g.joins.append((join, f"likely: {share:.0%} of '{ks}' are '{kb}' in "
                                f"{other.label}, whose '{ib}' are account IDs"))
                g.columns["account_id"] = ColumnGuess("account_id", ib, LIKELY,
                                                      f"from {other.label} by the join")
                g.reasons.append(f"account IDs joined from {other.label}")
                chosen[table] = g
                used.update({id(src), id(other)})
                break
