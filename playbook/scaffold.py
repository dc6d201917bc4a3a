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
  one-month line (:func:`settle_billing`);
* the accounts' start date only where it can be one: never a birth date (by its header, or
  dates mostly over :data:`PERSON_AGE_YEARS` years old) and, beside billing, never dates
  mostly more than a year before each account's first invoice or a month after its first
  billed month; with billing and no such column, the start (and status, churn date and MRR
  the file lacks) is left to the loader, which derives it from billing, and a comment says
  so (:func:`settle_accounts`);
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
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import functools
import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from playbook import paths
from playbook.config import check_client_name
from playbook.contract import TABLES, ColumnSpec
from playbook.errors import DataError, PlaybookError
from playbook.loader import check_header, check_sheet_size, parquet_columns
from playbook.sniff import detect_delimiter, detect_encoding

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet")
MAX_ROWS = 200_000  # rows read per file: enough to judge values, quick on big exports
SAMPLE_ROWS = 3_000  # rows whose values are checked against a column's kind
SURE, LIKELY, GUESS = 95, 85, 60  # score thresholds of the confidence words


class ScaffoldError(PlaybookError):
    """The client's folder cannot be scaffolded (missing, empty, or params already there)."""


# --------------------------------------------------------------------------- vocabulary

#: Headers seen in CRM and customer-success exports, per table and canonical column.
#: ``"*"`` applies to every table. Compared ignoring case and punctuation.
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "*": {
        "account_id": [
            "Account ID", "Customer ID", "Company ID", "Account Number", "AccountId",
            "Account Id (18)", "Account No", "Customer Number", "Customer No", "Client ID",
            "Organization ID", "Organisation ID", "Org ID", "Company GSID", "Account GSID",
            "Account External ID", "External ID", "Account CRM ID", "CRM ID", "CRM Account ID",
            "Salesforce ID", "Salesforce Account ID", "SFDC ID", "SFDC Account ID",
            "HubSpot Company ID", "Associated Company ID", "Associated Company IDs",
            "Company Record ID",
            "Zendesk Organization ID", "Requester Organization ID", "Organization External ID",
            "Account", "Customer Account ID", "ChurnZero Account ID", "Tenant ID",
            # German and French exports
            "Kundennummer", "Kunden-ID", "Kundennr", "Debitorennummer", "Numéro client",
            "ID client", "Code client",
        ],
        "contact_id": [
            "Contact ID", "ContactId", "Person ID", "Contact Record ID", "Contact GSID",
            "Person GSID", "Contact External ID", "Who ID", "WhoId", "Associated Contact ID",
            "Participant ID",
        ],
    },
    "accounts": {
        "account_id": ["ID", "Record ID", "Account Key", "Customer Key"],
        "name": ["Account Name", "Company Name", "Customer Name", "Name", "Organization Name",
                 "Organisation Name", "Company", "Organization", "Client Name", "Customer",
                 "Firma", "Firmenname", "Kunde", "Kundenname", "Raison sociale", "Société",
                 "Nom du client"],
        "industry": ["Industry", "Vertical", "Sector", "Industry Vertical", "Industry Group",
                     "Primary Industry"],
        "employees": ["Employees", "Number of Employees", "NumberOfEmployees", "No of Employees",
                      "Employee Count", "Headcount", "Employee Headcount", "Staff", "FTEs",
                      "Total Employees"],
        "size_band": ["Size", "Company Size", "Size Band", "Employee Range", "Employees Range",
                      "Employee Band", "Size Category", "Company Size Band"],
        "region": ["Region", "Country", "Billing Country", "Geo", "Geography", "Territory",
                   "Country/Region", "Market", "Sales Region", "HQ Country", "Location",
                   "State", "City"],
        "owner": ["Account Owner", "Owner", "CSM", "Customer Success Manager", "CSM Name",
                  "Account Manager", "Company Owner", "HubSpot Owner", "Assigned CSM",
                  "Owner Name", "Account Owner Name", "Success Manager", "CS Owner",
                  "Primary CSM", "Account Owner Full Name"],
        "segment": ["Segment", "Customer Segment", "Tier", "Customer Tier", "Plan", "Plan Tier",
                    "Plan Name", "Account Tier", "Account Segment", "Edition", "Package",
                    "Service Tier", "Subscription Tier", "Market Segment"],
        "start_date": ["Customer Since", "Start Date", "Signup Date", "Sign Up Date",
                       "Sign-up Date", "Contract Start Date", "Became a Customer Date",
                       "Date Became Customer", "Customer Start Date", "First Close Date",
                       "First Purchase Date", "Activation Date", "Subscription Start Date",
                       "Original Contract Date", "Original Start Date", "Onboarded At",
                       "Close Date", "Closed Won Date", "First Contract Date", "Go Live Date"],
        "contract_type": ["Contract", "Contract Type", "Contract Term", "Billing Term",
                          "Subscription Type", "Plan Type", "Commitment", "Contract Length",
                          "Term Type"],
        "contract_term_months": ["Contract Term Months", "Term Months", "Contract Months",
                                 "Contract Length Months", "Commitment Months", "Term Length"],
        "renewal_date": ["Renewal Date", "Next Renewal Date", "Contract End Date",
                         "Contract End", "Renewal", "Subscription End Date", "Term End Date",
                         "Expiration Date", "Expiry Date", "Contract Renewal Date",
                         "Renewal Due Date"],
        "arr": ["ARR", "Annual Recurring Revenue", "Annual Contract Value", "ACV",
                "Contract Value", "Current ARR", "Total ARR", "ARR Amount", "Annual Value",
                "Subscription ARR", "Contract ARR"],
        "mrr": ["MRR", "Monthly Recurring Revenue", "Current MRR", "MRR Amount",
                "Monthly Revenue", "Monthly Fee", "Monthly Amount", "Monthly Value",
                "Monthly Charges", "Monthly Charge", "Monthly Bill", "Monthly Price"],
        "products": ["Products", "Number of Products", "Products Owned", "Product Count",
                     "No of Products", "Number of Modules", "Modules", "Licensed Products"],
        "status": ["Status", "Account Status", "Customer Status", "Churned", "Churn Flag",
                   "Is Churned", "Churn", "Active", "Is Active", "Customer Type", "State",
                   "Lifecycle Status", "Account State", "Subscription Status", "Churn Label",
                   "Churn Status", "Churned Flag", "Type", "Account Type"],
        "churn_date": ["Churn Date", "Churned Date", "Cancellation Date", "Cancelled Date",
                       "Canceled Date", "Termination Date", "Lost Date", "Date Churned",
                       "Churned On", "Cancel Date", "Churned At", "Cancelled At"],
    },
    "mrr": {
        # billing systems name the customer's id "Customer" (Stripe: cus_...)
        "account_id": ["Customer", "Subscriber ID", "Billing Account ID"],
        "month": ["Month", "Period", "Billing Month", "Invoice Month", "Revenue Month",
                  "Month Start", "Billing Period", "Date", "Snapshot Month", "Reporting Month"],
        "mrr": ["MRR", "MRR Amount", "Monthly Recurring Revenue", "Amount", "Monthly Amount",
                "Recurring Revenue", "Subscription MRR", "Net MRR", "Ending MRR",
                "Monthly Revenue", "Revenue", "Line Item Amount", "Line Amount",
                "Item Amount"],
        "start_date": ["Start Date", "Subscription Start", "Subscription Start Date",
                       "Service Start", "Service Start Date", "Contract Start",
                       "Contract Start Date", "Effective Date", "Activated At", "Started At",
                       "Term Start", "Period Start", "Line Item Date From", "Date From",
                       "Service Period Start", "Billing Period Start", "Current Period Start",
                       "Period From", "Invoice Period Start", "Start", "Starts At"],
        "end_date": ["End Date", "Subscription End", "Subscription End Date", "Service End",
                     "Service End Date", "Contract End", "Contract End Date", "Ended At",
                     "Cancelled At", "Canceled At", "Expiration Date", "Term End",
                     "Period End", "Line Item Date To", "Date To", "Service Period End",
                     "Billing Period End", "Current Period End", "Period To",
                     "Invoice Period End", "End", "Ends At"],
        "period_months": ["Bill Period Months", "Billing Period Months", "Period Months",
                          "Interval Count", "Billing Interval Months", "Term Months",
                          "Billing Frequency Months", "Plan Interval Count"],
        "proration": ["Proration", "Is Proration", "Prorated", "Is Prorated"],
    },
    "churn_events": {
        "churn_date": ["Churn Date", "Cancellation Date", "Cancelled Date", "Canceled Date",
                       "Cancelled At", "Canceled At", "Date", "Effective Date",
                       "Termination Date", "Lost Date", "Close Date", "Churned On",
                       "Event Date", "Churned At", "Cancel Date"],
        "reason_category": ["Churn Category", "Reason Category", "Category",
                            "Cancellation Category", "Loss Category", "Churn Reason Category",
                            "Reason Group", "Churn Reason Group"],
        "reason_code": ["Reason", "Churn Reason", "Reason Code", "Cancellation Reason",
                        "Loss Reason", "Closed Lost Reason", "Primary Churn Reason",
                        "Lost Reason", "Churn Reason Code",
                        "Cancel Reason Code", "Cancel Reason", "Cancellation Reason Code"],
        "reason_text": ["Reason Details", "Churn Reason Details", "Comments", "Comment",
                        "Feedback", "Feedback Text", "Notes", "Description", "Churn Notes",
                        "Cancellation Comments", "Details", "Free Text", "Verbatim",
                        "Reason Text", "Churn Comments", "Loss Reason Details"],
        "lost_mrr": ["Lost MRR", "MRR Lost", "Churned MRR", "Churn MRR", "MRR Churned",
                     "Lost Monthly Revenue", "Churned Amount"],
    },
    "renewals": {
        "renewal_date": ["Renewal Date", "Close Date", "Closed Date", "Decision Date",
                         "Renewal Close Date", "Date", "Contract End Date"],
        "outcome": ["Outcome", "Stage", "Stage Name", "Status", "Result", "Renewal Status",
                    "Renewal Outcome", "Opportunity Stage", "Won/Lost", "Is Won", "Renewed",
                    "Deal Stage", "Dealstage"],
        "arr_before": ["ARR Before", "Previous ARR", "Prior ARR", "Old ARR", "Original ARR",
                       "Starting ARR", "Renewal Base", "Expiring ARR", "Available to Renew",
                       "Amount"],  # an opportunity's amount: the ARR up for renewal
        "arr_after": ["ARR After", "New ARR", "Renewed ARR", "Renewal ARR", "Renewal Amount",
                      "Ending ARR"],
    },
    "usage": {
        "month": ["Month", "Date", "Usage Month", "Period", "Usage Date", "Activity Month",
                  "Event Date", "Day", "Week"],
        "active_users": ["Active Users", "MAU", "Monthly Active Users", "Users Active",
                         "Unique Users", "Distinct Users", "Active Seats", "Users"],
        "licensed_seats": ["Licensed Seats", "Seats", "Licenses", "Licences", "Purchased Seats",
                           "Seat Count", "Contracted Seats", "Paid Seats", "Total Licenses",
                           "Licensed Users", "Seats Purchased"],
        "key_actions": ["Key Actions", "Events", "Actions", "Usage Count", "Event Count",
                        "Key Events", "Core Actions", "Feature Usage", "Key Feature Usage"],
    },
    "tickets": {
        "ticket_id": ["Ticket ID", "Ticket Number", "Ticket No", "Case Number", "Case ID",
                      "ID", "Ticket", "Issue Key", "Conversation ID", "Request ID"],
        "opened_at": ["Created", "Created At", "Created Date", "Opened", "Opened At",
                      "Opened Date", "Submitted At", "Submitted", "Date Opened", "Ticket Created",
                      "Created Time", "Requested", "Date/Time Opened", "Created On",
                      "Creation Date"],
        "closed_at": ["Closed", "Closed At", "Closed Date", "Solved", "Solved At",
                      "Resolved At", "Resolved", "Date Closed", "Date/Time Closed",
                      "Ticket Solved", "Resolution Date", "Closed On", "Solved Date"],
        "priority": ["Priority", "Ticket Priority", "Severity", "Case Priority", "Urgency",
                     "Sev", "Priority Level", "Severity Level"],
        "hours_spent": ["Hours Spent", "Time Spent", "Time Spent Hours", "Hours Logged",
                        "Time Logged", "Effort Hours", "Effort", "Total Time Spent",
                        "Handle Time", "Work Hours", "Agent Hours", "Time Worked",
                        "Total Time Spent Hours"],
    },
    "surveys": {
        "date": ["Date", "Response Date", "Survey Date", "Responded At", "Submitted At",
                 "Completed At", "Answered At", "Created At", "Received At", "Survey Sent",
                 "Response Time", "Submitted"],
        "nps": ["NPS", "NPS Score", "Score NPS", "Likelihood to Recommend",
                "How Likely to Recommend", "Recommend Score", "Net Promoter Score",
                "NPS Rating", "Recommendation Score"],
        "csat": ["CSAT", "CSAT Score", "Satisfaction", "Satisfaction Score",
                 "Satisfaction Rating", "Customer Satisfaction", "Rating", "Ticket Satisfaction",
                 "Ticket Satisfaction Score", "Customer Satisfaction Score", "CSAT Rating"],
    },
    "contacts": {
        "contact_id": ["ID", "Record ID", "Email", "Email Address", "Contact Email"],
        "role": ["Role", "Persona", "Contact Role", "Buying Role", "Contact Type",
                 "Stakeholder Role", "Type", "Contact Persona"],
        "seniority": ["Seniority", "Level", "Job Level", "Management Level", "Seniority Level",
                      "Title Level"],
        "relationship_strength": ["Relationship", "Relationship Strength", "Sentiment",
                                  "Relationship Status", "Engagement", "Strength",
                                  "Relationship Score", "Contact Sentiment"],
    },
    "touches": {
        "date": ["Date", "Activity Date", "Activity Date/Time", "Created Date", "Timestamp",
                 "Logged At", "Meeting Date", "Call Date", "Completed Date", "Occurred At",
                 "Event Date", "Activity Timestamp", "Engagement Date", "Touch Date"],
        "type": ["Type", "Activity Type", "Task Type", "Touch Type", "Channel",
                 "Interaction Type", "Event Type", "Subtype", "Engagement Type",
                 "Timeline Activity Type", "Activity Subtype", "Touchpoint Type"],
    },
    "csm_inputs": {
        "date": ["Date", "Assessed On", "Scored On", "Assessment Date", "Updated At",
                 "Last Updated", "Snapshot Date", "Score Date"],
        "executive_relationship": ["Executive Relationship", "Exec Relationship",
                                   "Executive Sponsor", "Exec Sponsor Score",
                                   "Executive Engagement", "Executive Alignment",
                                   "Executive Sponsor Score"],
        "champion_quality": ["Champion Quality", "Champion", "Champion Strength",
                             "Champion Score", "Champion Engagement"],
        "reference_value": ["Reference Value", "Referenceability", "Reference Potential",
                            "Advocacy", "Reference", "Advocate Score", "Advocacy Score"],
    },
    "onboarding": {
        "step": ["Step", "Milestone", "Onboarding Step", "Task", "Stage", "Phase",
                 "Milestone Name", "Success Plan Task", "Objective", "Task Name",
                 "Onboarding Stage"],
        "completed_date": ["Completed On", "Completed Date", "Completed At", "Date Completed",
                           "Completion Date", "Done Date", "Finished", "Achieved On", "Date",
                           "Milestone Date"],
    },
}

#: Generic headers of a code column (Salesforce's account "Type"): proposed only when every
#: value maps onto the contract's codes ("Customer - Direct", "Former Customer").
WEAK_CODE_HEADERS: dict[str, set[str]] = {"status": {"type", "accounttype"}}

#: Headers that look like a contract column but are something else (why, in a few words).
NOT_THIS: dict[str, str] = {
    "annualrevenue": "the company's own revenue in Salesforce, not what it pays",
    "seats": "licensed seats, not company size",
    "refundamount": "a refund, not lost MRR",
    "refundamountusd": "a refund, not lost MRR",
    "resolutiontimehours": "elapsed time to resolve, not hours spent by support",
    "resolutiontime": "elapsed time to resolve, not hours spent by support",
    "firstresponsetimeminutes": "response time, not hours spent",
    "createddate": "when the CRM record was created, not necessarily when the customer started",
    "arramount": "ARR of the line; the mrr table takes MRR",
    "amount": "check whether it is monthly (MRR) or annual",
}

#: Words in a file name that say which table it holds.
FILE_WORDS: dict[str, tuple[str, ...]] = {
    "accounts": ("account", "accounts", "company", "companies", "customer", "customers",
                 "client", "clients", "organization", "organizations", "organisations", "orgs"),
    "mrr": ("mrr", "subscription", "subscriptions", "billing", "invoice", "invoices",
            "revenue", "arr", "charges", "recurring"),
    "churn_events": ("churn", "churns", "cancellation", "cancellations", "cancel", "churned"),
    "renewals": ("renewal", "renewals", "opportunities", "opportunity", "opps", "deals",
                 "deal"),
    "usage": ("usage", "analytics", "adoption", "logins", "telemetry"),
    "tickets": ("ticket", "tickets", "support", "cases", "case", "zendesk", "helpdesk",
                "incidents"),
    "surveys": ("survey", "surveys", "nps", "csat", "responses"),
    "contacts": ("contact", "contacts", "people", "persons", "stakeholders"),
    "touches": ("touch", "touches", "activities", "activity", "interactions", "engagements",
                "meetings", "calls", "timeline", "tasks"),
    "csm_inputs": ("csm", "scores", "scorecard", "scorecards", "health", "assessments"),
    "onboarding": ("onboarding", "milestones", "milestone", "implementation"),
}

#: Words that prefix a header in a table's own export ("Ticket Priority", "Account Owner").
PREFIXES: dict[str, tuple[str, ...]] = {
    "accounts": ("account", "company", "customer", "client", "organization", "org"),
    "mrr": ("subscription", "sub", "billing", "invoice", "line"),
    "churn_events": ("churn", "cancellation", "event"),
    "renewals": ("renewal", "opportunity", "opp"),
    "usage": ("usage",),
    "tickets": ("ticket", "case", "request"),
    "surveys": ("survey", "response"),
    "contacts": ("contact", "person"),
    "touches": ("activity", "touch", "task", "event", "engagement"),
    "csm_inputs": ("csm", "health"),
    "onboarding": ("onboarding", "milestone"),
}

ID_WORDS = {"id", "ids", "number", "no", "nr", "num", "key", "ref", "code", "gsid", "uuid",
            "guid"}
UNIT_WORDS = {"usd", "eur", "gbp", "chf", "cad", "aud", "sek", "nok", "dkk", "jpy", "inr",
              "brl", "mxn", "zar", "sgd", "nzd", "pln", "in", "num", "count", "nr"}
CURRENCIES = ("USD", "EUR", "GBP", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "JPY", "INR",
              "BRL", "MXN", "ZAR", "SGD", "NZD", "PLN")
CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP"}

#: Client values -> canonical codes, per code column (compared ignoring case/punctuation).
CODE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "status": {
        "active": ("active", "live", "current", "customer", "paying", "open", "activecustomer",
                   "renewing", "inprogress", "subscribed", "existing"),
        "churned": ("churned", "churn", "cancelled", "canceled", "cancel", "lost", "closedlost",
                    "inactive", "terminated", "formercustomer", "former", "ended", "expired",
                    "notrenewed", "nonrenewal", "deactivated", "closed", "exited"),
    },
    "outcome": {
        "renewed": ("renewed", "renewal", "won", "closedwon", "closedwonrenewal", "renew",
                    "yes", "extended", "flat", "upsell", "expanded", "expansion"),
        "churned": ("churned", "cancelled", "canceled", "lost", "closedlost", "notrenewed",
                    "nonrenewal", "churn", "no", "terminated"),
        "downgraded": ("downgraded", "downgrade", "downsell", "contraction", "reduced",
                       "partialchurn", "renewedlower", "downsized"),
    },
    "priority": {
        "urgent": ("urgent", "critical", "p1", "sev1", "severity1", "blocker", "highest",
                   "emergency", "p0", "sev0"),
        "high": ("high", "p2", "sev2", "severity2", "major"),
        "medium": ("medium", "normal", "p3", "sev3", "severity3", "moderate", "med"),
        "low": ("low", "p4", "p5", "sev4", "severity4", "minor", "lowest", "trivial"),
    },
    "role": {
        "user": ("user", "enduser", "member", "admin", "administrator", "poweruser",
                 "practitioner", "influencer"),
        "champion": ("champion", "advocate", "internalchampion", "primarycontact"),
        "executive": ("executive", "exec", "economicbuyer", "decisionmaker",
                      "executivesponsor", "sponsor", "buyer", "signer"),
    },
    "seniority": {
        "c_level": ("clevel", "csuite", "ceo", "cxo", "cfo", "cto", "coo", "cio", "owner",
                    "founder", "president", "executive", "chief"),
        "vp": ("vp", "vicepresident", "svp", "evp", "avp", "headof"),
        "director": ("director", "seniordirector", "head"),
        "manager": ("manager", "lead", "teamlead", "seniormanager", "supervisor"),
        "individual": ("individual", "individualcontributor", "ic", "staff", "analyst",
                       "employee", "associate", "specialist", "nonmanager", "entry"),
    },
    "relationship_strength": {
        "strong": ("strong", "good", "high", "excellent", "positive", "green", "promoter"),
        "medium": ("medium", "neutral", "moderate", "ok", "average", "fair", "yellow", "amber"),
        "weak": ("weak", "poor", "low", "negative", "red", "bad", "detractor", "none"),
    },
    "type": {
        "call": ("call", "phone", "phonecall", "loggedcall", "calllog", "conferencecall",
                 "videocall"),
        "email": ("email", "emails", "mail", "outboundemail", "inboundemail"),
        "meeting": ("meeting", "videomeeting", "zoom", "teams", "checkin", "sync"),
        "qbr": ("qbr", "ebr", "businessreview", "quarterlybusinessreview",
                "executivebusinessreview"),
        "onsite": ("onsite", "onsitevisit", "visit", "inperson", "sitevisit", "customervisit"),
        "webinar": ("webinar", "training", "event", "workshop", "office hours", "officehours"),
    },
}
TRUE_WORDS = {"true", "t", "yes", "y", "1", "1.0"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "0.0"}

KIND_WORDS = {"date": "dates", "month": "dates", "money": "amounts", "number": "numbers",
              "count": "whole numbers", "id": "identifiers", "text": "text", "code": "codes",
              "bool": "true/false"}


# --------------------------------------------------------------------------- names


def norm(name: str) -> str:
    """Lower-case letters and digits only: 'ARR (USD)' -> 'arrusd'."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def tokens(name: str) -> list[str]:
    """Words of a header, camelCase split: 'AccountId' -> ['account', 'id']."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    return re.findall(r"[a-z0-9]+", spaced.lower())


def stem(name: str) -> str:
    """A header without parenthesised units and currency words: 'ARR (USD)' -> 'arr'."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", str(name))
    words = [w for w in tokens(text) if w not in UNIT_WORDS]
    return "".join(words)


def _unprefixed(name: str, table: str) -> str:
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", str(name))
    words = [w for w in tokens(text) if w not in UNIT_WORDS]
    if len(words) > 1 and words[0] in PREFIXES.get(table, ()):
        return "".join(words[1:])
    return ""


def synonyms(table: str, column: str) -> list[str]:
    """Known export headers of ``table.column`` (table-specific first, then general)."""
    return [*SYNONYMS.get(table, {}).get(column, []), *SYNONYMS["*"].get(column, [])]


# --------------------------------------------------------------------------- values

_TIME = r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?[AaPp][Mm])?(Z|[+-]\d{2}:?\d{2})?)?"
_ISO = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2})?" + _TIME + "$")
_ISO_SLASH = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?$")
_DM = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{2}|\d{4})" + _TIME + "$")
_MONTH_NAME = re.compile(r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b")
_NUMBERISH = re.compile(r"^[-+(]?\s*[$€£]?\s*[\d.,' \u00a0]*\d\s*%?\)?$")


def _blank_mask(values: pd.Series) -> pd.Series:
    text = values.astype(str).str.strip()
    return text.eq("") | text.str.lower().isin({"nan", "nat", "none", "null", "n/a", "na", "-"})


def nonblank(values: pd.Series) -> pd.Series:
    """The non-blank values of a text column, stripped."""
    values = values.astype(str).str.strip()
    return values[~_blank_mask(values)]


@dataclass
class DateGuess:
    """How a column writes its dates.

    ``style``: ``iso``, ``dayfirst``, ``monthfirst``, ``ambiguous`` (day and month both
    12 or less everywhere), ``mixed`` (both orders), ``excel`` (serial numbers), ``text``
    (other text pandas can read, e.g. '15 Jan 2024'), ``none`` (not dates).
    ``share``: share of non-blank values that are dates. ``date_format``: a strptime
    format that reads every value, when there is one.
    """

    style: str
    share: float
    date_format: str | None = None
    evidence: str = ""
    example: str = ""


def detect_dates(values: pd.Series) -> DateGuess:
    """Classify the date format of a column from its values."""
    text = nonblank(values)
    if text.empty:
        return DateGuess("none", 0.0)
    sample = text.drop_duplicates().head(2000)
    n = len(sample)
    iso = sample.str.match(_ISO) | sample.str.match(_ISO_SLASH)
    dm = sample.str.extract(_DM)
    is_dm = dm[0].notna()
    numbers = pd.to_numeric(sample, errors="coerce")
    excel = numbers.between(20000, 80000) & ~iso & ~is_dm
    first = pd.to_numeric(dm[0], errors="coerce")
    second = pd.to_numeric(dm[2], errors="coerce")
    day_first = is_dm & (first > 12) & (second <= 12)
    month_first = is_dm & (second > 12) & (first <= 12)
    # Other text dates ('15 Jan 2024', 'Jan 15, 2024'): a month name beside digits.
    other = ~(iso | is_dm | excel) & sample.str.contains(_MONTH_NAME) & sample.str.contains(
        r"\d")
    if other.any():
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(sample[other].head(300), format="mixed", errors="coerce")
        share_ok = parsed.notna().mean() if len(parsed) else 0.0
        other &= share_ok >= 0.8
    share = float((iso | is_dm | excel | other).mean())
    example = str(sample.iloc[0])
    if share < 0.5:
        return DateGuess("none", share, example=example)
    if is_dm.sum() >= max(iso.sum(), excel.sum(), other.sum()):
        seps = set(dm.loc[is_dm, 1])
        years = set(dm.loc[is_dm, 3].str.len())
        timed = dm.loc[is_dm, 4].notna().any()
        ex_day = sample[day_first].head(1).tolist()
        ex_month = sample[month_first].head(1).tolist()
        if day_first.any() and month_first.any():
            return DateGuess("mixed", share, evidence=(
                f"{int(day_first.sum())} values are day-first (e.g. {ex_day[0]}) and "
                f"{int(month_first.sum())} month-first (e.g. {ex_month[0]})"), example=example)
        fmt = None
        if len(seps) == 1 and len(years) == 1 and not timed and is_dm.all():
            sep, year = seps.pop(), "%Y" if years.pop() == 4 else "%y"
            fmt = (f"%d{sep}%m{sep}{year}" if day_first.any()
                   else f"%m{sep}%d{sep}{year}" if month_first.any() else None)
        if day_first.any():
            return DateGuess("dayfirst", share, fmt, f"{int(day_first.sum())} of {n} distinct "
                             f"values have a day above 12 in the first place (e.g. {ex_day[0]}), "
                             "none in the second", example)
        if month_first.any():
            return DateGuess("monthfirst", share, fmt, f"{int(month_first.sum())} of {n} "
                             "distinct values have a day above 12 in the second place (e.g. "
                             f"{ex_month[0]}), none in the first", example)
        return DateGuess("ambiguous", share, evidence=(
            f"no value has a number above 12 in the first two places (e.g. {example}): "
            "DD-MM and MM-DD cannot be told apart"), example=example)
    if excel.sum() >= max(iso.sum(), other.sum()):
        return DateGuess("excel", share, evidence=f"Excel serial numbers (e.g. {example})",
                         example=example)
    if iso.sum() >= other.sum():
        return DateGuess("iso", share, evidence="ISO dates (YYYY-MM-DD)", example=example)
    return DateGuess("text", share, evidence=f"dates written as text (e.g. {example})",
                     example=example)


def parse_dates_loosely(values: pd.Series, dayfirst: bool = False) -> pd.Series:
    """Dates of a column for ranges (ISO, then day/month text, then Excel serials); a time
    zone is converted to UTC and dropped ('2024-08-07T08:00:00Z')."""
    import warnings

    text = values.astype(str).str.strip()
    out = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
    rest = out.isna() & ~_blank_mask(text)
    if rest.any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            other = pd.to_datetime(text[rest], format="mixed", dayfirst=dayfirst,
                                   errors="coerce", utc=True).dt.tz_localize(None)
        out = out.astype("datetime64[ns]")
        out[rest] = other.astype("datetime64[ns]")
        serial = pd.to_numeric(text[out.isna()], errors="coerce")
        ok = serial.between(20000, 80000)
        out[serial[ok].index] = pd.Timestamp("1899-12-30") + pd.to_timedelta(serial[ok],
                                                                             unit="D")
    return out.astype("datetime64[ns]")


def numeric_share(values: pd.Series) -> float:
    """Share of non-blank values that read as numbers (either decimal mark)."""
    text = nonblank(values)
    if text.empty:
        return 0.0
    return float(text.str.match(_NUMBERISH).mean())


def parse_numbers_loosely(values: pd.Series, decimal: str = ".") -> pd.Series:
    text = values.astype(str).str.strip().str.replace(r"[\s$€£\u00a0']", "", regex=True)
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(",", "", regex=False)
    text = text.str.replace(r"^\((.*)\)$", r"-\1", regex=True).str.rstrip("%")
    return pd.to_numeric(text, errors="coerce")


def detect_decimal(values: pd.Series) -> tuple[str | None, str]:
    """(',' or '.' or None, evidence) from number texts: '1.234,56' and '12,5' say comma."""
    text = nonblank(values).str.replace(r"[\s$€£\u00a0]", "", regex=True)
    comma = text.str.match(r"^[-+]?\d{1,3}(\.\d{3})+,\d+$|^[-+]?\d+,(\d{1,2}|\d{4,})$")
    point = text.str.match(r"^[-+]?\d{1,3}(,\d{3})+\.\d+$|^[-+]?\d+\.(\d{1,2}|\d{4,})$")
    if comma.any() and not point.any():
        return ",", f"decimal comma (e.g. {text[comma].iloc[0]})"
    if point.any() and not comma.any():
        return ".", ""
    if comma.any() and point.any():
        return None, (f"both decimal marks occur (e.g. {text[comma].iloc[0]} and "
                      f"{text[point].iloc[0]})")
    return None, ""


def value_fit(col: ColumnSpec, values: pd.Series, header: str = "") -> tuple[int, str]:
    """(score adjustment, note) for how well a column's values fit a contract column."""
    text = nonblank(values)
    if text.empty:
        return 0, "the column is empty"
    n = len(text)
    if col.kind in ("date", "month"):
        guess = detect_dates(text)
        if guess.share < 0.8:
            return -40, f"but its values do not look like dates (e.g. '{text.iloc[0]}')"
        return 3, ""
    if col.kind in ("money", "number", "count"):
        share = numeric_share(text)
        if share < 0.8:
            return -40, f"but its values are not numbers (e.g. '{text.iloc[0]}')"
        if col.kind in ("money", "number") and detect_dates(text.head(200)).style in (
                "iso", "dayfirst", "monthfirst", "mixed"):
            return -40, "but its values are dates"
        nums = parse_numbers_loosely(text)
        if nums.isna().mean() > 0.2:
            nums = parse_numbers_loosely(text, ",")
        nums = nums.dropna()
        if col.min is not None and col.max is not None and len(nums):
            inside = nums.between(col.min, col.max).mean()
            if inside < 0.9:
                return -35, (f"but its values run {nums.min():g}-{nums.max():g}, outside the "
                             f"{col.min:g}-{col.max:g} scale")
        if col.kind in ("money", "count") and len(nums) and (nums < 0).mean() > 0.2:
            return -20, "but many values are negative"
        return 3, ""
    if col.kind == "code":
        codes = guess_codes(col.name, header, text)
        if norm(header) in WEAK_CODE_HEADERS.get(col.name, ()) and codes.unmapped:
            return -40, f"but '{header}' holds values that are not {col.name} codes"
        if codes.mapped_share >= 0.5:
            return 3, ""
        if text.nunique() > 40:
            return -30, f"but it has {text.nunique()} different values, not a short list"
        return -5, ""
    if col.kind == "id":
        if text.nunique() == 1 and n > 1:
            return -30, "but it holds one value only"
        return 0, ""
    if col.kind == "text" and n > 1 and text.nunique() == 1:
        return -25, "but it holds one value only"
    return 0, ""


# --------------------------------------------------------------------------- codes


@dataclass
class CodeGuess:
    """Proposed mapping of one code column's client values onto canonical codes."""

    column: str
    header: str
    counts: dict[str, int]
    mapping: dict[str, str]
    how: dict[str, str] = field(default_factory=dict)  # value -> sure/likely/guess
    note: str = ""

    @property
    def unmapped(self) -> list[str]:
        return [v for v in self.counts if v not in self.mapping]

    @property
    def mapped_share(self) -> float:
        total = sum(self.counts.values())
        return sum(c for v, c in self.counts.items() if v in self.mapping) / total if total else 0


def guess_codes(column: str, header: str, values: pd.Series, limit: int = 40) -> CodeGuess:
    """Map a code column's values onto the contract's codes by known words.

    True/false flags are read through the header: 'churn_flag' TRUE means churned,
    'is_active' TRUE means active.
    """
    text = nonblank(values)
    counts = dict(Counter(text).most_common(limit))
    words = CODE_WORDS.get(column, {})
    mapping: dict[str, str] = {}
    how: dict[str, str] = {}
    note = ""
    lowered = {v.lower() for v in counts}
    if lowered and lowered <= TRUE_WORDS | FALSE_WORDS and column in ("status", "outcome"):
        h = norm(header)
        yes = None
        if column == "status":
            if any(w in h for w in ("churn", "cancel", "lost", "inactive", "terminat")):
                yes, no = "churned", "active"
            elif "active" in h or "customer" in h or "paying" in h:
                yes, no = "active", "churned"
        else:
            if any(w in h for w in ("renew", "won", "retain")):
                yes, no = "renewed", "churned"
            elif any(w in h for w in ("churn", "lost", "cancel")):
                yes, no = "churned", "renewed"
        if yes is not None:
            for v in counts:
                mapping[v] = yes if v.lower() in TRUE_WORDS else no
                how[v] = "likely"
            note = f"a true/false flag: '{header}' true means {yes}"
        else:
            note = f"a true/false flag; which value means {words and list(words)[-1]}?"
        return CodeGuess(column, header, counts, mapping, how, note)
    for value in counts:
        v = norm(value)
        hit = next((code for code, ws in words.items() if v == norm(code) or v in ws), None)
        if hit:
            mapping[value], how[value] = hit, "sure" if v == norm(hit) else "likely"
            continue
        best = None
        for code, ws in words.items():
            for w in (*ws, norm(code)):
                word = re.search(rf"(^|[^a-z0-9]){re.escape(w)}($|[^a-z0-9])",
                                 value.lower().replace("-", " "))
                found = (len(w) >= 2 and word) or (len(w) >= 4 and w in v)
                if found and (best is None or len(w) > len(best[1])):
                    best = (code, w)
        if best:
            mapping[value], how[value] = best[0], "guess"
    return CodeGuess(column, header, counts, mapping, how, note)


# --------------------------------------------------------------------------- reading


@dataclass
class Source:
    """One table-shaped thing in the client's folder: a CSV/Parquet file or an Excel sheet."""

    path: Path
    frame: pd.DataFrame  # every cell as text, header applied
    sheet: str | None = None
    sheets: int = 1
    header_row: int = 1
    delimiter: str | None = None
    encoding: str | None = None
    rows: int = 0
    truncated: bool = False
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def sample(self) -> pd.DataFrame:
        """Up to SAMPLE_ROWS rows drawn evenly (fixed seed): what value checks look at."""
        if "sample" not in self.cache:
            f = self.frame
            self.cache["sample"] = (f.sample(n=SAMPLE_ROWS, random_state=0)
                                    if len(f) > SAMPLE_ROWS else f)
        return self.cache["sample"]

    def dates(self, header: str) -> DateGuess:
        key = ("dates", header)
        if key not in self.cache:
            self.cache[key] = detect_dates(self.sample()[header])
        return self.cache[key]

    def fit(self, col: ColumnSpec, header: str) -> tuple[int, str]:
        key = ("fit", col.name, col.kind, header)
        if key not in self.cache:
            self.cache[key] = value_fit(col, self.sample()[header], header)
        return self.cache[key]

    @property
    def label(self) -> str:
        return self.path.name + (f" [{self.sheet}]" if self.sheet is not None else "")

    @property
    def headers(self) -> list[str]:
        return list(self.frame.columns)


def _looks_like_header(cells: list[str], width: int) -> bool:
    filled = [c for c in cells if str(c).strip()]
    if len(filled) < max(2, 0.8 * width):
        return False
    valueish = sum(bool(re.match(r"^[-+]?[\d.,/: -]+$", str(c).strip())) for c in filled)
    return valueish <= 0.2 * len(filled)


def _header_line(rows: list[list[str]]) -> int:
    """1-based line of the header among the first rows (title lines above it skipped)."""
    if not rows:
        return 1
    width = Counter(sum(1 for c in r if str(c).strip()) for r in rows[1:] or rows)
    modal = max(width.items(), key=lambda kv: (kv[1], kv[0]))[0] if width else 0
    for number, row in enumerate(rows[:30], start=1):
        if _looks_like_header(row, max(modal, 2)):
            return number
    return 1


def _text_cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            return ""
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _frame_from_rows(raw: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    rows = [[_text_cell(v) for v in r] for r in raw.head(30).itertuples(index=False)]
    line = _header_line(rows)
    header = [str(c).strip() for c in rows[line - 1]] if rows else []
    body = raw.iloc[line:].map(_text_cell) if len(raw) > line else raw.iloc[0:0]
    names, seen = [], Counter()
    for i, h in enumerate(header):
        h = h or f"Unnamed: {i}"
        seen[h] += 1
        names.append(h if seen[h] == 1 else f"{h}.{seen[h] - 1}")
    body.columns = names
    keep = [c for c in body.columns if not (c.startswith("Unnamed: ")
                                            and nonblank(body[c]).empty)]
    return body[keep].reset_index(drop=True), line


def read_sources(path: Path) -> list[Source]:
    """Read a file of the client's folder as text tables (one per Excel sheet)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        encoding = detect_encoding(path)
        with path.open(encoding=encoding, errors="replace", newline="") as fh:
            sample = fh.read(64 * 1024)
        sep = detect_delimiter(path, encoding)
        rows = list(csv.reader(sample.splitlines()[:30], delimiter=sep))
        line = _header_line(rows)
        check_header("scaffold", path, encoding, sep, line)  # limits (playbook.loader)
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                            skiprows=line - 1, encoding=encoding, skipinitialspace=True,
                            nrows=MAX_ROWS, on_bad_lines="skip", engine="c")
        frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
        frame = frame.loc[~frame.apply(lambda c: c.str.strip().eq("")).all(axis=1)]
        return [Source(path, frame.reset_index(drop=True), header_row=line, delimiter=sep,
                       encoding=encoding, rows=len(frame), truncated=len(frame) >= MAX_ROWS)]
    if suffix in (".xlsx", ".xlsm", ".xls"):
        check_sheet_size("scaffold", path, None)
        book = pd.read_excel(path, sheet_name=None, header=None, dtype=object, nrows=MAX_ROWS)
        out = []
        for name, raw in book.items():
            raw = raw.dropna(how="all")
            if raw.empty:
                continue
            frame, line = _frame_from_rows(raw.reset_index(drop=True))
            out.append(Source(path, frame, sheet=str(name), sheets=len(book),
                              header_row=int(raw.index[line - 1]) + 1, rows=len(frame)))
        return out
    if suffix == ".parquet":
        parquet_columns("scaffold", path)
        raw = pd.read_parquet(path)
        frame = raw.head(MAX_ROWS).map(_text_cell)
        frame.columns = [str(c) for c in frame.columns]
        return [Source(path, frame, rows=len(raw), truncated=len(raw) > MAX_ROWS)]
    return []


# --------------------------------------------------------------------------- matching


@dataclass
class ColumnGuess:
    """One proposed mapping: canonical column <- client header, with the evidence."""

    column: str
    header: str
    score: int
    how: str
    note: str = ""

    @property
    def confidence(self) -> str:
        return "sure" if self.score >= SURE else "likely" if self.score >= LIKELY else "guess"


@functools.lru_cache(maxsize=256)
def _targets(table: str, column: str) -> frozenset[str]:
    return frozenset({norm(column)} | {norm(x) for x in synonyms(table, column)})


@functools.lru_cache(maxsize=20_000)
def _header_score(table: str, col: ColumnSpec, header: str) -> tuple[int, str]:
    if header == col.name:
        return 100, "same name"
    n, s, u = norm(header), stem(header), _unprefixed(header, table)
    if n == norm(col.name):
        return 97, "same name ignoring case and punctuation"
    target = _targets(table, col.name)
    if n in target:
        return 90, "known export header"
    if s and s in target:
        return 88, "known header once the unit is removed"
    if u and u in target:
        return 86, f"known header without its '{tokens(header)[0]}' prefix"
    key = s or n
    if col.kind == "id" and not set(tokens(header)) & ID_WORDS:
        return 0, ""  # an identifier's header names it as one ('Company' is a name)
    best = 0.0
    for t in target:
        if 2 * min(len(key), len(t)) < 0.86 * (len(key) + len(t)):
            continue  # lengths alone rule it out
        m = difflib.SequenceMatcher(None, key, t)
        if m.real_quick_ratio() >= 0.86 and m.quick_ratio() >= 0.86:
            best = max(best, m.ratio())
    if best >= 0.86 and len(key) >= 4:
        return 66, "similar name"
    return 0, ""


def match_headers(table: str, headers: list[str], source: Source | None = None
                  ) -> dict[str, ColumnGuess]:
    """Propose the client header for each contract column of ``table``.

    Each header serves at most one column; the best-scoring pairs are taken first. With
    ``source`` (the file's values) a header whose values do not fit the column's kind is
    marked down, below the threshold when they clearly do not fit.
    """
    spec = TABLES[table]
    pairs: list[tuple[int, int, str, str, str, str]] = []
    for order, col in enumerate(spec.columns):
        for header in headers:
            score, how = _header_score(table, col, header)
            if not score or (col.kind in ("date", "month") and birth_like_header(header)):
                continue  # a person's birth date is no date of the contract
            note = ""
            if source is not None:
                adjust, note = source.fit(col, header)
                score = min(100, score + adjust)
            if score >= GUESS:
                pairs.append((score, -order, col.name, header, how, note))
    pairs.sort(key=lambda p: (p[0], p[1]), reverse=True)
    out: dict[str, ColumnGuess] = {}
    used: set[str] = set()
    for score, _, column, header, how, note in pairs:
        if column in out or header in used:
            continue
        out[column] = ColumnGuess(column, header, score, how, note)
        used.add(header)
    return out


def value_only_guess(table: str, column: str, source: Source, used: set[str]
                     ) -> ColumnGuess | None:
    """For a required column no header matched: the one unused column whose values fit."""
    col = TABLES[table].column(column)
    if col.kind not in ("date", "month"):
        return None
    fits = [h for h in source.headers if h not in used and source.dates(h).share >= 0.9
            and not birth_like_header(h) and not birth_like_values(source, h)]
    if len(fits) != 1:
        return None
    return ColumnGuess(column, fits[0], 50, "the only unused date column",
                       "from the values only: confirm")


# --------------------------------------------------------------------------- tables


def needed_columns(table: str, layout: str | None) -> list[str]:
    spec = TABLES[table]
    if table == "mrr":
        return ["account_id", "mrr", "start_date"] if layout == "lines" else [
            "account_id", "month", "mrr"]
    return [c.name for c in spec.columns if c.required]


@dataclass
class TableGuess:
    """One proposed ``tables.<name>`` entry."""

    table: str
    source: Source
    columns: dict[str, ColumnGuess]
    layout: str | None = None
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    secondary: bool = False
    decimal: str | None = None
    decimal_note: str = ""
    dates: dict[str, DateGuess] = field(default_factory=dict)
    dayfirst: bool | None = None
    date_format: str | None = None
    date_notes: list[str] = field(default_factory=list)
    codes: dict[str, CodeGuess] = field(default_factory=dict)
    #: further ``tables.<name>`` options: key -> (YAML value, written by q/plain, comment)
    options: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: canonical columns the loader derives (not mapped): column -> how, for the comment;
    #: a required one is written ``null`` (left unmapped on purpose, never matched by name)
    derived: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # comment lines under the columns
    #: table assembly (playbook.assembly): joins, row filters and derivations, each with
    #: its comment; values of the client are written by q(), the vocabulary's words plain
    joins: list[tuple[dict, str]] = field(default_factory=list)
    filters: list[tuple[dict, str]] = field(default_factory=list)
    derive: dict[str, tuple[dict, str]] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        return [c for c in needed_columns(self.table, self.layout)
                if c not in self.columns and c not in self.derived and c not in self.derive]

    @property
    def confidence(self) -> str:
        if self.missing or self.secondary:
            return "guess"
        low = min((g.score for g in self.columns.values()), default=0)
        return "sure" if self.score >= 150 and low >= LIKELY else "likely"

    def unmapped(self) -> list[str]:
        used = {g.header for g in self.columns.values()} | self.assembly_headers()
        return [h for h in self.source.headers if h not in used]

    def assembly_headers(self) -> set[str]:
        """Headers of the file the joins, filters and derivations read."""
        out = {rule["column"] for rule, _ in self.filters}
        out |= {left for join, _ in self.joins for left in join["on"]}
        for rule, _ in self.derive.values():
            inner = next(iter(rule.values()))
            if isinstance(inner, dict):
                out |= {v for k, v in inner.items() if k in ("date", "months")
                        and not isinstance(v, Word)}
            elif isinstance(inner, str) and not isinstance(inner, Word):
                out.add(inner)
        return out


def _file_hint(table: str, source: Source) -> str:
    """The word of the file (or sheet) name that says it holds ``table`` ("" if none)."""
    words = [*tokens(source.path.stem), *tokens(source.sheet or "")]
    return next((w for w in words if w in FILE_WORDS[table]), "")


def _key_unique(table: str, source: Source, columns: dict[str, ColumnGuess]) -> bool | None:
    key = TABLES[table].key
    if table == "mrr" or not key or not all(k in columns for k in key):
        return None
    frame = source.frame[[columns[k].header for k in key]]
    frame = frame.loc[~frame.apply(lambda c: _blank_mask(c)).any(axis=1)]
    return bool(len(frame)) and not frame.duplicated().any()


def propose_table(table: str, source: Source) -> TableGuess:
    """Match one source against one table and score the fit."""
    cols = match_headers(table, source.headers, source)
    layout = None
    if table == "mrr":
        layout = "lines" if "month" not in cols and "start_date" in cols else "monthly"
        if layout == "monthly":
            cols.pop("start_date", None)
            cols.pop("end_date", None)
    guess = TableGuess(table, source, cols, layout)
    needed = needed_columns(table, layout)
    for column in guess.missing if _file_hint(table, source) else ():
        extra = value_only_guess(table, column, source, {g.header for g in cols.values()})
        if extra is not None:
            cols[column] = extra
    found = [c for c in needed if c in cols]
    coverage = len(found) / len(needed)
    optional = [c for c, g in cols.items() if c not in needed and g.score >= LIKELY]
    hint = _file_hint(table, source)
    unique = _key_unique(table, source, cols)
    score = 100 * coverage + 12 * len(optional) + (45 if hint else 0)
    score += sum(cols[c].score for c in found) / max(len(needed), 1) / 10
    if unique is True:
        score += 15
        guess.reasons.append(f"{'/'.join(TABLES[table].key)} unique in {source.rows:,} rows")
    elif unique is False:
        score -= 120
        guess.reasons.append(f"{'/'.join(TABLES[table].key)} repeats")
    if hint:
        where = "sheet" if hint in tokens(source.sheet or "") else "file"
        guess.reasons.insert(0, f"the {where} name says '{hint}'")
    guess.reasons.append(f"{len(cols)} of {len(TABLES[table].columns)} columns found")
    guess.score = score
    return guess


def _usable(guess: TableGuess) -> bool:
    needed = needed_columns(guess.table, guess.layout)
    coverage = 1 - len(guess.missing) / len(needed)
    hint = _file_hint(guess.table, guess.source)
    if TABLES[guess.table].references_accounts and "account_id" in guess.missing:
        return False  # cannot be tied to accounts: listed as not used, with the reason
    if hint and TABLES[guess.table].required:
        return True  # the file name says it is the required table: propose it, flag the gaps
    spec = TABLES[guess.table]
    content = [c for c, g in guess.columns.items()
               if spec.column(c).kind != "id" and g.score >= LIKELY]
    if not hint and not content:
        return False  # an account column alone does not say which table a file is
    if guess.table == "churn_events" and _profile_file(guess):
        return False  # who the customers are, not when and why they left
    return guess.score > 0 and (coverage == 1 or (bool(hint) and coverage >= 0.5))


def _profile_file(guess: TableGuess) -> bool:
    """Whether a file proposed as churn events is a profile of the customers instead:
    demographic columns (birth date, gender, country, channel) and no churn date, reason or
    lost MRR named as such."""
    named = [c for c, g in guess.columns.items() if c != "account_id" and g.score >= GUESS]
    return not named and any(demographic_header(h) for h in guess.source.headers)


def _finish(guess: TableGuess) -> TableGuess:
    """Detect decimal mark, date format and codes of the columns of a chosen table."""
    spec = TABLES[guess.table]
    numeric = [g.header for c, g in guess.columns.items()
               if spec.column(c).kind in ("money", "number", "count")]
    if numeric:
        sample = guess.source.sample()
        decimal, note = detect_decimal(pd.concat([sample[h] for h in numeric]))
        if decimal == "," or (decimal is None and note):
            guess.decimal, guess.decimal_note = decimal, note
    styles: dict[str, DateGuess] = {}
    for c, g in guess.columns.items():
        if spec.column(c).kind in ("date", "month"):
            styles[c] = guess.source.dates(g.header)
    guess.dates = styles
    kinds = {d.style for d in styles.values() if d.style != "none"}
    headers = {c: guess.columns[c].header for c in styles}
    if "mixed" in kinds or ("dayfirst" in kinds and "monthfirst" in kinds):
        bad = [headers[c] for c, d in styles.items() if d.style in ("mixed", "dayfirst",
                                                                     "monthfirst")]
        guess.date_notes.append(
            "TODO: " + ", ".join(bad) + " mix day-first and month-first dates: ask the client "
            "for ISO dates (YYYY-MM-DD); " + "; ".join(d.evidence for d in styles.values()
                                                        if d.evidence and d.style == "mixed"))
    elif "dayfirst" in kinds or "monthfirst" in kinds:
        first = "dayfirst" in kinds
        guess.dayfirst = first
        which = "dayfirst" if first else "monthfirst"
        ev = next(d for d in styles.values() if d.style == which)
        cols = [headers[c] for c, d in styles.items() if d.style in (which, "ambiguous")]
        guess.date_notes.append(f"{'day' if first else 'month'}-first dates in "
                                f"{', '.join(cols)}: {ev.evidence}")
        fmts = {d.date_format for d in styles.values() if d.style != "none"}
        if len(fmts) == 1 and None not in fmts:
            guess.date_format = fmts.pop()
    elif "ambiguous" in kinds:
        amb = [headers[c] for c, d in styles.items() if d.style == "ambiguous"]
        guess.dayfirst = False
        ev = next(d for d in styles.values() if d.style == "ambiguous")
        guess.date_notes.append(
            f"TODO: {', '.join(amb)}: {ev.evidence}; ask the client whether their system "
            "writes day or month first (read as month first until then)")
    for c, d in styles.items():
        if d.style == "excel":
            guess.date_notes.append(f"{headers[c]}: Excel serial numbers (read as dates)")
        elif d.style == "text":
            guess.date_notes.append(f"{headers[c]}: {d.evidence}; check a few in the profile")
    kept = filtered_frame(guess)  # codes of the rows the proposed filters keep
    for col in spec.columns:
        g = guess.columns.get(col.name)
        if g is not None and col.kind == "code":
            guess.codes[col.name] = guess_codes(col.name, g.header, kept[g.header])
    return guess


def assign_tables(sources: list[Source]) -> tuple[dict[str, TableGuess], list[Source]]:
    """Choose at most one source per table (and one table per source), best fit first;
    then let a table no file holds borrow a source already used when that source has the
    table's columns and a distinctive one the first table does not use (e.g. a ticket
    export's satisfaction score read as ``surveys``)."""
    candidates = [propose_table(t, s) for s in sources for t in TABLES]
    chosen: dict[str, TableGuess] = {}
    used: set[int] = set()
    for guess in sorted((g for g in candidates if _usable(g)), key=lambda g: -g.score):
        if guess.table in chosen or id(guess.source) in used:
            continue
        chosen[guess.table] = guess
        used.add(id(guess.source))
    for guess in sorted(candidates, key=lambda g: -g.score):
        if guess.table in chosen or id(guess.source) not in used or guess.missing:
            continue
        needed = needed_columns(guess.table, guess.layout)
        if any(guess.columns[c].score < LIKELY for c in needed):
            continue
        if _key_unique(guess.table, guess.source, guess.columns) is False:
            continue
        taken = {g.header for t in chosen.values() if t.source is guess.source
                 for g in t.columns.values()}
        spec = TABLES[guess.table]
        own = [g for c, g in guess.columns.items() if spec.column(c).kind not in
               ("id", "date", "month") and g.score >= LIKELY and g.header not in taken]
        if own:
            guess.secondary = True
            guess.reasons.insert(0, f"{', '.join(g.header for g in own)} in a file "
                                 "already used: read it a second time")
            chosen[guess.table] = guess
    mrr = chosen.get("mrr")
    bill = settle_billing(mrr) if mrr is not None and not mrr.missing else None
    if "accounts" in chosen:
        settle_accounts(chosen["accounts"], bill)
    settle_snapshot(chosen)
    settle_filters(chosen)
    propose_joins(chosen, sources, used)
    ordered = {t: _finish(chosen[t]) for t in TABLES if t in chosen}
    unused = [s for s in sources if id(s) not in used]
    return ordered, unused


# --------------------------------------------------------------------------- billing, lifecycle

#: Words that make a header a person's birth date (never a customer's start, churn or any
#: other date of the contract), compared within the header ignoring case and punctuation.
BIRTH_WORDS = ("birth", "born", "naissance", "geburt", "nacimiento", "nascita")
BIRTH_TOKENS = {"dob", "bday", "gebdat"}
#: Words of headers that describe a person or where a customer came from (a profile file).
DEMOGRAPHIC_WORDS = {"gender", "sex", "age", "country", "city", "state", "zip", "postcode",
                     "postal", "channel", "email", "phone", "language", "marital", "married",
                     "income", "education", "dependents", "partner", "senior", "citizen",
                     "nationality", "occupation"}
PERSON_AGE_YEARS = 20  # most dates of a "start" this many years before today: birth dates
START_BEFORE_BILLING_DAYS = 366  # a start more than a year before the first invoice is not it
START_AFTER_BILLING_DAYS = 31  # nor one more than a month after the first billed month
IMPLAUSIBLE_SHARE = 0.5  # share of accounts over those limits that rules a column out
#: Billing interval words -> months ("Plan Interval": month / year).
INTERVAL_MONTHS = {"day": 1 / 30, "daily": 1 / 30, "week": 12 / 52, "weekly": 12 / 52,
                   "month": 1, "monthly": 1, "mthly": 1, "mo": 1, "quarter": 3, "quarterly": 3,
                   "semiannual": 6, "semiannually": 6, "biannual": 6, "halfyear": 6,
                   "halfyearly": 6, "sixmonths": 6, "year": 12, "yearly": 12, "annual": 12,
                   "annually": 12, "yr": 12, "twoyears": 24, "biennial": 24}


def birth_like_header(header: str) -> bool:
    """Whether a header names a birth date: 'date_of_birth', 'DOB', 'Birthday', 'born'."""
    n = norm(header)
    return bool(BIRTH_TOKENS & set(tokens(header))) or any(w in n for w in BIRTH_WORDS)


def demographic_header(header: str) -> bool:
    """Whether a header describes a person or an acquisition channel (a profile column)."""
    return birth_like_header(header) or bool(DEMOGRAPHIC_WORDS & set(tokens(header)))


def column_dates(source: Source, header: str) -> pd.Series:
    """Every row's date in ``header`` (NaT where blank or unreadable), read as the
    column's detected style (day-first when it is); cached on the source."""
    key = ("parsed", header)
    if key not in source.cache:
        guess = source.dates(header)
        values = source.frame[header].astype(str).str.strip()
        if guess.date_format:
            out = pd.to_datetime(values, format=guess.date_format, errors="coerce")
        else:
            out = parse_dates_loosely(values, dayfirst=guess.style == "dayfirst")
        source.cache[key] = pd.Series(out, index=source.frame.index).dt.normalize()
    return source.cache[key]


def birth_like_values(source: Source, header: str) -> str:
    """Why the dates of ``header`` are a person's birth dates ("" if they are not): most of
    them lie more than PERSON_AGE_YEARS years before today."""
    dates = column_dates(source, header).dropna()
    if dates.empty:
        return ""
    age = (pd.Timestamp(dt.date.today()) - dates).dt.days / 365.25
    if (age > PERSON_AGE_YEARS).mean() <= IMPLAUSIBLE_SHARE:
        return ""
    return (f"'{header}' holds dates a median {age.median():.0f} years before today: a "
            "person's birth date, not a customer's")


def _amounts(source: Source, header: str) -> pd.Series:
    values = source.frame[header]
    decimal, _ = detect_decimal(source.sample()[header])
    return parse_numbers_loosely(values, decimal or ".")


def billing_frame(t: TableGuess) -> pd.DataFrame | None:
    """The proposed ``mrr`` table's rows as account, start, end, amount and proration
    (every row read; the start of a monthly row is its month). None without the columns."""
    cols, src = t.columns, t.source
    start = "start_date" if t.layout == "lines" else "month"
    if not {"account_id", "mrr", start} <= set(cols):
        return None
    frame = pd.DataFrame({
        "account_id": src.frame[cols["account_id"].header].astype(str).str.strip(),
        "start": column_dates(src, cols[start].header),
        "amount": _amounts(src, cols["mrr"].header)}, index=src.frame.index)
    frame["end"] = (column_dates(src, cols["end_date"].header)
                    if t.layout == "lines" and "end_date" in cols else pd.NaT)
    frame["proration"] = (src.frame[cols["proration"].header].astype(str).str.strip()
                          .str.lower().isin(TRUE_WORDS) if "proration" in cols else False)
    return frame


def first_billed(bill: pd.DataFrame) -> pd.Series:
    """Each account's first billed day (recurring lines with a positive amount)."""
    paid = bill[(bill["amount"] > 0) & ~bill["proration"] & bill["start"].notna()]
    return paid.groupby("account_id")["start"].min()


def _line_key(t: TableGuess) -> str | None:
    """The header that tells one subscription (or product) of an account from another."""
    used = {g.header for g in t.columns.values()}
    free = [h for h in t.source.headers if h not in used]
    for words in (("subscription",), ("product", "plan", "sku", "item", "addon", "price")):
        for h in free:
            if set(tokens(h)) & set(words) and not set(tokens(h)) & {
                    "amount", "interval", "start", "end", "date", "quantity"}:
                return h
    return None


def detect_end_inclusive(t: TableGuess, bill: pd.DataFrame) -> tuple[bool | None, str]:
    """Whether the lines' end date is the last day paid for, from consecutive lines of one
    subscription: the next starting the day after the end says inclusive; on the end day
    says exclusive. (None, why) when the lines cannot tell."""
    if t.layout != "lines" or "end_date" not in t.columns:
        return None, ""
    key = _line_key(t)
    lines = bill[~bill["proration"] & bill["start"].notna() & bill["end"].notna()].copy()
    lines["_key"] = lines["account_id"] + ("\x00" + t.source.frame.loc[lines.index, key]
                                           .astype(str) if key else "")
    lines = lines.sort_values(["_key", "start"])
    gap = (lines.groupby("_key")["start"].shift(-1) - lines["end"]).dt.days
    same, next_day = int((gap == 0).sum()), int((gap == 1).sum())
    n = same + next_day
    what = f"one '{key}'" if key else "one account"
    end = t.columns["end_date"].header
    if n < 3:
        return None, ""
    if next_day >= 0.8 * n:
        return True, (f"likely: in {next_day:,} of {n:,} pairs of consecutive lines of {what} "
                      f"the next starts the day after '{end}': it is the last day paid for")
    if same >= 0.8 * n:
        return False, (f"likely: in {same:,} of {n:,} pairs of consecutive lines of {what} the "
                       f"next starts on '{end}': it is the first day no longer paid for")
    return None, (f"TODO end_inclusive: of {n:,} pairs of consecutive lines of {what}, {same:,} "
                  f"start on the previous '{end}' and {next_day:,} the day after: ask the client "
                  "whether the end date is the last day paid for (then end_inclusive: true)")


def _interval_header(t: TableGuess) -> str | None:
    """A header holding each line's billing interval ('Plan Interval', 'bill_period_months')."""
    used = {g.header for c, g in t.columns.items() if c != "period_months"}
    for h in t.source.headers:
        words = set(tokens(h))
        if h in used:
            continue
        if "interval" in words or "frequency" in words or {"period", "months"} <= words or (
                {"billing", "cycle"} <= words) or {"term", "months"} <= words:
            return h
    return None


def interval_months(values: pd.Series, header: str) -> pd.Series:
    """Months of each value of an interval column: words ('year' -> 12) or, when the header
    says months, numbers; NaN otherwise."""
    text = values.astype(str).str.strip()
    words = text.map(lambda v: INTERVAL_MONTHS.get(norm(v).removesuffix("s")))
    if "months" in tokens(header) or "month" in tokens(header):
        words = words.fillna(pd.to_numeric(text, errors="coerce"))
    return pd.to_numeric(words, errors="coerce")


def detect_amount_per(t: TableGuess, bill: pd.DataFrame) -> tuple[str | None, str]:
    """``period`` when the lines' amount is billed per period (annual lines carry about
    twelve times a monthly line's amount), with the evidence; (None, note) otherwise. A
    header that says monthly ('mrr', 'Monthly Amount') is monthly."""
    if t.layout != "lines":
        return None, ""
    header = t.columns["mrr"].header
    if "mrr" in norm(header) or {"monthly", "month", "mrr"} & set(tokens(header)):
        return None, ""
    interval = _interval_header(t)
    if interval is not None:
        months = interval_months(t.source.frame[interval], interval)
        where = f"'{interval}'"
    else:
        months = ((bill["end"] - bill["start"]).dt.days / (365.25 / 12)).round()
        where = "their dates"
    lines = bill.assign(months=months)
    lines = lines[~lines["proration"] & (lines["amount"] > 0) & lines["months"].notna()]
    long, short = lines[lines["months"] > 1.5], lines[lines["months"].between(0.5, 1.5)]
    if long.empty:
        return None, ""
    span = f"{long['months'].median():g}"
    if len(long) < 3 or len(short) < 3:
        return None, (f"TODO amount_per: {len(long):,} lines pay for {span} months (by {where}) "
                      f"and too few for one month to compare: if '{header}' is the amount of the "
                      "whole period, set amount_per: period")
    ratio = long["amount"].median() / short["amount"].median()
    if ratio >= float(long["months"].median()) ** 0.5:
        return "period", (f"likely: lines of {span} months (by {where}) bill a median {ratio:.1f} "
                          f"times a one-month line: '{header}' is the amount of the whole period")
    return None, ""


def settle_billing(t: TableGuess) -> pd.DataFrame | None:
    """Propose the billing options of the ``mrr`` table (end_inclusive, amount_per and the
    period_months column) from its values; returns its rows (see :func:`billing_frame`)."""
    bill = billing_frame(t)
    if bill is None:
        return None
    inclusive, note = detect_end_inclusive(t, bill)
    if inclusive is not None:
        t.options["end_inclusive"] = ("true" if inclusive else "false", note)
    elif note:
        t.notes.append(note)
    per, note = detect_amount_per(t, bill)
    if per == "period":
        t.options["amount_per"] = ("period", note)
    else:
        t.columns.pop("period_months", None)  # only read with amount_per: period
        if note:
            t.notes.append(note)
    return bill


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
            named = sorted(((_header_score("accounts", col, h)[0], h) for h in t.source.headers
                            if h not in used), reverse=True)
            g = next((ColumnGuess("start_date", h, sc, _header_score("accounts", col, h)[1],
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


# --------------------------------------------------------------------------- table assembly


class Word(str):
    """A word of the params vocabulary (``as_of``, ``accounts``, ``mrr``): written plain,
    never client text."""


#: Keys of joins, filters and derivations (playbook.config): written plain; any other key
#: (a header in a join's ``on``) is client text, written by q().
VOCABULARY = {"file", "on", "how", "columns", "sheet", "header_row", "delimiter", "encoding",
              "column", "equals", "in", "not_in", "is_blank", "months_before", "date",
              "months", "constant_date", "copy", "from_table", "table"}


def flow(value: object) -> str:
    """A join, filter or derivation as one YAML flow collection on one line: keys and
    :class:`Word` values plain, every other text (the client's headers and values) by
    :func:`q`."""
    if isinstance(value, Word):
        return plain(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{plain(k) if k in VOCABULARY else q(k)}: {flow(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return q(value)


def _is(values: list[str]) -> dict:
    """The filter test keeping rows holding one of ``values``."""
    return {"equals": values[0]} if len(values) == 1 else {"in": list(values)}


def filtered_frame(t: TableGuess) -> pd.DataFrame:
    """The rows of the guess's file its proposed filters keep (compared as the loader
    does: text ignoring case and surrounding spaces)."""
    frame = t.source.frame
    for rule, _ in t.filters:
        text = frame[rule["column"]].astype(str).str.strip()
        lower = text.str.casefold()
        blank = _blank_mask(text)
        if "is_blank" in rule:
            keep = blank if rule["is_blank"] else ~blank
        else:
            values = [rule["equals"]] if "equals" in rule else rule.get("in", rule.get(
                "not_in", []))
            inside = lower.isin([str(v).strip().casefold() for v in values]) & ~blank
            keep = ~inside if "not_in" in rule else inside
        frame = frame.loc[keep]
    return frame


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
                    f"likely: renewals only (not {_short(other, 4)})"))
    codes = guess_codes("outcome", outcome, t.source.frame[outcome])
    closed = [v for v, c in codes.mapping.items() if c in keep]
    rest = [v for v in codes.counts if v not in closed]
    if closed and rest:
        out.append(({"column": outcome, **_is(closed)},
                    f"likely: decided ones only (not {_short(rest, 4)})"))
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
        blank = _blank_mask(ev.source.frame[date.header].astype(str))
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
            if g.missing != ["account_id"] or not (_file_hint(table, src) or content):
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
        blank = _blank_mask(frame[t.columns["churn_date"].header].astype(str))
        return blank.map({True: "active", False: "churned"})
    return pd.Series("active", index=frame.index)


def propose_contracts(tables: dict[str, TableGuess], period: str,
                      bill: pd.DataFrame | None) -> ContractsGuess:
    """``renewal_date_means: last`` when most active accounts' renewal dates lie before
    the end of the proposed period (:func:`playbook.contracts.renewal_dates_look_like_last`),
    and ``term_by_type`` from the words of the contract types."""
    from playbook.contracts import renewal_dates_look_like_last, stale_renewal_dates

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


def render_contracts(c: ContractsGuess) -> list[str]:
    """The ``contracts`` section's lines (none when there is nothing to propose)."""
    if c.empty:
        return []
    lines = ["contracts:"]
    if c.renewal_date_means:
        lines.append(_line(f"  renewal_date_means: {plain(c.renewal_date_means)}",
                           c.renewal_note))
    if c.terms:
        lines.append(_line("  term_by_type:", f"values of '{c.type_header}' -> contract term "
                           "in months (1 = month-to-month: no renewal decisions)"))
        for value, months in c.terms.items():
            n = _rows(c.counts[value])
            if months is None:
                lines.append(_note(4, f"{q(value)}: ?   # TODO {n}: its term in months"))
            else:
                lines.append(_line(f"    {q(value)}: {months}", f"likely: {n}"))
    return [*lines, ""]


# --------------------------------------------------------------------------- whole client


@dataclass
class Scaffold:
    """Everything proposed for one client, and how to write it as a params file."""

    client: str
    folder: Path
    tables: dict[str, TableGuess]
    unused: list[Source]
    skipped: list[str]
    currency: str
    currency_note: str
    period: str
    period_note: str
    contracts: ContractsGuess = field(default_factory=ContractsGuess)

    @property
    def snapshot(self) -> bool:
        """Whether a table is dated at the as-of date (a snapshot export)."""
        return any(rule.get("constant_date") == "as_of" for t in self.tables.values()
                   for rule, _ in t.derive.values())

    @property
    def todos(self) -> list[str]:
        """What the consultant must fill or check, one line each."""
        out = []
        for name, t in self.tables.items():
            for c in t.missing:
                out.append(f"{name}.{c}: required column not found in {t.source.label}")
            for c, g in t.columns.items():
                if g.confidence == "guess":
                    note = f", {g.note}" if g.note else ""
                    out.append(f"{name}.{c} <- '{g.header}': {g.how}{note}")
            for c, codes in t.codes.items():
                if codes.unmapped:
                    values = ", ".join(repr(v) for v in codes.unmapped[:6])
                    out.append(f"{name}.codes.{c}: map {values}")
            out += [f"{name}: {n[6:]}" for n in t.date_notes if n.startswith("TODO:")]
            if t.decimal is None and t.decimal_note:
                out.append(f"{name}: {t.decimal_note}")
            if t.secondary:
                out.append(f"{name}: read from {t.source.label}, which another table uses too")
        unknown = [v for v, m in self.contracts.terms.items() if m is None]
        if unknown:
            out.append(f"contracts.term_by_type: the term of {_short(unknown, 6)}")
        if "accounts" not in self.tables:
            out.insert(0, "accounts: no file looks like the account list (required)")
        if not self.period:
            out.append("period: the snapshot's date (its as-of date): the file has no dates"
                       if self.snapshot else "period: no dates to propose a period from")
        return out

    def yaml_text(self) -> str:
        return render_yaml(self)

    def summary(self) -> str:
        return render_summary(self)


def _date_span(name: str, t: TableGuess) -> tuple[pd.Timestamp, pd.Timestamp, str] | None:
    """(first, last, columns) of a table's dates up to today, over the rows its filters
    keep (renewal and line end dates left out: they may lie ahead)."""
    today = pd.Timestamp(dt.date.today())
    ahead = ("end_date",) if name == "mrr" else ("renewal_date",) if name == "accounts" else ()
    cols = [c for c in t.columns if TABLES[name].column(c).kind in ("date", "month")
            and c not in ahead and t.columns[c].header in t.source.frame]
    frame = filtered_frame(t)
    starts, ends = [], []
    for c in cols:
        d = parse_dates_loosely(frame[t.columns[c].header], bool(t.dayfirst))
        d = d[d <= today]
        if d.notna().any():
            last = d.max()
            if TABLES[name].column(c).kind == "month":
                last = last + pd.offsets.MonthEnd(0)
            starts.append(d.min())
            ends.append(last)
    if not ends:
        return None
    return min(starts), max(ends), ", ".join(t.columns[c].header for c in cols)


def _latest_period(tables: dict[str, TableGuess]) -> tuple[str, str]:
    """The last complete quarter of the subscription history; without one, of the table
    whose dates run latest (renewals, tickets, churn events... over the rows kept)."""
    spans = {name: span for name, t in tables.items() if (span := _date_span(name, t))}
    if not spans:
        return "", ""
    name = "mrr" if "mrr" in spans else max(spans, key=lambda n: spans[n][1])
    first, last, where = spans[name]
    q = last.to_period("Q")
    span = f"{name} ({where}) run from {first:%d %b %Y} to {last:%d %b %Y}"
    # monthly rows run to their month's end; dated rows (line starts, renewals, tickets)
    # are sparser: one in the quarter's last month says the quarter is covered
    if name == "mrr" and tables[name].layout == "monthly":
        covered = last >= q.end_time.normalize() - pd.Timedelta(days=10)
    else:
        covered = last.to_period("M") == q.end_time.to_period("M")
    if covered:
        return f"{q.year}-Q{q.quarter}", f"the last complete quarter: {span}"
    if (q - 1).end_time >= first:
        q = q - 1
        return f"{q.year}-Q{q.quarter}", f"the last complete quarter: {span}"
    return (f"{q.year}-Q{q.quarter}", f"a partial quarter (no complete one in the data): "
            f"{span}; or pass AS_OF={last:%Y-%m-%d}")


def _currency(sources: list[Source], tables: dict[str, TableGuess]) -> tuple[str, str]:
    seen: Counter[str] = Counter()
    where: dict[str, str] = {}
    for s in sources:
        for h in s.headers:
            for w in tokens(h):
                if w.upper() in CURRENCIES:
                    seen[w.upper()] += 1
                    where.setdefault(w.upper(), h)
    for s in sources:  # a currency column ("Currency": usd, "Currency Code": EUR)
        for h in s.headers:
            if "currency" in tokens(h):
                values = nonblank(s.sample()[h]).str.upper()
                if len(values) and values.isin(CURRENCIES).mean() >= 0.9:
                    code = values.mode().iloc[0]
                    seen[code] += 3
                    where.setdefault(code, f"{h} ({s.label})")
    for t in tables.values():
        for c, g in t.columns.items():
            if TABLES[t.table].column(c).kind == "money":
                sample = nonblank(t.source.frame[g.header]).head(500)
                for sign, code in CURRENCY_SIGNS.items():
                    if sample.str.contains(re.escape(sign)).any():
                        seen[code] += 2
                        where.setdefault(code, f"{sign} in {g.header}")
    if not seen:
        return "USD", "TODO: no currency in headers or values; set the client's currency"
    code, _ = seen.most_common(1)[0]
    return code, f"likely: from '{where[code]}'"


def scaffold_client(client: str, folder: Path | None = None) -> Scaffold:
    """Read ``data/<client>/`` (only reads) and propose its params."""
    check_client_name(client)
    folder = folder or paths.data_dir(client)
    if not folder.is_dir():
        raise ScaffoldError(f"There is no folder {folder} with the client's exports.",
                            fix=f"Create data/{client}/ and put the client's CSV, Excel or "
                            "Parquet exports in it, then run this again.")
    sources: list[Source] = []
    skipped: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if paths.inside_folder(path, folder) is None:  # the loader's check of every file
            skipped.append(f"{path.name}: a link leading outside {folder.name}/; not read")
            continue
        if not path.is_file():
            continue
        if path.suffix.lower() not in TABLE_SUFFIXES:
            skipped.append(f"{path.name}: not a table file (CSV, Excel or Parquet)")
            continue
        try:
            found = read_sources(path)
        except DataError as exc:  # over a limit of playbook.loader: say which
            skipped.append(f"{path.name}: not read ({exc.issues[0].problem})")
            continue
        except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the rest
            skipped.append(f"{path.name}: cannot be read ({type(exc).__name__}: {exc})")
            continue
        for src in found:
            if src.rows == 0:
                skipped.append(f"{src.label}: a header but no rows")
            else:
                sources.append(src)
        if not found:
            skipped.append(f"{path.name}: no rows")
    if not sources:
        raise ScaffoldError(f"No CSV, Excel or Parquet file in {folder}.",
                            fix=f"Put the client's exports in data/{client}/ (see the data "
                            "request: `make data-request`).")
    tables, unused = assign_tables(sources)
    currency, currency_note = _currency(sources, tables)
    period, period_note = _latest_period(tables)
    mrr = tables.get("mrr")
    bill = billing_frame(mrr) if mrr is not None and not mrr.filters else None
    contracts = propose_contracts(tables, period, bill)
    return Scaffold(client, folder, tables, unused, skipped, currency, currency_note, period,
                    period_note, contracts)


def write_params(client: str, *, force: bool = False, out: Path | None = None
                 ) -> tuple[Path, Scaffold]:
    """Scaffold the client and write the params file (``params/<client>.yaml``).

    Refuses to overwrite an existing file unless ``force``.
    """
    check_client_name(client)
    target = out or paths.params_file(client)
    if target.exists() and not force:
        raise ScaffoldError(
            f"{target} already exists; the scaffold does not overwrite it.",
            fix=f"Write the proposal elsewhere (playbook client {client} --out "
            f"/tmp/{client}.yaml) and compare, or pass --force (make client CLIENT={client} "
            "FORCE=1) to replace it.")
    proposal = scaffold_client(client)
    from playbook.storage import write_text  # atomic; a full disk is a clear error

    write_text(target, proposal.yaml_text(), "the params file")
    return target, proposal


# --------------------------------------------------------------------------- writing


#: Unicode categories never written raw into the params file: control characters (line
#: breaks, tabs, ANSI escapes, U+0085), format characters (BOM, bidi overrides), surrogates,
#: private-use and unassigned code points, and the line/paragraph separators U+2028/U+2029.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
COMMENT_LIMIT = 1000  # characters of client text shown in one comment line


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    return f"\\x{code:02x}" if code < 0x100 else (
        f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def one_line(text: object, limit: int = COMMENT_LIMIT) -> str:
    """``text`` made safe for a YAML comment: one line of printable characters.

    Line breaks (``\\n``, ``\\r``, U+0085, U+2028, U+2029) and every other control or
    format character are shown as escapes, so a header cannot end the comment and start a
    key; text longer than ``limit`` characters is cut with an ellipsis.
    """
    shown = "".join(_escape_char(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES
                    else ch for ch in str(text))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def q(value: object) -> str:
    """``value`` as one YAML double-quoted scalar on one line, read back exactly.

    PyYAML's emitter writes it: quotes, backslashes, line breaks (U+0085, U+2028, U+2029
    too) and every character YAML cannot hold raw are escaped (``\\n``, ``\\L``,
    ``\\x7F``), so client text (headers, values, file and sheet names) stays a value.
    Format characters it would keep raw (bidi overrides such as U+202E) are escaped too,
    so the file shows what the value holds.
    """
    text = yaml.safe_dump(str(value), default_style='"', allow_unicode=True,
                          width=sys.maxsize).removesuffix("\n")
    return one_line(text, sys.maxsize)  # its escapes are YAML escapes inside double quotes


def plain(value: object) -> str:
    """``value`` unquoted when YAML reads it back as the same word (``active``, ``EUR``,
    ``cp1252``), else :func:`q` of it (``"yes"``, ``"null"``, anything with punctuation)."""
    text = str(value)
    as_str = Resolver().resolve(ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"
    return text if as_str and re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", text) else q(text)


def _line(text: str, comment: str = "", width: int = 44) -> str:
    """A YAML line (written by the caller with :func:`q`/:func:`plain`) and its comment."""
    if not comment:
        return text
    comment = one_line(comment)
    return f"{text.ljust(width)} # {comment}" if len(text) < width else f"{text}  # {comment}"


def _note(indent: int, text: str) -> str:
    """A comment line of its own: ``text`` (client text included) made one safe line."""
    return f"{' ' * indent}# {one_line(text)}"


def _short(values: list[str], n: int = 8) -> str:
    shown = ", ".join(values[:n])
    return shown + (f", … ({len(values)} in all)" if len(values) > n else "")


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _column_comment(g: ColumnGuess) -> str:
    return f"{g.confidence}: {g.how}" + (f", {g.note}" if g.note else "")


def _not_mapped_note(header: str) -> str:
    reason = NOT_THIS.get(norm(header)) or NOT_THIS.get(stem(header)) or (
        "a birth date: never a start or churn date" if birth_like_header(header) else "")
    return f"{header} ({reason})" if reason else header


def render_yaml(s: Scaffold) -> str:
    """The params file text: valid YAML, every guess commented."""
    from playbook.contract_doc import ANALYSES

    lines = [
        f"# params/{s.client}.yaml: proposed by `make client CLIENT={s.client}` on "
        f"{dt.date.today().isoformat()}",
        f"# from the files in data/{s.client}/ (read, never changed).",
        "# Every guess says how sure it is; review them all before trusting a report:",
        "#   sure   = the contract's name (ignoring case and punctuation) and the values fit",
        "#   likely = a known header of CRM / CS-platform exports, or a known code",
        "#   guess  = a similar name, or the values alone suggest it: check it",
        "#   TODO   = left for you to fill in or to ask the client",
        f"# Next: `make check CLIENT={s.client}` validates the data and prints a profile per",
        f"# table; then `make report CLIENT={s.client}`. Canonical columns and codes:",
        "# docs/data-contract.md; every other parameter and its default: playbook/defaults.yaml.",
        "",
        "client:",
        _line(f"  name: {q(s.client.replace('-', ' ').replace('_', ' ').title())}",
              "TODO: the client's name as the cover should show it"),
        _line(f"  currency: {plain(s.currency)}", s.currency_note),
        "",
        "period:",
    ]
    if s.period:
        lines.append(_line(f"  period: {q(s.period)}", f"guess: {s.period_note}"))
    elif s.snapshot:
        lines.append(_line('  period: ""', "TODO: the snapshot's date is the as-of date: the "
                           "quarter it ends (e.g. 2026-Q2 for 30 June 2026), or pass AS_OF="))
    else:
        lines.append(_line('  period: ""', "TODO: e.g. 2026-Q3 (or pass PERIOD= / AS_OF=)"))
    lines += ["", *render_contracts(s.contracts), "tables:"]
    for name, t in s.tables.items():
        spec = TABLES[name]
        src = t.source
        lines.append(_line(f"  {name}:", f"{t.confidence}: {'; '.join(t.reasons)}"))
        lines.append(f"    file: {q(src.path.name)}")
        if src.truncated:
            lines.append(_note(4, f"proposed from the first {MAX_ROWS:,} rows of a larger file"))
        if src.sheet is not None:
            lines.append(_line(f"    sheet: {q(src.sheet)}",
                               f"{src.sheets} sheets in the workbook" if src.sheets > 1 else ""))
        if src.header_row != 1:
            lines.append(_line(f"    header_row: {src.header_row}",
                               f"likely: {src.header_row - 1} title line(s) above the header"))
        if src.delimiter and src.delimiter != ",":
            lines.append(_line(f"    delimiter: {q(src.delimiter)}", "sure: detected"))
        if src.encoding and src.encoding not in ("utf-8", "utf-8-sig"):
            lines.append(_line(f"    encoding: {plain(src.encoding)}",
                               "likely: the file is not UTF-8"))
        if t.decimal == ",":
            lines.append(_line('    decimal: ","', f"likely: {t.decimal_note}"))
        elif t.decimal_note:
            lines.append(_note(4, f"TODO decimal: {t.decimal_note}; set decimal: \",\" if commas"))
        if t.date_format:
            lines.append(_line(f"    date_format: {q(t.date_format)}",
                               "likely: every date column is written this way"))
        if t.dayfirst is not None and not (t.date_format and t.dayfirst is False):
            dnote = next((n for n in t.date_notes if "first" in n), "")
            lines.append(_line(f"    dayfirst: {'true' if t.dayfirst else 'false'}",
                               dnote if dnote.startswith("TODO") else f"likely: {dnote}"))
        for n in t.date_notes:
            if "first" not in n:
                lines.append(_note(4, n))
        if t.layout:
            what = ("one row per subscription line (start, end, MRR)" if t.layout == "lines"
                    else "one row per account and month")
            lines.append(_line(f"    layout: {plain(t.layout)}", f"likely: {what}"))
        for key, (value, comment) in t.options.items():
            lines.append(_line(f"    {key}: {value}", comment))
        for key, items in (("join", t.joins), ("filter", t.filters)):
            if items:
                lines.append(f"    {key}:")
                lines += [_line(f"      - {flow(rule)}", comment) for rule, comment in items]
        lines.append("    columns:")
        for col in spec.columns:
            g = t.columns.get(col.name)
            if g is not None:
                lines.append(_line(f"      {col.name}: {q(g.header)}", _column_comment(g)))
        for c, text in t.derived.items():  # left unmapped on purpose (null), or a note
            lines.append(_line(f"      {c}: null", text) if c in spec.column_names
                         and spec.column(c).required else _note(6, text))
        lines += [_note(6, text) for text in t.notes]
        if t.derive:
            lines.append("    derive:")
            lines += [_line(f"      {c}: {flow(rule)}", comment)
                      for c, (rule, comment) in t.derive.items()]
        for c in t.missing:
            desc = spec.column(c).description or c
            lines.append(_note(6, f"{c}: \"\"   # TODO required: {desc} No column found; "
                               f"the file has: {_short(t.unmapped(), 10)}"))
        if t.codes:
            lines.append("    codes:")
            for c, codes in t.codes.items():
                allowed = ", ".join(spec.column(c).codes)
                head = f"      {c}:"
                if not codes.counts:
                    lines.append(_note(6, f"{c}: the column is empty"))
                    continue
                if not codes.mapping:
                    lines.append(_note(6, f"{c}: {{}}   # TODO: map the values of "
                                       f"'{codes.header}' onto {allowed}"))
                else:
                    lines.append(_line(head, codes.note or f"values of '{codes.header}' -> "
                                       f"{allowed}"))
                for value, n in codes.counts.items():
                    if value in codes.mapping:
                        lines.append(_line(f"        {q(value)}: {plain(codes.mapping[value])}",
                                           f"{codes.how.get(value, 'guess')}: {_rows(n)}"))
                    else:
                        lines.append(_note(8, f"{q(value)}: ?   # TODO {_rows(n)}: one of "
                                           f"{allowed}"))
        left = t.unmapped()
        if left:
            lines.append(_note(4, "not mapped: "
                               + _short([_not_mapped_note(h) for h in left], 12)))
        lines.append("")
    missing_tables = [n for n in TABLES if n not in s.tables]
    if missing_tables or s.unused or s.skipped:
        lines.append("# ---------------------------------------------------------------- not found")
    for n in missing_tables:
        uses = "; ".join(ANALYSES[u] for u in TABLES[n].used_by if u in ANALYSES)
        req = "REQUIRED" if TABLES[n].required else "optional"
        lines.append(_note(0, f"{n} ({req}): no file found. It feeds: {uses}."))
    for src in s.unused:
        lines.append(_note(0, f"{src.label}: not used. {_unused_reason(src)}"))
    for text in s.skipped:
        lines.append(_note(0, text))
    broken = [ln for ln in lines if one_line(ln, sys.maxsize) != ln]
    if broken:  # a value or comment written without q/plain/one_line: never write it
        raise ScaffoldError(f"The proposal for {s.client} has a line that is not one "
                            f"printable line: {one_line(broken[0], 200)}",
                            fix="This is a bug in playbook/scaffold.py; please report it.")
    return "\n".join(lines).rstrip() + "\n"


def _unused_reason(src: Source) -> str:
    best = max((propose_table(t, src) for t in TABLES), key=lambda g: g.score)
    headers = _short(src.headers, 10)
    if best.score <= 0 or not best.columns:
        return f"Columns: {headers}."
    found = ", ".join(f"{g.header}->{c}" for c, g in best.columns.items())
    text = f"Closest to '{best.table}' ({found})"
    if best.missing:
        text += f" but it lacks {', '.join(best.missing)}"
        ids = [h for h in src.headers if norm(h).endswith("id") and "account" not in norm(h)]
        ids.sort(key=lambda h: src.frame[h].nunique() / max(len(src.frame), 1))  # foreign first
        if "account_id" in best.missing and ids:
            text += (f" (it is keyed by {ids[0]}; ask the client for an export with the "
                     "account ID)")
    return text + f". Columns: {headers}."


def render_summary(s: Scaffold) -> str:
    """What the CLI prints: table -> file with confidence, then what to fix."""
    out = [f"{s.client}: {len(s.tables)} table(s) proposed from "
           f"{len({t.source.path for t in s.tables.values()})} file(s) in data/{s.client}/"]
    for name, t in s.tables.items():
        counts = Counter(g.confidence for g in t.columns.values())
        conf = ", ".join(f"{counts[k]} {k}" for k in ("sure", "likely", "guess") if counts[k])
        layout = f", layout {t.layout}" if t.layout else ""
        for what, n in (("join", len(t.joins)), ("filter", len(t.filters)),
                        ("derived", len(t.derive))):
            layout += f", {n} {what}" + ("s" if n > 1 and what != "derived" else "") if n else ""
        out.append(f"  {name:<13} <- {t.source.label:<36} {t.confidence:<6} "
                   f"{len(t.columns)} columns ({conf}){layout}")
    missing = [n for n in TABLES if n not in s.tables]
    if missing:
        out.append(f"  not found: {', '.join(missing)}")
    for src in s.unused:
        out.append(f"  not used:  {src.label}")
    todos = s.todos
    if todos:
        out.append(f"To check or fill ({len(todos)}):")
        out += [f"  - {t}" for t in todos]
    return "\n".join(out)
