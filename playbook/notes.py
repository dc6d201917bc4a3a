"""The consultant's notes: ``params/<client>.notes.yaml``, read and validated.

A consultant never sends a generated report untouched: they sharpen a title, add what the
client's people said in interviews, hide an exhibit the client already knows, and sign the
report off. The notes file holds those edits apart from the code and the data, keyed by the
exhibits' stable ids (``revenue.retention_bridge``, :mod:`playbook.exhibits`), so every
re-run with new data keeps them. :mod:`playbook.notes_apply` applies them in the render
path; :mod:`playbook.notes_template` writes a pre-filled file (``make notes``). The file's
keys are documented in docs/notes.md; an unknown key stops the run with the file, the key
and the fix, as in the params file.

Numbers inside edited text are written as placeholders (``{grr}``), never by hand: a name
of :data:`PLACEHOLDERS` (a figure of the executive summary's facts, formatted as the report
formats it) or a dotted path into results.json with a format
(``{01-revenue.findings.headline_metrics.grr|pct}``); ``{{`` and ``}}`` write a brace.
They are resolved against each run's results (:func:`fill_placeholders`), so the text
follows the data.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from playbook import paths
from playbook import textfmt as tf
from playbook.config import check_client_name
from playbook.errors import ParamsError, UnresolvedPlaceholderError
from playbook.exhibit_ids import EXHIBIT_KEY
from playbook.yamlsafe import load_yaml_file

#: Sign-off states, in order: a draft carries "Draft" on every page.
STATUSES = ("draft", "reviewed", "final")

#: ``{name}`` placeholders: name -> (key of ``results.json["summary"]["facts"]``, format).
#: Formats are those of :data:`FORMATS`: the report's own (:mod:`playbook.textfmt`).
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "mrr": ("mrr", "money"),
    "start_mrr": ("start_mrr", "money"),
    "accounts": ("accounts", "count"),
    "base_accounts": ("base_accounts", "count"),
    "churned_accounts": ("churned_accounts", "count"),
    "grr": ("grr", "pct"),
    "nrr": ("nrr", "pct"),
    "logo_churn": ("logo_churn", "pct"),
    "net_mrr_churn": ("net_mrr_churn", "pct"),
    "renewals_due": ("renewals_due", "count"),
    "mrr_due": ("mrr_due", "money"),
    "at_risk_accounts": ("at_risk_accounts", "count"),
    "mrr_at_risk": ("mrr_at_risk", "money"),
    "expected_mrr_loss": ("expected_mrr_loss", "money"),
    "unknown_reason_share": ("unknown_reason_share", "pct0"),
    "surprises": ("surprises", "count"),
    "surprise_mrr": ("surprise_mrr", "money"),
    "single_threaded": ("single_threaded", "count"),
    "single_threaded_mrr": ("single_threaded_mrr", "money"),
    "csm_current": ("csm_current", "number"),
    "csm_required": ("csm_required", "number"),
    "as_of": ("as_of", "date"),
}

#: Formats a placeholder may name after ``|``: value -> text (money in the run's currency).
FORMATS: dict[str, Callable[[Any, str], str]] = {
    "pct": lambda v, c: tf.pct(v, 1),       # a share 0-1 as 88.6%
    "pct0": lambda v, c: tf.pct(v, 0),      # as 89%
    "money": lambda v, c: tf.money(v, c),   # $1.2M / $840K in the client's currency
    "count": lambda v, c: tf.count(v),      # 1,144
    "number": lambda v, c: f"{float(v):,.1f}",  # 8.0
    "date": lambda v, c: tf.date(v),        # 30 Sep 2026
}

#: ``{name}`` or ``{dotted.path|format}``; ``{{`` and ``}}`` are a brace as text, and so is
#: any other brace.
PLACEHOLDER = re.compile(r"\{\{|\}\}"                                  # an escaped brace
                         r"|\{([A-Za-z_][A-Za-z0-9_]*"                   # a name
                         r"|[A-Za-z0-9_][A-Za-z0-9_.\-]*\.[A-Za-z0-9_.\-]+)"  # a path
                         r"(?:\|([a-z0-9]+))?\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


def _check_placeholders(text: str | None) -> str | None:
    """Every ``{name}`` is a known name (a dotted path is checked when the run resolves it);
    every ``|format`` is a known format."""
    for match in PLACEHOLDER.finditer(text or ""):
        name, fmt = match.groups()
        if name is None:
            continue  # {{ or }}
        if "." not in name and name not in PLACEHOLDERS:
            close = difflib.get_close_matches(name, list(PLACEHOLDERS), n=1)
            hint = f"did you mean {{{close[0]}}}?" if close else \
                f"names: {', '.join(sorted(PLACEHOLDERS))}"
            raise ValueError(f"unknown placeholder {{{name}}} ({hint}; or a dotted path of "
                             "results.json with a format, e.g. "
                             "{01-revenue.findings.headline_metrics.grr|pct})")
        if fmt is not None and fmt not in FORMATS:
            raise ValueError(f"unknown format '|{fmt}' in {match.group(0)} (formats: "
                             f"{', '.join(FORMATS)})")
    return text


class ExhibitNote(_Strict):
    """What the consultant changes about one exhibit."""

    title: str | None = None
    """The action title shown instead of the generated one (placeholders allowed)."""
    generated: str | None = None
    """The generated title the edit was written against (``make notes`` fills it): when a
    run generates another title, the data changed under the edit and the run warns."""
    commentary: str | None = None
    """A paragraph (markdown) shown under the exhibit (placeholders allowed)."""
    hide: bool = False
    """Leave the exhibit out; the others are numbered without a gap."""
    theme: str | None = None
    """An interview theme the exhibit agrees with: "consistent with 7 of 9 interviews"."""

    @field_validator("title", "commentary")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        return _check_placeholders(value)


class SectionNote(_Strict):
    """A paragraph under a section's heading."""

    commentary: str
    """Markdown shown under the section's heading (placeholders allowed)."""

    @field_validator("commentary")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        return _check_placeholders(value)


class InterviewFinding(_Strict):
    """One thing an interviewee said: a quote (their words) or a paraphrase, and its theme."""

    theme: str
    """The theme it belongs to, as the consultant names it ("Onboarding takes too long")."""
    quote: str | None = None
    paraphrase: str | None = None

    @model_validator(mode="after")
    def _one_text(self) -> InterviewFinding:
        if (self.quote is None) == (self.paraphrase is None):
            raise ValueError("give exactly one of quote or paraphrase")
        return self


class Interview(_Strict):
    """One interview: who (a role, never a name) and when, and what they said."""

    role: str
    """The interviewee's role ("VP Customer Success"), not their name."""
    date: dt.date
    findings: list[InterviewFinding] = Field(min_length=1)


class ClientNotes(_Strict):
    """A client's notes file (``params/<client>.notes.yaml``), documented in docs/notes.md."""

    status: Literal["draft", "reviewed", "final"] = "draft"
    """Sign-off: a draft carries "Draft" on every page; reviewed and final name a reviewer."""
    reviewer: str | None = None
    """Who reviewed or signed off the report."""
    date: dt.date | None = None
    """When it was reviewed or signed off."""
    exhibits: dict[str, ExhibitNote] = Field(default_factory=dict)
    """Edits by exhibit id (``revenue.retention_bridge``)."""
    sections: dict[str, SectionNote] = Field(default_factory=dict)
    """Commentary by section: the notebook's id (``revenue``) or ``summary``."""
    interviews: list[Interview] = Field(default_factory=list)
    """Interview evidence, shown grouped by theme in "What we heard"."""
    headlines: list[str] = Field(default_factory=list)
    """Exhibit ids whose titles open the summary's bullets, in this order (the other
    headline exhibits follow in report order)."""
    _source: str = PrivateAttr(default="the notes file")

    @property
    def source(self) -> str:
        """The file the notes were read from (``params/acme.notes.yaml``), for messages."""
        return self._source

    @field_validator("exhibits", "sections")
    @classmethod
    def _ids(cls, value: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in value if not EXHIBIT_KEY.match(k)]
        if bad:
            raise ValueError(f"not an exhibit or section id: {bad} (ids are letters, digits, "
                             "'_', '-' and '.', as `make notes` lists them)")
        return value

    @model_validator(mode="after")
    def _signed(self) -> ClientNotes:
        if self.status != "draft" and (not self.reviewer or self.date is None):
            raise ValueError(f"status '{self.status}' needs reviewer and date")
        return self

    def themes(self) -> dict[str, int]:
        """Interviews per theme ({theme: interviews that raised it}), most first."""
        counts: dict[str, int] = {}
        for interview in self.interviews:
            for theme in dict.fromkeys(f.theme for f in interview.findings):
                counts[theme] = counts.get(theme, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def notes_file(client: str) -> Path:
    """``params/<client>.notes.yaml`` (the client name checked first)."""
    check_client_name(client)
    return paths.params_file(client).with_suffix(".notes.yaml")


def _all_fields() -> list[str]:
    models = (ClientNotes, ExhibitNote, SectionNote, Interview, InterviewFinding)
    return sorted({k for m in models for k in m.model_fields})


def _problem(err: Mapping[str, Any]) -> str:
    dotted = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        leaf = str(err["loc"][-1])
        close = difflib.get_close_matches(leaf, _all_fields(), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "see docs/notes.md for the keys"
        return f"unknown key '{dotted}' ({hint})"
    got = err.get("input")
    got_txt = f" (got {got!r})" if not isinstance(got, dict | list) and got is not None else ""
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"key '{dotted}': {msg}{got_txt}" if dotted else msg


def parse_notes(data: Any, source: str) -> ClientNotes:
    """Validate a notes mapping read from ``source`` (the file's name, for messages).

    Raises
    ------
    ParamsError
        Not a mapping, an unknown key (with the closest known key), a value of the wrong
        type, an unknown placeholder, a reviewed or final status without reviewer and date;
        each problem names the file and the key.
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParamsError(f"{source} must hold a mapping of keys (status:, exhibits:, ...), "
                          f"not a {type(data).__name__}.",
                          fix="Start from `make notes CLIENT=<client>` (keys in docs/notes.md).")
    # A key whose lines are all commented out (as `make notes` writes them) reads as null:
    # it is left out, as if not written.
    data = {k: v for k, v in data.items() if v is not None}
    for key in ("exhibits", "sections"):
        if isinstance(data.get(key), dict):
            data[key] = {k: ({} if v is None else v) for k, v in data[key].items()}
    try:
        notes = ClientNotes.model_validate(data)
    except ValidationError as exc:
        problems = [f"  {source}: {_problem(e)}" for e in exc.errors()]
        raise ParamsError("The consultant's notes cannot be used:\n" + "\n".join(problems),
                          fix=f"Correct {source}; every key is described in docs/notes.md, "
                              "and `make notes` lists the exhibit ids.") from None
    notes._source = source
    return notes


def load_notes(client: str, path: Path | None = None) -> ClientNotes | None:
    """The client's notes (``params/<client>.notes.yaml``), or None when there is none.

    Read with the params' own safe YAML reader (size, nesting and alias limits, a key written
    twice is an error) and validated by :func:`parse_notes`."""
    path = path or notes_file(client)
    if not path.is_file():
        return None
    try:
        shown = str(path.resolve().relative_to(paths.project_root()))
    except ValueError:
        shown = str(path)
    return parse_notes(load_yaml_file(path, shown), shown)


# --------------------------------------------------------------------------- placeholders


def _dig(results: Mapping[str, Any], dotted: str) -> Any:
    """The value at a dotted path of results.json (a notebook stem holds dots only as a
    whole key, so the longest key that matches is taken first); KeyError when absent."""
    node: Any = results
    rest = dotted
    while rest:
        if not isinstance(node, Mapping):
            raise KeyError(dotted)
        keys = sorted((k for k in node if rest == k or rest.startswith(f"{k}.")),
                      key=len, reverse=True)
        if not keys:
            raise KeyError(dotted)
        node, rest = node[keys[0]], rest[len(keys[0]) + 1:]
    return node


Unresolved = UnresolvedPlaceholderError  # the short name the notes code uses


def placeholder_value(match: re.Match[str], results: Mapping[str, Any],
                      facts: Mapping[str, Any]) -> str:
    """The text of one placeholder, formatted as the report formats it.

    Raises
    ------
    Unresolved
        The figure is missing or withheld in this run, or the path is not in results.json.
    """
    name, fmt = match.groups()
    if name is None:
        return match.group(0)[0]  # {{ -> {, }} -> }
    currency = str(results.get("meta", {}).get("currency") or "USD")
    if "." not in name:
        key, default = PLACEHOLDERS[name]
        value = facts.get(key)
        if key in (facts.get("withheld") or {}):
            raise Unresolved(f"{{{name}}} is withheld in this run")
    else:
        default = "number"
        try:
            value = _dig(results, name)
        except KeyError:
            raise Unresolved(f"{{{name}}} is not a key of results.json") from None
    if value is None or tf.is_missing(value) or isinstance(value, dict | list):
        raise Unresolved(f"{{{name}}} has no value in this run")
    if isinstance(value, str) and (fmt or default) != "date":
        return value
    try:
        return FORMATS[fmt or default](value, currency)
    except (TypeError, ValueError):
        raise Unresolved(f"{{{name}}} holds {value!r}, which is not a figure") from None


def fill_placeholders(text: str, results: Mapping[str, Any], facts: Mapping[str, Any]) -> str:
    """``text`` with every placeholder replaced by its value in this run's results.

    Raises
    ------
    Unresolved
        A placeholder has no value (the caller falls back to the generated text and warns).
    """
    return PLACEHOLDER.sub(lambda m: placeholder_value(m, results, facts), text)
