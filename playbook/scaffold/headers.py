"""What a header's words say: normalised names, units and prefixes stripped, birth dates
and profile columns told apart.

Headers are compared ignoring case and punctuation (:func:`norm`), as words with camelCase
split (:func:`tokens`), without units such as "(USD)" (:func:`stem`) and without a table's
own prefix such as "Ticket" (:func:`unprefixed`).
"""

from __future__ import annotations

import re

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
    "outcomes": ("outcome", "goal", "success"),
    "triggers": ("trigger", "alert", "signal"),
}

#: Words that make a header an identifier's ("Account Number", "Org ID").
ID_WORDS = {"id", "ids", "number", "no", "nr", "num", "key", "ref", "code", "gsid", "uuid",
            "guid"}
#: Words of units and currencies left out of a header's stem ("ARR (USD)" -> "arr").
UNIT_WORDS = {"usd", "eur", "gbp", "chf", "cad", "aud", "sek", "nok", "dkk", "jpy", "inr",
              "brl", "mxn", "zar", "sgd", "nzd", "pln", "in", "num", "count", "nr"}
#: Words that make a header a person's birth date (never a customer's start, churn or any
#: other date of the contract), compared within the header ignoring case and punctuation.
BIRTH_WORDS = ("birth", "born", "naissance", "geburt", "nacimiento", "nascita")
BIRTH_TOKENS = {"dob", "bday", "gebdat"}
#: Words of headers that describe a person or where a customer came from (a profile file).
DEMOGRAPHIC_WORDS = {"gender", "sex", "age", "country", "city", "state", "zip", "postcode",
                     "postal", "channel", "email", "phone", "language", "marital", "married",
                     "income", "education", "dependents", "partner", "senior", "citizen",
                     "nationality", "occupation"}


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


def unprefixed(name: str, table: str) -> str:
    """A header without its units and without a first word that prefixes headers of
    ``table``'s own exports: 'Ticket Priority' -> 'priority' for tickets; "" when it
    has no such prefix."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", str(name))
    words = [w for w in tokens(text) if w not in UNIT_WORDS]
    if len(words) > 1 and words[0] in PREFIXES.get(table, ()):
        return "".join(words[1:])
    return ""


def birth_like_header(header: str) -> bool:
    """Whether a header names a birth date: 'date_of_birth', 'DOB', 'Birthday', 'born'."""
    n = norm(header)
    return bool(BIRTH_TOKENS & set(tokens(header))) or any(w in n for w in BIRTH_WORDS)


def demographic_header(header: str) -> bool:
    """Whether a header describes a person or an acquisition channel (a profile column)."""
    return birth_like_header(header) or bool(DEMOGRAPHIC_WORDS & set(tokens(header)))
