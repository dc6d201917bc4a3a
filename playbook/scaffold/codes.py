"""The client's codes: which of a code column's values mean which canonical code
(status values -> ``active``/``churned``, stages -> ``renewed``/``churned``, priorities,
roles, touch types...), by the words of :data:`CODE_WORDS`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from playbook.scaffold.headers import norm
from playbook.scaffold.values import FALSE_WORDS, TRUE_WORDS, nonblank

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
        # triggers.type (a column of the same name: guess_codes keeps the column's own codes)
        "champion_left": ("championleft", "championchange", "championdeparted",
                          "championlost", "jobchange", "contactleft", "keycontactleft"),
        "exec_change": ("executivechange", "execchange", "newexecutive", "sponsorchange",
                        "leadershipchange", "newceo", "newsponsor"),
        "reorg": ("reorganisation", "reorganization", "restructuring", "restructure"),
        "merger_acquisition": ("ma", "merger", "acquisition", "acquired", "mergeracquisition",
                               "mergersacquisitions"),
        "budget_cut": ("budgetcut", "budgetcuts", "costcutting", "budgetfreeze"),
        "layoffs": ("layoff", "layoffs", "redundancies", "rif", "downsizing"),
        "funding": ("fundinground", "funding", "raisedfunding", "investment", "fundraise"),
        "new_project": ("newproject", "newinitiative", "project", "newusecase"),
        "other": ("other", "misc"),
    },
}


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
        """The client values no canonical code is proposed for."""
        return [v for v in self.counts if v not in self.mapping]

    @property
    def mapped_share(self) -> float:
        """Share of the counted rows whose value is mapped (0 to 1)."""
        total = sum(self.counts.values())
        return sum(c for v, c in self.counts.items() if v in self.mapping) / total if total else 0


def guess_codes(column: str, header: str, values: pd.Series, limit: int = 40,
                allowed: tuple[str, ...] = ()) -> CodeGuess:
    """Map a code column's values onto the contract's codes by known words (only onto
    ``allowed`` when given: the column's own codes, e.g. touches.type vs triggers.type).

    True/false flags are read through the header: 'churn_flag' TRUE means churned,
    'is_active' TRUE means active.
    """
    text = nonblank(values)
    counts = dict(Counter(text).most_common(limit))
    words = CODE_WORDS.get(column, {})
    if allowed:
        words = {code: ws for code, ws in words.items() if code in allowed}
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
