"""What a notebook needs in one call: parameters, validated data, exhibits and findings.

A notebook starts with::

    nb = session.start("01-revenue", client=client, period=period, as_of=as_of,
                       run_dir=run_dir, data_cache=data_cache)

and then uses ``nb.data`` (canonical tables), ``nb.params`` (merged parameters),
``nb.ctx`` (the intermediates several sections share, each computed once:
:mod:`playbook.context`),
``nb.exhibit(...)`` to show a numbered exhibit, ``nb.record(...)`` to record a headline
figure, and ``nb.save()`` at the end to write its findings to
``<run_dir>/findings/<notebook>.json`` (the render step merges them into ``results.json``).
Run from JupyterLab with ``run_dir=""``, nothing is written.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, display
from matplotlib.figure import Figure

from playbook import beside, cache, charts, evidence
from playbook import textfmt as tf
from playbook.chart_fit import nothing_to_show
from playbook.config import Params, load_params
from playbook.context import AnalysisContext
from playbook.errors import GeneratedTextError, InsufficientDataError
from playbook.evidence import Need
from playbook.exhibits import ExhibitBook, ExhibitSpec, note_html, notebook_id, table_html
from playbook.loader import ClientData, load_client
from playbook.results import checked_finding
from playbook.sanitize import markdown_html

T = TypeVar("T")


def jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON values (NaN -> None).

    A frame becomes its records (one dict per row, keys the column names as text), each
    value converted as a scalar is; number and true/false columns are converted whole
    (:func:`_column_values`: the open book of renewals has a row per renewal due)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        if value.shape[1] == 0:
            return [{} for _ in range(len(value))]
        keys = [str(k) for k in value.columns]
        columns = [_column_values(value.iloc[:, i]) for i in range(value.shape[1])]
        return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]
    if isinstance(value, pd.Series):
        return jsonable(value.to_dict())
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _column_values(column: pd.Series) -> list[Any]:
    """A frame's column as :func:`jsonable` converts each of its values: a column of numpy
    floats as Python floats with NaN and infinities None, of numpy integers or booleans as
    Python ones, any other value by value."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else ""
    if kind == "f":
        values = column.to_numpy()
        out = values.tolist()
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            out[i] = None
        return out
    if kind in ("i", "u", "b"):
        return column.to_numpy().tolist()
    return [jsonable(v) for v in column.tolist()]


def _say_title(title: str) -> None:
    """Show an exhibit's action title as a one-line finding where the exhibit would be."""
    sentence = html.escape(title.rstrip(". "))
    display(HTML(f'<p class="detail-finding">{sentence}.</p>'))


@dataclass
class NotebookSession:
    name: str
    params: Params
    data: ClientData
    run_dir: Path | None
    book: ExhibitBook = field(default_factory=ExhibitBook)
    findings: dict[str, Any] = field(default_factory=dict)
    context: AnalysisContext | None = None
    #: keys of ``findings`` whose values :meth:`record` made plain already
    _plain: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        self.book.prefix = notebook_id(self.name)  # exhibit ids: <notebook>.<key>

    @property
    def ctx(self) -> AnalysisContext:
        """The run's shared intermediates (renewal decisions, MRR movements, value tiers,
        health, the renewal model), each computed once when first read
        (:class:`playbook.context.AnalysisContext`)."""
        if self.context is None:
            self.context = AnalysisContext(self.params, self.data.tables,
                                           self.data.quality.problems())
        return self.context

    @property
    def currency(self) -> str:
        return self.params.client.currency

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.params.as_of)

    @property
    def period_start(self) -> pd.Timestamp:
        return pd.Timestamp(self.params.period_start)

    def months(self, n: int) -> pd.DateOffset:
        """An offset of ``n`` calendar months (``nb.as_of - nb.months(12)``)."""
        return pd.DateOffset(months=n)

    def has_mrr_history(self, months: int, *, quiet: bool = False,
                        enables: str = "") -> bool:
        """True when the ``mrr`` table covers at least ``months`` months before the as-of
        date; otherwise shows what is missing (unless ``quiet``: another cell said it
        already) and returns False. ``enables`` names the section ("cohort retention");
        each section says so once (without it, "this view", recorded as "<months>-month
        history")."""
        if quiet:
            if not self.data.has("mrr"):
                return False
        elif not self.requires("mrr", enables=enables or f"a {months}-month retention view"):
            return False
        first = self.data["mrr"]["month"].min()
        span = (self.as_of.year - first.year) * 12 + self.as_of.month - first.month
        if span >= months or quiet:
            return span >= months
        held = (f"only {first:%b %Y} (a snapshot: movements, retention and cohorts need a "
                "history)" if span == 0 else f"data from {first:%b %Y}")
        self.skip(enables or f"{months}-month history",
                  f"Not shown: {enables or 'this view'} needs {tf.plural(months, 'month')} of "
                  f"MRR history before {self.as_of:%b %Y}; the client's billing holds {held}. "
                  "Ask the client for a longer subscription or invoice history (one MRR "
                  "figure per account and month).", ["mrr history"])
        return False

    def exhibit(self, content: Any, *, title: str, subtitle: str, source: str,
                n: int, notes: str = "", formats: dict[str, str] | None = None,
                headline: bool = False, n_of: str = "", key: str = "exhibit") -> None:
        """Display a numbered exhibit and record its title among the findings.

        ``n`` (required) is what it rests on, printed in its footer (``n_of`` names the unit
        when it is not accounts). ``headline=True`` makes its action title a bullet of the
        executive summary. ``key`` names it within the notebook: its stable id, which the
        consultant's notes use, is ``<notebook>.<key>`` (:mod:`playbook.exhibits`)."""
        source = evidence.source_line(source, self.data)  # only tables the client sent
        caveat = self.data.quality.caveat(source)  # built on contradicted data: say so
        headline = headline and not caveat  # and never a headline of the summary
        notes = f"{notes.rstrip('. ')}. {caveat}" if caveat and notes else (caveat or notes)
        display(HTML(self.book.html(content, title=title, subtitle=subtitle, source=source,
                                    n=n, notes=notes, formats=formats, headline=headline,
                                    n_of=n_of, key=key)))

    def show(self, spec: ExhibitSpec, *, headline: bool | None = None,
             detail: bool = False, mention: bool = True) -> None:
        """Display an exhibit built by a :mod:`playbook.findings` function.

        ``headline=True`` makes its title a bullet of the executive summary (default: the
        spec's own ``headline`` flag). ``detail=True`` marks supporting detail: shown only
        when ``report.detail`` is ``full``. In a standard report its action title (a
        finding in one sentence) is still said in one line, unless ``mention=False`` (the
        finding is already in another exhibit), and is recorded as omitted.

        A table with no rows, or a chart whose values are all zero or missing
        (:func:`playbook.chart_fit.nothing_to_show`), is not drawn as an empty exhibit: its
        action title (e.g. "No
        account is still onboarding more than 120 days after it started") is said in one
        line and recorded under ``empty_exhibits``, unless it is a headline, which keeps
        its exhibit number (the summary's bullets are exhibit titles)."""
        is_headline = spec.headline if headline is None else headline
        empty = ((isinstance(spec.content, pd.DataFrame) and spec.content.empty)
                 or (isinstance(spec.content, Figure) and nothing_to_show(spec.content)))
        if empty and not is_headline:
            if isinstance(spec.content, Figure):
                plt.close(spec.content)
            self.findings.setdefault("empty_exhibits", []).append(spec.title)
            _say_title(spec.title)
            return
        if detail and self.params.report.detail != "full":
            self.findings.setdefault("omitted_detail_exhibits", []).append(spec.title)
            if isinstance(spec.content, Figure):
                plt.close(spec.content)  # else the inline backend shows it after the cell
            if mention:
                _say_title(spec.title)
            return
        self.exhibit(spec.content, title=spec.title, subtitle=spec.subtitle,
                     source=spec.source, n=spec.n, notes=spec.notes, formats=spec.formats,
                     headline=is_headline, n_of=spec.n_of, key=spec.key)

    def table(self, frame: pd.DataFrame, *, caption: str = "",
              formats: dict[str, str] | None = None, max_rows: int = 60) -> None:
        """Display a plain table (appendix material, not a numbered exhibit). Reference
        tables may break across pages in print, the header row repeated and no row split
        (``data-long``), so a long one never leaves the rest of a page empty."""
        markup = table_html(frame, formats=formats, max_rows=max_rows)
        self.html(markup.replace("<table", '<table data-long="1"', 1), caption=caption)

    def html(self, markup: str, *, caption: str = "") -> None:
        """Display ready HTML (e.g. a table), with an optional caption kept with it."""
        cap = f'<p class="table-caption">{html.escape(caption)}</p>' if caption else ""
        display(HTML(f'<div class="plain-table">{cap}{markup}</div>'))

    def record(self, key: str, value: Any) -> None:
        """Record a headline figure (or table) under ``key`` for the results JSON.

        A shared notebook records only the keys its results model declares, with values of
        the declared type (:mod:`playbook.results`): anything else is a
        :class:`~playbook.errors.ResultsError` naming the key and the model, so a typo
        cannot vanish from results.json. A custom notebook records freely.

        Returns nothing, so a cell ending in ``nb.record(...)`` shows nothing."""
        self.findings[key] = checked_finding(self.name, key, jsonable(value))
        self._plain.add(key)

    def requires(self, *needs: str | Need, enables: str) -> bool:
        """True if the data meets every need; otherwise show in one line what data would
        enable the section (and record the gap) and return False, so the notebook goes on.

        A need is a table name (present with at least one row) or a
        :func:`playbook.evidence.need` declaring the columns that must hold values and the
        fewest usable rows, e.g. ``nb.requires(need("usage", "active_users",
        "licensed_seats"), enables="lifecycle stages")``. The line names the missing
        tables, blank columns or short history and what to add to the data request
        (:func:`playbook.evidence.explanation`)."""
        gaps = evidence.shortfalls(self.data, *needs)
        if not gaps:
            return True
        self.skip(enables, evidence.explanation(enables, gaps),
                  [m for g in gaps for m in g.missing])
        return False

    def skip(self, section: str, text: str, missing: list[str], *,
             reason: str | None = None) -> None:
        """Show the one "Not shown" box of ``section`` and record it under
        ``sections_skipped``; a section already skipped in this notebook is not boxed twice."""
        skipped = self.findings.setdefault("sections_skipped", [])
        if any(s["section"] == section for s in skipped):
            return
        display(HTML(note_html(text)))
        entry: dict[str, Any] = {"section": section, "missing": missing}
        if reason is not None:
            entry["reason"] = reason
        skipped.append(entry)

    def attempt(self, analysis: Callable[..., T], *args: Any, enables: str,
                **kwargs: Any) -> T | None:
        """``analysis(*args, **kwargs)``, or None when the data cannot support it
        (:class:`~playbook.errors.InsufficientDataError`: one outcome only, too few events
        for the folds, no usable feature). Then the report says in one line what is not
        shown, why, and what would enable it, records the gap under ``sections_skipped``,
        and goes on. Any other error still stops the run."""
        try:
            return analysis(*args, **kwargs)
        except InsufficientDataError as exc:
            why = exc.message.rstrip(".")
            fix = f" {exc.fix}" if exc.fix else ""
            self.skip(enables, f"Not shown: {enables} cannot be computed on this data "
                      f"({why}).{fix}", [], reason=exc.message)
            return None

    def note(self, text: str) -> None:
        """Show a boxed note (what is not shown and why, a caveat) in the report."""
        if " nan" in f" {text.lower()}":
            raise GeneratedTextError("generated text", text)
        display(HTML(note_html(text)))

    def say(self, text: str, *, columns: bool = False) -> None:
        """Show a generated sentence of interpretation, written in markdown.

        The markdown is rendered here (:func:`playbook.sanitize.markdown_html`) and shown as
        HTML: raw HTML in it is shown as text and a ``javascript:`` (or other unsafe) link
        keeps only its text, so a client value in the sentence cannot become markup. Put
        client and parameter values in with :func:`playbook.textfmt.md_escape`, so that
        their ``*``, ``_``, ``[...]`` or ``$`` are shown as typed too. A heading here is not
        in the contents: headings belong in the notebook's markdown cells. ``columns=True``
        sets long reference text (definitions) in two columns in print."""
        if " nan" in f" {text.lower()}":
            raise GeneratedTextError("generated text", text)
        markup = markdown_html(text)
        # reference text (the method appendix's definitions) prints in two columns
        display(HTML(f'<div class="two-columns">{markup}</div>' if columns else markup))

    def findings_path(self) -> Path | None:
        """Where :meth:`save` writes: ``<run_dir>/findings/<name>.json`` (None when
        interactive)."""
        return self.run_dir / "findings" / f"{self.name}.json" if self.run_dir else None

    def save(self) -> None:
        """Write the findings (and exhibit titles) to :meth:`findings_path`."""
        out = self.findings_path()
        if out is None:
            return
        findings = jsonable({k: v for k, v in self.findings.items() if k not in self._plain})
        findings.update({k: v for k, v in self.findings.items() if k in self._plain})
        payload = {"findings": findings, "exhibits": jsonable(self.book.titles())}
        out.parent.mkdir(parents=True, exist_ok=True)
        # not indented: Python encodes indented JSON in pure Python (0.5 s for the open
        # book at 100,000 accounts), compact JSON in C; results.json, merged from these
        # files by the render step, is the indented one people read
        out.write_text(json.dumps(payload, sort_keys=True), encoding="utf-8")


def start(name: str, *, client: str, period: str = "", as_of: str = "", run_dir: str = "",
          data_cache: str = "") -> NotebookSession:
    """Load parameters and data for a notebook, build its analysis context (``nb.ctx``) and
    set the house chart style.

    ``data_cache`` is the folder of the run's validated tables (:mod:`playbook.cache`; the
    render step passes it): read instead of the raw files when it holds the entry for
    these parameters and files. Empty (interactive use): the raw files are loaded."""
    params = load_params(client, period=period or None, as_of=as_of or None)
    cached = run_data(params, data_cache)
    data, context = cached if cached is not None else _loaded_now(params)
    if cached is not None and beside.allowed(data_cache):
        beside.start(context, beside.BESIDE.get(name, ()))
    charts.apply_house_style()
    pd.set_option("display.max_columns", 30)
    return NotebookSession(name, params, data, Path(run_dir) if run_dir else None,
                           context=context)


def run_data(params: Params, data_cache: str) -> tuple[ClientData, AnalysisContext] | None:
    """The run's validated tables, read from ``data_cache`` (the render step's data cache),
    and their analysis context, whose intermediates are computed once for the whole run
    (:func:`playbook.cache.shared_folder`); None when the folder is empty or holds no entry
    for these parameters and files."""
    entry = cache.find_entry(params, Path(data_cache)) if data_cache else None
    data = cache.read_entry(entry, share_results=True) if entry is not None else None
    if entry is None or data is None:
        return None
    return data, AnalysisContext(params, data.tables, data.quality.problems(),
                                 shared=cache.shared_folder(entry))


def _loaded_now(params: Params) -> tuple[ClientData, AnalysisContext]:
    """The client's raw files loaded and validated here (interactive use), and their
    context (its intermediates computed in this process)."""
    data = load_client(params)
    return data, AnalysisContext(params, data.tables, data.quality.problems())
