"""What the accounts file says beyond its columns: a start date that can be one, the
lifecycle left to billing, and the ``contracts`` section.

* The accounts' start date only where it can be one (:func:`start_date_problem`): never a
  birth date (by its header, or dates mostly over ``PERSON_AGE_YEARS`` years old) and,
  beside billing, never dates mostly more than a year before each account's first invoice
  or a month after its first billed month. With billing and no such column, the start (and
  status, churn date and MRR the file lacks) is left to the loader, which derives it from
  billing, and a comment says so (:func:`settle_accounts`).
* ``contracts`` (:func:`propose_contracts`): ``renewal_date_means: last`` when most active
  accounts' renewal dates lie before the period's end, ``term_by_type`` from contract type
  words ("Month-to-month" 1, "One year" 12, "Two year" 24).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from playbook.contract import TABLES
from playbook.contracts import renewal_dates_look_like_last, stale_renewal_dates
from playbook.scaffold.codes import guess_codes
from playbook.scaffold.columns import (
    GUESS,
    IMPLAUSIBLE_SHARE,
    ColumnGuess,
    birth_like_values,
    header_score,
)
from playbook.scaffold.headers import birth_like_header, norm, tokens
from playbook.scaffold.lines import first_billed
from playbook.scaffold.sources import Source, column_dates
from playbook.scaffold.tables import TableGuess
from playbook.scaffold.values import blank_mask, nonblank

START_BEFORE_BILLING_DAYS = 366  # a start more than a year before the first invoice is not it
START_AFTER_BILLING_DAYS = 31  # nor one more than a month after the first billed month


def start_date_problem(source: Source, header: str, bill: pd.DataFrame | None,
                       ids: pd.Series) -> str:
    """Why ``header`` cannot be the accounts' start date ("" when it can): a birth date by
    its name or its values, or (with billing) dates more than a year before most accounts'
    first invoice or more than a month after their first billed month. Accounts billed from
    the first month of the history are judged only on being late (they may have started
    before the export's history)."""
    if birth_like_header(header):
        return f"'{header}' is a birth date by its name, not when the customer started"
    if (why := birth_like_values(source, header)):
        return why
    if bill is None:
        return ""
    first = first_billed(bill)
    if first.empty:
        return ""
    starts = pd.Series(column_dates(source, header).to_numpy(), index=ids.to_numpy())
    starts = starts[starts.notna() & ~starts.index.duplicated()]
    both = pd.DataFrame({"start": starts, "first": first}).dropna()
    if both.empty:
        return ""
    history = first.min().to_period("M")
    gap = (both["first"] - both["start"]).dt.days
    month_end = both["first"].dt.to_period("M").dt.to_timestamp(how="end").dt.normalize()
    late = (both["start"] - month_end).dt.days > START_AFTER_BILLING_DAYS
    early = (gap > START_BEFORE_BILLING_DAYS) & (both["first"].dt.to_period("M") > history)
    judged = both["first"].dt.to_period("M") > history
    if judged.sum() < 5:
        judged = pd.Series(True, index=both.index)
    bad = (early | late)[judged]
    if bad.mean() <= IMPLAUSIBLE_SHARE:
        return ""
    years = gap[judged].median() / 365.25
    when = (f"a median {years:.1f} years before" if years > 0
            else f"a median {-years * 12:.0f} months after")
    return (f"'{header}' is {when} each account's first billed month ({bad.mean():.0%} of "
            f"{len(bad):,} accounts more than a year before or a month after): not when the "
            "customer started paying")


def settle_accounts(t: TableGuess, bill: pd.DataFrame | None) -> None:
    """Keep a start date only where it can be one; with billing proposed, leave the start
    date (and status, churn date and MRR the file lacks) to be derived from billing.

    A start column found from its values alone gives way to billing; one found by name is
    checked by :func:`start_date_problem` and, when it fails, the next header named like a
    start date that passes takes its place.
    """
    spec = TABLES["accounts"]
    col = spec.column("start_date")
    ids = t.source.frame[t.columns["account_id"].header].astype(str).str.strip() if (
        "account_id" in t.columns) else pd.Series("", index=t.source.frame.index)
    g = t.columns.pop("start_date", None)
    why = ""
    if g is not None and g.score < GUESS and bill is not None:
        why = f"'{g.header}' (the only other date column) is not named as a start date"
        g = None
    elif g is not None:
        why = start_date_problem(t.source, g.header, bill, ids)
        if why:
            used = {x.header for x in t.columns.values()} | {g.header}
            named = sorted(((header_score("accounts", col, h)[0], h) for h in t.source.headers
                            if h not in used), reverse=True)
            g = next((ColumnGuess("start_date", h, sc, header_score("accounts", col, h)[1],
                                  f"'{g.header}' is not: {why}")
                      for sc, h in named if sc >= GUESS
                      and not start_date_problem(t.source, h, bill, ids)), None)
    if g is not None:
        t.columns["start_date"] = g
        why = ""
    if bill is None:
        if why:
            t.notes.append(f"start_date: not proposed: {why}")
        return
    if "start_date" not in t.columns:
        t.derived["start_date"] = ("derived by the loader from the first billed month of the "
                                   "mrr table" + (f"; {why}" if why else ""))
    if not {"status", "churn_date"} & set(t.columns):
        t.derived["status"] = ("status, churn_date: derived from billing (no MRR in the as-of "
                               "month after earlier MRR = churned; churn date = the first "
                               "unbilled month)")
    if not {"mrr", "arr"} & set(t.columns):
        t.derived["mrr"] = "mrr: derived from the last billed month of the mrr table"


# --------------------------------------------------------------------------- contracts

#: Words of contract types -> term in months ("Month-to-month" -> 1, "Two year" -> 24).
TERM_WORDS = {"monthtomonth": 1, "monthly": 1, "mtm": 1, "rolling": 1, "quarterly": 3,
              "semiannual": 6, "halfyearly": 6, "annual": 12, "yearly": 12, "biennial": 24}
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "twelve": 12,
                "eighteen": 18, "twentyfour": 24, "thirtysix": 36}


def term_of(value: str) -> int | None:
    """A contract type's term in months from its words: 'Month-to-month' 1, 'One year' 12,
    '24 months' 24, 'Annual' 12; None when the words do not say."""
    n = norm(value)
    if n in TERM_WORDS:
        return TERM_WORDS[n]
    words = tokens(value)
    for i, w in enumerate(words[:-1]):
        count = int(w) if w.isdigit() else NUMBER_WORDS.get(w)
        unit = words[i + 1].removesuffix("s")
        if count and unit in ("month", "mo", "year", "yr"):
            months = count * (12 if unit in ("year", "yr") else 1)
            return months if 1 <= months <= 120 else None
    return next((m for w, m in TERM_WORDS.items() if w in n), None)


@dataclass
class ContractsGuess:
    """The proposed ``contracts`` section: what the renewal date means, terms by type."""

    renewal_date_means: str | None = None
    renewal_note: str = ""
    type_header: str = ""
    terms: dict[str, int | None] = field(default_factory=dict)  # type -> months (None: ?)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to propose (no section is written)."""
        return self.renewal_date_means is None and not self.terms


def _active_accounts(t: TableGuess, bill: pd.DataFrame | None, as_of: pd.Timestamp,
                     lines: bool) -> pd.Series:
    """Status of each row of the accounts file ('active'/'churned', NaN unknown): from its
    status codes, else billed in the as-of month (a monthly row of that month, or a line in
    force then), else no churn date."""
    frame = t.source.frame
    if "status" in t.columns:
        codes = guess_codes("status", t.columns["status"].header,
                            frame[t.columns["status"].header])
        return frame[t.columns["status"].header].astype(str).str.strip().map(codes.mapping)
    if bill is not None and "account_id" in t.columns:
        month = as_of.to_period("M").to_timestamp()
        paid = bill[(bill["amount"] > 0) & ~bill["proration"]]
        if lines:  # in force on a day of the as-of month
            now = (paid["start"] <= as_of) & (paid["end"].isna() | (paid["end"] > month))
        else:  # one row per month
            now = paid["start"].dt.to_period("M").dt.to_timestamp() == month
        live = set(paid.loc[now, "account_id"])
        ids = frame[t.columns["account_id"].header].astype(str).str.strip()
        return ids.isin(live).map({True: "active", False: "churned"})
    if "churn_date" in t.columns:
        blank = blank_mask(frame[t.columns["churn_date"].header].astype(str))
        return blank.map({True: "active", False: "churned"})
    return pd.Series("active", index=frame.index)


def propose_contracts(tables: dict[str, TableGuess], period: str,
                      bill: pd.DataFrame | None) -> ContractsGuess:
    """``renewal_date_means: last`` when most active accounts' renewal dates lie before
    the end of the proposed period (:func:`playbook.contracts.renewal_dates_look_like_last`),
    and ``term_by_type`` from the words of the contract types."""
    out = ContractsGuess()
    acc = tables.get("accounts")
    if acc is None:
        return out
    if "renewal_date" in acc.columns and period:
        as_of = pd.Period(period, "Q").end_time.normalize()
        header = acc.columns["renewal_date"].header
        lines = tables["mrr"].layout == "lines" if "mrr" in tables else False
        frame = pd.DataFrame({"status": _active_accounts(acc, bill, as_of, lines),
                              "renewal_date": column_dates(acc.source, header)})
        if renewal_dates_look_like_last(frame, as_of):
            dated = frame["status"].eq("active") & frame["renewal_date"].notna()
            past = int(stale_renewal_dates(frame, as_of)[dated].sum())
            out.renewal_date_means = "last"
            out.renewal_note = (f"likely: {past:,} of {int(dated.sum()):,} active accounts' "
                                f"'{header}' lie before {as_of:%d %b %Y} (the period's end): it "
                                "holds the last renewal, the next is a term later")
    if "contract_type" in acc.columns:
        header = acc.columns["contract_type"].header
        counts = Counter(nonblank(acc.source.frame[header]))
        if 0 < len(counts) <= 40:
            out.type_header = header
            out.counts = dict(counts.most_common())
            out.terms = {v: term_of(v) for v in out.counts}
    return out
