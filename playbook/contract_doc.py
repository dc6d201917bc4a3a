"""Generate ``docs/data-contract.md`` from :mod:`playbook.contract` (one source of truth).

A test checks the committed document equals what this module generates.
"""

from __future__ import annotations

from playbook.contract import TABLES

KIND_TEXT = {
    "id": "identifier (text)",
    "text": "text",
    "date": "date",
    "month": "month (any date in it)",
    "money": "amount >= 0",
    "number": "number",
    "count": "whole number >= 0",
    "bool": "true/false",
    "code": "code",
}

ANALYSES = {
    "revenue": "MRR movements, GRR/NRR, cohorts (01-revenue)",
    "reasons": "churn reasons and churn by variable (01-revenue)",
    "drivers": "renewal-driver model (02-renewal-drivers)",
    "segments": "value tiers and lifecycle (03-segments-health)",
    "health": "health scorecard (03-segments-health)",
    "risk": "relationship-risk flags (03-segments-health)",
    "capacity": "touch model and headcount (04-capacity)",
    "scenarios": "churn-impact scenarios (04-capacity)",
    "outcomes": "customer outcomes and renewal (06-outcomes-triggers)",
    "triggers": "trigger events before churn and expansion (06-outcomes-triggers)",
}

HEADER = """# Data contract v1

Generated from `playbook/contract.py` by `playbook contract-doc --out docs/data-contract.md`;
do not edit by hand.

A client's exports live in `data/<client>/` as CSV, XLSX or Parquet and are never edited.
`params/<client>.yaml` says which file holds which table and maps the client's column names
and codes onto the canonical ones below:

```yaml
tables:
  accounts:
    file: crm_accounts.xlsx     # relative to data/<client>/
    sheet: Accounts             # Excel only; default the first sheet
    header_row: 3               # line of the header (1 = first line)
    delimiter: ";"              # CSV only; detected when omitted
    decimal: ","                # decimal mark of numbers; thousands separator follows
    encoding: cp1252            # detected when omitted (UTF-8 with or without BOM, cp1252)
    date_format: "%d-%m-%Y"     # else ISO, then day/month text (dayfirst), Excel serials
    dayfirst: true
    columns:                    # canonical name: header in the client's file
      account_id: "Account ID"
      arr: "ARR (USD)"
    codes:                      # canonical column: {client value: canonical code}
      status: {Active: active, Cancelled: churned}
  mrr:
    file: subscriptions.csv
    layout: lines               # monthly (account, month, mrr) or lines (start, end, mrr)
```

A column not mapped is looked up by its canonical name, ignoring case and punctuation;
`columns: {segment: null}` leaves it unmapped (not looked up), e.g. when the file's
"Segment" is not the client's segment. A required column may be left unmapped only where
the loader derives it (`accounts.start_date` from billing); otherwise the run stops.

## Table assembly: joins, row filters, derived columns

Some exports need a table put together: a subscriber snapshot (one row per customer: tenure
in months, contract, monthly charge, churned flag, reason; no dates) holds the accounts, the
MRR of the snapshot month and the churn events in one file; a CRM may keep churn reasons in
a second file keyed by customer. Params say how, with the fixed vocabulary below (module
`playbook/assembly.py`); nothing in them is run as code. Steps apply in this order, between
reading the table's file and mapping its columns:

```yaml
tables:
  churn_events:
    file: customers.csv
    join:                              # 1. other files joined on a key, in order
      - file: churn_reasons.csv        #    in data/<client>/, read like any input
        on: {Customer ID: CustomerID}  #    {header here: header there}, or one shared header
        how: left                      #    left (default): keep unmatched rows; inner: drop
        columns: [Churn Category, Churn Reason]  # or {header: new name}; default: all
    filter:                            # 2. rows kept (every filter must hold)
      - {column: Churn Label, equals: "Yes"}     # or in: [..], not_in: [..], is_blank: true
    columns: {account_id: CustomerID, reason_code: Churn Category}
    derive:                            # 3. canonical columns computed, one rule each
      churn_date: {constant_date: as_of}         # or a date, e.g. 2024-06-30
      reason_text: {copy: Churn Reason}
      lost_mrr: {from_table: {table: accounts, column: mrr}}
  accounts:
    file: customers.csv
    columns: {account_id: CustomerID, mrr: Monthly Charges}
    derive:
      start_date: {months_before: {date: as_of, months: Tenure Months}}
```

* **join**: the joined file must sit in the client's folder and is read by the same reader
  with the same limits as any input; `sheet`, `header_row`, `delimiter` and `encoding` may
  be set for it (defaults as for any file); its values are parsed with the table's decimal
  mark and date settings. Each key may appear once in it (a one-to-one or many-to-one
  join): a key on two rows with different contents stops the run, naming the file, the key
  column and the values (exact duplicate rows are dropped and logged). Keys are compared as
  text without surrounding spaces (an Excel `1001.0` is `1001`). Without `columns`, columns
  the table's file already has are left out (logged); a listed column whose name the file
  already has is an error (rename it with `{header: new name}`). The log says how many rows
  matched, how many did not (with examples, a warning) and how many rows of the joined file
  matched none. `on` may be written unquoted (YAML reads the word as true; it is read back).
* **filter**: `equals: v`, `in: [..]`, `not_in: [..]` or `is_blank: true/false` on one
  column of the file (after joins). Values are compared as text, ignoring case and
  surrounding spaces; `equals` and `in` never keep a blank cell, `not_in` keeps blank cells
  (add `is_blank: false` to drop them). Write Yes, No, On, Off, True and False in quotes:
  YAML reads them unquoted as true/false, which is refused with that fix. Each filter logs
  the rows kept; a value that never occurs in the column is a warning listing the values
  present. Rows a filter leaves out are not rejected rows: the table's rows read are counted
  after the filters.
* **derive**: one rule per canonical column. Sources are headers of the file after joins and
  filters (never another derived column); a column is either mapped under `columns` or
  derived, not both; a derived column replaces a file column of the same name (logged).
  Each derivation is logged as a conversion with its row counts.

The rules:

* `months_before: {date: <header or as_of>, months: <header>}` (a date or month column):
  the date minus a whole number of months (0 to 1200), the day kept and clipped to the
  month's end (30 June minus 4 months is 29 February); blank, and logged, when the months
  are blank, fractional, negative or above 1200, or the date is blank.
* `constant_date: <YYYY-MM-DD or as_of>` (a date or month column): that date on every row.
* `copy: <header>` (any column): the column's cells, parsed as the target's type, so one
  header can feed two canonical columns.
* `from_table: {table: accounts, column: <column>}` (an optional column of the same type):
  the value of the row's account in the accounts table as the loader completes it (MRR
  from ARR or billing), filled after every table is read; blank, and logged, when the
  account or its value is missing.

Errors name the params key (e.g. `tables.churn_events.filter[0].column`), the file, what
was expected and the fix. `layout: events` takes join and filter (applied to the event
rows before they are counted) but not derive or null.
A snapshot export assembled this way: `tests/fixtures/exports/snapshot/params.yaml`; what a
snapshot can and cannot tell is in the methodology guide ("Snapshot exports").

## Checks on loading

* Missing file, missing required column, unreadable file, conflicting duplicate keys: the
  run stops with the file, column, example lines, count and the fix.
* Unusable values in required columns (unparseable date, negative amount): the row is
  rejected and logged; above `data.max_rejected_share` (default 5%) of a table's rows the
  run stops. Unusable optional values become blank and are logged.
* A one-month hole inside an account's monthly MRR (billed before and after) is taken for a
  lost export row and filled from the month before, logged with the accounts and months
  (`tables.mrr.gaps: fill`, the default; `keep` leaves it as a pause, `error` stops). A
  month missing for every account stops the run.
* Dates, time zones, amounts and file limits: see `docs/security.md` (dates outside
  1901-2199 are placeholders or unusable; time zones are converted to UTC; at most 1,000
  columns per file).
* Exact duplicate rows are dropped and logged. Rows referring to accounts missing from
  `accounts` are dropped and logged (the run stops above the same share).
* Derived: `accounts.mrr` from `arr / 12` and the reverse; `accounts.churn_date` from the
  latest churn event; `accounts.status` from `churn_date`. Contradictions (active accounts
  with churn events, churned accounts without one, churn before start) go to the
  data-quality log with the analyses they weaken.
* Lifecycle from billing: when the accounts file has no start date, status or churn date
  (billing systems know them, CRMs often do not), they are derived from the `mrr` table:
  start = the first billed month; churned = no MRR in the as-of month after earlier MRR;
  churn date = the first unbilled month (`churn.churn_date_from_billing: last_paid_day`
  takes the end of the last paid line instead); MRR = the last billed month's. Without a
  churn table, each churned account gets one churn event with the reason "unknown" (said
  in the data-quality log). A status in the file that billing contradicts is logged.

## Usage event logs (`tables.usage.layout: events`)

One row per event (`account_id`, `month` = the event's date or timestamp, optionally
`user_id` and `licensed_seats`), aggregated to account-months by DuckDB straight from the
file (Parquet with native dates; CSV that is UTF-8, comma-delimited, with ISO dates, plain
numbers and one line per row) or else by pandas, with identical results:
`active_users` = distinct users (events without a user column), `key_actions` = events.
An export already counted by account, month and event type (`account, month, event_type,
events`, as ChurnSim's `events_by_month.csv`) maps `event_count: "events"`: each row counts
that many key actions, and with no user column `active_users` is blank (health then reads
the trend of key actions; a monthly active-users file can be mapped as `layout: monthly`).

Events keyed by something other than the account (a subscription, a workspace) are joined
to the file that names each one's account, and rows that are not events can be filtered
out (RavenStack's `feature_usage.csv` is keyed by `subscription_id`):

```yaml
usage:
  file: ravenstack_feature_usage.csv
  layout: events
  join:
    - {file: ravenstack_subscriptions.csv, on: subscription_id, columns: [account_id, seats]}
  filter:
    - {column: is_beta_feature, equals: "False"}
  columns: {account_id: account_id, month: usage_date, event_count: usage_count,
            licensed_seats: seats}
```

A join or filter reads the event file through pandas (in memory), not DuckDB.

## Subscription lines (`tables.mrr.layout: lines`)

One row per paid period or open subscription (`account_id`, `start_date`, `end_date`,
`mrr`: the line's monthly amount), as Stripe, Chargebee, Recurly and ChurnSim export them.

* A line covers `[start_date, end_date)`: the end date is the first day no longer paid for,
  so back-to-back lines (21 Jan-21 Feb, 21 Feb-21 Mar) never overlap. Exports that write the
  last paid day set `end_inclusive: true`.
* A line with no end runs to the as-of date; a line starting after it is not counted.
  Overlapping lines (several products, added seats) add up. Lines flagged `proration`
  (one-off credits and charges of a mid-period change) are left out.
* `amount_per: period` when `mrr` holds the amount billed for the whole line (invoice
  lines of annual or semi-annual plans): it is divided by `period_months` when mapped, else
  by the months the line's dates span (rounded, at least 1).
* `mrr_basis: month_end` (default): the MRR of a month is the sum of the lines in force on
  its last day (on the as-of date for the as-of month), the run-rate basis of MRR, GRR,
  NRR and logo churn. `mrr_basis: prorated`: each line counts for the share of the month's
  days it covers (recognised revenue, to reconcile with finance; churn and new business
  then show as two partial months).

## Churn reasons: category and reason (`churn_events`)

* `reason_category` is the coarse level ("Price", "Competitor", "Other") above
  `reason_code` (and the reason recovered from `reason_text` by `churn.reason_rules`).
  Map it like any column: `tables.churn_events.columns.reason_category: "Churn Category"`.
* With both levels, the churn-reason Pareto ranks the categories, shows each category's
  three largest informative reasons inside it, and its headline ("concentrated" / "spread")
  reads the categories and says so ("three reason categories ..."). With one level (no
  category column, or one that is blank or says nothing everywhere), the exhibit is v1's.
* A value is uninformative when it is blank, has no letter or digit ("-", "?"), or is in
  `churn.uninformative_reasons` (default: blank, other, unknown, n/a, none, don't know, no
  reason, not specified). Values are compared ignoring case, apostrophes (' ’ ‘ ʼ ` ´),
  underscores and repeated spaces: "Don't know", "dont know", "Don’t know" and "DONT_KNOW"
  are one value. Setting the list in params replaces the default list.
* An event has a usable reason when either level is informative: "Other" with "Moved
  abroad" inside is explained (the reason is the finer level), and so is "Price" with
  "Don't know". In the Pareto by category, "Other" is still never named among the top
  categories.

## Renewal dates and contract terms (`contracts:`)

```yaml
contracts:
  renewal_date_means: last      # what accounts.renewal_date holds: next (default) | last |
                                # contract_end
  term_months: 12               # term of accounts without their own (default 12)
  term_by_type: {Month-to-month: 1, One year: 12, Two year: 24}  # contract_type: months
```

* `renewal_date_means: next` (default, v1): the date is the next renewal; past renewals
  fall on the start date's anniversaries before it.
* `last`: the date is the latest renewal (many CRMs). The next renewal is the date plus the
  term, rolled forward until it is after the as-of date; past renewals are the date and its
  earlier anniversaries after the start date (and later ones up to the as-of date, when the
  CRM missed a renewal). No "renewal date in the past" warning.
* `contract_end`: the date ends the current contract, and the renewal is decided on it:
  the next decision while it lies ahead; an active account whose contract ended before the
  as-of date renewed then (logged), its next decision a term later.
* With `next`, when most active accounts' renewal dates are more than 31 days before the
  as-of date, the data-quality warning suggests `renewal_date_means: last`.
* An account's term in months: `accounts.contract_term_months` when given (1 to 120), else
  its `contract_type` looked up in `term_by_type` (ignoring case and surrounding spaces),
  else `term_months`. A contract type the mapping lacks keeps `term_months` and is logged.
  Terms are whole months from 1 to 120.
* Month-to-month accounts (term 1) make no renewal decisions: they are left out of the
  renewal model, the upcoming renewals and the at-risk list, the surprise non-renewals and
  the health backtest (each section says how many); their churn is in the monthly logo
  churn of the revenue section.

## The client's own variables (`variables:`)

Columns the contract does not have (contract type, plan, premium support, referrals) are
declared as variables; they enter churn by variable (01) and the renewal-driver model (02)
beside the built-in features, under their label, with the same model checks.

```yaml
variables:
  contract_type:                # key: lower-case letters, digits, _ (column var_<key>)
    table: accounts             # accounts (default) or usage (layout: monthly)
    column: "Contract"          # header in the client's file (case and punctuation ignored)
    kind: categorical
    reference: Month-to-month   # the level others are compared with; default the most common
    label: Contract type        # shown in exhibits; default the key in words
  referrals:
    column: "Number of Referrals"
    kind: numeric
    unit: referral              # one unit (plural adds s): odds ratio "per 10 referrals"
    scale: 10                   # the odds ratio is per `scale` units: exp(10 x coefficient)
```

* A variable is an attribute of the account known at the as-of date. A column recorded with
  or after the outcome (a churn category, cancellation reason, churn flag or score) must
  never be declared: it would give the model the answer. The params are refused when the
  column is mapped to any `churn_events` column, is an outcome column (`accounts.status`,
  `accounts.churn_date`, `renewals.outcome`, mapped or matched by name), or its header says
  "churn".
* Loading: categorical values are kept as written (trimmed); numeric ones are read with the
  table's decimal mark and thousands separator, an unreadable value becomes blank (logged)
  and more than `data.max_rejected_share` of them stops the run. The run stops, naming the
  params key and the fix, when the column is not in the file, the `reference` level is not
  among the values (they are listed), or a categorical column holds more than 30 different
  values (an identifier or free text, not a grouping).
* Accounts variables are the file's current values (a snapshot, like `segment`); a usage
  variable is the value of the last complete month on or before each decision's cut-off
  (model) and its latest value on or before the base date of the trailing window (churn by
  variable).
* Churn by variable: a categorical variable by level; a numeric one by value when it has at
  most 5 distinct values, else in quartiles named by their range ("5-12 referrals").
* Model: a categorical variable enters as one indicator per level against `reference`; a
  numeric one per `scale` units. `drivers.features` may name a variable by key or label;
  with `drivers.features: []` every declared variable joins the default features.

## Which analysis needs which table

| analysis | needs |
|---|---|
"""


def contract_markdown() -> str:
    """Return the data contract as Markdown."""
    lines = [HEADER.rstrip("\n")]
    for key, label in ANALYSES.items():
        needs = [n for n, t in TABLES.items() if key in t.used_by]
        lines.append(f"| {label} | {', '.join(f'`{n}`' for n in needs)} |")
    lines.append("")
    for name, t in TABLES.items():
        status = "required" if t.required else "optional"
        lines.append(f"## `{name}` ({status})")
        lines.append("")
        lines.append(t.description)
        lines.append("")
        if t.key:
            lines.append(f"Key: {', '.join(f'`{k}`' for k in t.key)}.")
            lines.append("")
        lines.append("| column | type | required | meaning |")
        lines.append("|---|---|---|---|")
        for c in t.columns:
            kind = KIND_TEXT[c.kind]
            if c.codes:
                kind += ": " + ", ".join(f"`{v}`" for v in c.codes)
            if c.min is not None or c.max is not None:
                kind += f" ({'' if c.min is None else f'{c.min:g}'}–"
                kind += f"{'' if c.max is None else f'{c.max:g}'})"
            req = "yes" if c.required else ""
            if c.required and c.derived_from:
                req = "yes, or derived"
            meaning = c.description
            if c.derived_from:
                meaning += f" Without it: {c.derived_from}."
            lines.append(f"| `{c.name}` | {kind} | {req} | {meaning} |")
        lines.append("")
    return "\n".join(lines)
