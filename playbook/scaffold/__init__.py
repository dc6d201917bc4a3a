"""Scaffold ``params/<client>.yaml`` from whatever exports sit in ``data/<client>/``.

``playbook client acme`` (``make client CLIENT=acme``) reads every CSV, Excel sheet and
Parquet file in the client's folder (never writing to it), and proposes:

* which file (or sheet) holds which table of the data contract: by the file name and by
  how many of the table's columns the file has (a table whose key must be unique, such as
  ``accounts``, is only proposed for a file where that key is unique);
* the column mapping, matching each header to the contract: the same name; the same name
  ignoring case and punctuation; a known header of common CRM and CS-platform exports
  (Salesforce, HubSpot, Gainsight, ChurnZero, Zendesk: :data:`SYNONYMS`), also once a unit
  such as "(USD)" or a prefix such as "Ticket" is removed; a similar name. The values must
  fit the column's kind (dates, amounts, scores in range) or the guess is marked down;
* how the file is written: delimiter, decimal comma, encoding, header line, and the date
  format (ISO, day-first DD-MM-YYYY versus month-first MM/DD/YYYY by which place holds
  values above 12, Excel serial numbers);
* the client's codes for code columns (e.g. status values -> ``active``/``churned``);
* the currency (from headers such as "ARR (USD)", or a currency column's values) and the
  reporting period (the last complete quarter in the subscription history, else in the
  table whose kept rows run latest);
* billing lines (Stripe invoice line items, Chargebee invoice lines, ChurnSim
  subscriptions): ``layout: lines``, ``end_inclusive`` from consecutive lines of one
  subscription (the next starting the day after the end: true; on the end: false),
  ``amount_per: period`` when lines of several months bill about that many times a
  one-month line (:mod:`playbook.scaffold.lines`);
* the accounts' start date only where it can be one: never a birth date (by its header, or
  dates mostly over :data:`~playbook.scaffold.columns.PERSON_AGE_YEARS` years old) and,
  beside billing, never dates mostly more than a year before each account's first invoice
  or a month after its first billed month; with billing and no such column, the start (and
  status, churn date and MRR the file lacks) is left to the loader, which derives it from
  billing, and a comment says so (:mod:`playbook.scaffold.accounts`);
* table assembly (:mod:`playbook.assembly`) where a table is part of a file or needs
  another: renewals from an opportunities or deals export (renewal type or pipeline,
  closed stages; Closed Won -> renewed, Closed Lost -> churned) and its lost renewals as
  churn events; churn events from a subscription list (rows with a cancellation date); a
  join bringing account IDs from a file that maps another key to them (Zendesk tickets by
  organisation); a snapshot export (tenure in months, churn label, reasons, no dates):
  start date = tenure months before the as-of date, churn events = the churned rows dated
  at the as-of date with the account's MRR lost, MRR = the active rows in the as-of month;
* the ``contracts`` section: ``renewal_date_means: last`` when most active accounts'
  renewal dates lie before the period's end, ``term_by_type`` from contract type words
  ("Month-to-month" 1, "One year" 12, "Two year" 24).

A file that describes people (birth date, gender, country, channel) without a churn date
or reason is never read as churn events.

Every guess is written with a comment saying how sure it is (``sure``, ``likely``,
``guess``) and every gap with ``TODO``; the consultant reviews the file, then runs
``make check``.

The package, by concern (each module imports only those above it):

* :mod:`~playbook.scaffold.yaml_out`: writing client text safely (``q``, ``plain``,
  ``one_line``, the final one-line check);
* :mod:`~playbook.scaffold.headers`, :mod:`~playbook.scaffold.synonyms`: header words and
  the known export headers;
* :mod:`~playbook.scaffold.values`, :mod:`~playbook.scaffold.codes`: dates, numbers and
  codes in a column's values;
* :mod:`~playbook.scaffold.sources`: the client's files read as text tables;
* :mod:`~playbook.scaffold.columns`: which header holds which column;
* :mod:`~playbook.scaffold.tables`: which file holds which table;
* :mod:`~playbook.scaffold.lines`, :mod:`~playbook.scaffold.accounts`,
  :mod:`~playbook.scaffold.shapes`: billing lines; start dates and contracts; snapshots,
  filters and joins;
* :mod:`~playbook.scaffold.proposal`: the proposal and the params file's text;
* :mod:`~playbook.scaffold.client`: the whole client, from its folder to the params file.
"""

from __future__ import annotations

from playbook.scaffold.client import scaffold_client, write_params
from playbook.scaffold.codes import guess_codes
from playbook.scaffold.columns import match_headers
from playbook.scaffold.proposal import Scaffold
from playbook.scaffold.sources import Source
from playbook.scaffold.synonyms import SYNONYMS
from playbook.scaffold.values import detect_dates, detect_decimal
from playbook.scaffold.yaml_out import one_line, q

__all__ = [
    "SYNONYMS",
    "Scaffold",
    "Source",
    "detect_dates",
    "detect_decimal",
    "guess_codes",
    "match_headers",
    "one_line",
    "q",
    "scaffold_client",
    "write_params",
]
