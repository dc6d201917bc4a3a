"""Checks across the loaded tables: what weakens findings without stopping the run, and what
does stop it.

:func:`check_consistency` logs contradictions between tables (churned accounts still
billed, coded and free-text reasons that disagree), a base too small or too uniform to
compare, blank or one-sided fields. :func:`check_period` stops a run whose period lies
outside the data (a typo in PERIOD or AS_OF). :func:`check_unused_files` names the files of
the client's folder that no table reads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from playbook import paths
from playbook import textfmt as tf
from playbook.assembly import joined_files
from playbook.client_data import LoadFacts
from playbook.columns import header_key
from playbook.config import Params
from playbook.config_tables import TableParams
from playbook.contract import TABLES
from playbook.errors import DataError
from playbook.quality import QualityLog
from playbook.reading import file_error, file_header, relative_name

ACCOUNT_CATEGORIES = ("segment", "industry", "region", "owner", "size_band")


def check_consistency(tables: dict[str, pd.DataFrame], facts: LoadFacts, params: Params,
                      log: QualityLog) -> None:
    """Log what weakens findings without stopping the run: contradictions between tables,
    a base too small or too uniform to compare, blank or one-sided fields."""
    acc = tables["accounts"]
    n_acc = len(acc)
    churned = acc["status"].eq("churned")
    _check_billing_after_churn(tables, facts, log)
    if n_acc and not churned.any():
        log.add("accounts", "warning", f"no account has churned (all {n_acc:,} active): churn "
                "reasons, churn by variable and renewal drivers have nothing to explain",
                count=n_acc, affects=["reasons", "drivers"])
    elif n_acc and churned.all():
        log.add("accounts", "warning", f"every account has churned (all {n_acc:,}): there is "
                "no current customer base; health, segments, capacity and risk describe "
                "former customers only", count=n_acc,
                affects=["health", "segments", "capacity", "risk"])
    small = params.thresholds.small_group_n
    if n_acc < small:
        log.add("accounts", "warning", f"only {tf.plural(n_acc, 'account')}, below the {small} "
                                       "needed "
                "to judge a rate: every churn rate and comparison is indicative only",
                count=n_acc, affects=["revenue", "reasons", "drivers", "segments"])
    for col in ACCOUNT_CATEGORIES:
        if col not in facts.supplied.get("accounts", set()):
            continue
        values = acc[col].dropna()
        if n_acc > 1 and len(values) == n_acc and values.nunique() == 1:
            log.add("accounts", "warning", f"{col} has one value ('{values.iloc[0]}') for all "
                    f"{n_acc:,} accounts: no comparison by {col} is possible", count=n_acc,
                    affects=["segments", "reasons"])
    events = tables.get("churn_events")
    if events is not None and len(events) and "churn_events" in params.tables:
        _check_churn_events(events, facts.supplied.get("churn_events", set()), params, log)
    for name in ("surveys", "csm_inputs"):
        frame = tables.get(name)
        if frame is not None and len(frame):
            _check_scales(name, frame, params.tables[name], log)


def _check_billing_after_churn(tables: dict[str, pd.DataFrame], facts: LoadFacts,
                               log: QualityLog) -> None:
    acc = tables["accounts"]
    churned = acc["status"].eq("churned")
    if facts.open_lines is not None:
        open_lines = facts.open_lines
        on_churned = open_lines.reindex(acc.loc[churned, "account_id"]).dropna()
        on_churned = on_churned[on_churned > 0]
        if len(on_churned):
            with_open = int(acc["account_id"].isin(open_lines[open_lines > 0].index).sum())
            every = (f"; {with_open:,} of {len(acc):,} accounts have an open line"
                     if with_open else "")
            log.add("mrr", "problem", f"{tf.plural(int(on_churned.sum()), 'subscription line')} "
                                      "with no "
                    f"end date {tf.noun(int(on_churned.sum()), 'belongs', 'belong')} to "
                    f"{tf.plural(len(on_churned), 'churned account')}{every}: "
                    "their MRR runs on to the as-of date, so MRR is overstated and MRR churn "
                    "understated", count=int(on_churned.sum()),
                    examples=on_churned.index.tolist(),
                    affects=["revenue", "reasons", "segments", "scenarios"],
                    tables=["mrr"],
                    caveat=f"{int(on_churned.sum()):,} open subscription lines keep the MRR "
                    f"of {len(on_churned):,} churned accounts running")
        return
    mrr = tables.get("mrr")
    if mrr is None or not len(mrr):
        return
    churn_month = acc.set_index("account_id")["churn_date"].dropna().dt.to_period("M")
    if churn_month.empty:
        return
    billed = mrr[(mrr["mrr"] > 0) & mrr["account_id"].isin(churn_month.index)]
    status = acc.set_index("account_id")["status"]
    after = billed["month"].dt.to_period("M") > billed["account_id"].map(churn_month)
    still = billed.loc[after & billed["account_id"].map(status).eq("churned"), "account_id"]
    if len(still):
        log.add("mrr", "problem", f"{tf.plural(still.nunique(), 'churned account')} "
                f"{tf.noun(still.nunique(), 'is', 'are')} still billed "
                f"after their churn month ({len(still):,} account-months of MRR)",
                count=int(still.nunique()), examples=still.unique().tolist(),
                affects=["revenue", "reasons"], tables=["mrr"],
                caveat=f"{still.nunique():,} churned accounts are still billed after churning")


def _check_churn_events(events: pd.DataFrame, supplied: set[str], params: Params,
                        log: QualityLog) -> None:
    tp = params.tables["churn_events"]
    n = len(events)
    used_by = list(TABLES["churn_events"].used_by)
    for col, words in (("reason_code", "coded reason"), ("reason_text", "free-text reason")):
        if col not in supplied:
            continue
        blank = events[col].isna() | events[col].astype(str).str.strip().eq("")
        header = tp.columns.get(col, col)
        if blank.all():
            log.add("churn_events", "warning", f"all {n:,} churn events have a blank {words} "
                    f"({header}): why customers leave cannot be read from the data",
                    count=n, affects=["reasons", "drivers"])
        elif blank.any():
            log.add("churn_events", "warning", f"{int(blank.sum()):,} of {n:,} churn events "
                    f"({blank.mean():.0%}) have a blank {words} ({header})",
                    count=int(blank.sum()), affects=["reasons"])
    if {"reason_code", "reason_text"} <= supplied:
        _check_code_text_agreement(events, tp, log, used_by)


def _check_code_text_agreement(events: pd.DataFrame, tp: TableParams, log: QualityLog,
                               used_by: list[str]) -> None:
    """Coded reasons and free-text reasons should tell the same story; when the text is a
    short list of phrases, test whether the two are related at all."""
    both = events.dropna(subset=["reason_code", "reason_text"])
    both = both[both["reason_code"].astype(str).str.strip().ne("")
                & both["reason_text"].astype(str).str.strip().ne("")]
    texts = both["reason_text"].str.strip().str.lower()
    codes = both["reason_code"].str.strip().str.lower()
    if len(both) < 50 or not 2 <= texts.nunique() <= 30 or codes.nunique() < 2:
        return
    table = pd.crosstab(codes, texts)
    chi2, p_value = pearson_chi2(table.to_numpy())
    v = float(np.sqrt(chi2 / (table.to_numpy().sum() * (min(table.shape) - 1))))
    if v >= 0.2 or p_value < 0.05:
        return
    code, text = max(((c, t) for c in table.index for t in table.columns if c not in t
                      and t not in c), key=lambda ct: table.loc[ct], default=(None, None))
    example = (f"; e.g. {table.loc[code, text]} events coded '{code}' say '{text}'"
               if code is not None else "")
    code_col = tp.columns.get("reason_code", "reason_code")
    text_col = tp.columns.get("reason_text", "reason_text")
    log.add("churn_events", "problem", f"coded reasons ({code_col}) "
            f"and free-text reasons ({text_col}) look "
            f"unrelated (Cramér's V {v:.2f}, p = {p_value:.2f}, {len(both):,} events with "
            f"both){example}: neither can be trusted alone", count=len(both),
            affects=used_by, tables=["churn_events"],
            caveat="coded and free-text churn reasons disagree")


def pearson_chi2(observed: np.ndarray) -> tuple[float, float]:
    """Pearson's chi-squared test of independence on a contingency table of counts (at
    least 2 x 2, every row and column sum above 0): (statistic, p-value).

    The same arithmetic as ``scipy.stats.chi2_contingency(observed)`` (Yates' continuity
    correction when there is one degree of freedom), to the bit, without importing
    ``scipy.stats`` (about 2 CPU s, a tenth of loading 100,000 accounts): expected counts
    are row sum x column sum / total, the statistic sums (observed - expected)^2 / expected,
    the p-value is the chi-squared survival function at (rows - 1) x (columns - 1) degrees of
    freedom (``scipy.special.chdtrc``).
    """
    observed = np.asarray(observed)
    counts = observed.astype(np.float64)
    expected = (counts.sum(axis=1, keepdims=True) * counts.sum(axis=0, keepdims=True)
                / counts.sum())
    dof = expected.size - sum(expected.shape) + expected.ndim - 1
    if dof == 1:  # Yates: each count moved towards its expected value by at most 0.5
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    stat = np.sum((observed - expected) ** 2 / expected)
    return float(stat), float(special.chdtrc(float(dof), stat))


def _check_scales(name: str, frame: pd.DataFrame, tp: TableParams, log: QualityLog) -> None:
    """A score whose low (or high) end is never used reads too kind (or too harsh)."""
    for col in TABLES[name].columns:
        if col.kind != "number" or col.min is None or col.max is None or col.name not in frame:
            continue
        values = frame[col.name].dropna()
        if len(values) < 30:
            continue
        low, high = float(values.min()), float(values.max())
        header = tp.columns.get(col.name, col.name)
        scale = f"the {col.min:g}-{col.max:g} scale"
        if low >= col.min + 2:
            end = "low end is never used, so scores read high and cannot single out unhappy "
            end += "customers"
        elif high <= col.max - 2:
            end = "high end is never used, so scores read low"
        else:
            continue
        log.add(name, "problem", f"{header}: only scores {low:g}-{high:g} occur on {scale} "
                f"({len(values):,} answers): the {end}", count=len(values),
                affects=list(TABLES[name].used_by), tables=[name],
                caveat=f"{header} uses only {low:g}-{high:g} of {scale}")


def check_period(facts: LoadFacts, params: Params, files: dict[str, Path]) -> None:
    """A period outside the data is a typo in PERIOD/AS_OF, not a finding: stop."""
    if facts.mrr_span is None or params.period_start is None or params.as_of is None:
        return
    first, last = facts.mrr_span
    start, as_of = pd.Timestamp(params.period_start), pd.Timestamp(params.as_of)
    if last.to_period("M") < start.to_period("M"):
        problem = (f"the period {params.period_label} starts after the MRR data end "
                   f"({last:%b %Y})")
    elif first.to_period("M") > as_of.to_period("M"):
        problem = (f"the period {params.period_label} ends before the MRR data start "
                   f"({first:%b %Y})")
    else:
        return
    raise file_error("mrr", files["mrr"], None, problem,
                     f"a period between {first:%b %Y} and {last:%b %Y}",
                     f"Pass PERIOD (e.g. PERIOD={last.year}-Q{(last.month - 1) // 3 + 1}) or "
                     "AS_OF inside the data, or correct period.period in the params file.")


def check_unused_files(params: Params, files: dict[str, Path], log: QualityLog) -> None:
    """Name every file in the client's folder that no table reads, and what that costs."""
    folder = params.data_path()
    if not folder.is_dir():
        return
    used = {p.resolve() for p in files.values()} | joined_files(params)
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        real = paths.inside_folder(path, folder)
        if real is None:
            log.add("files", "info", f"{path.name} is a link leading outside the client's "
                    f"folder {relative_name(folder)}; not read")
            continue
        if (not real.is_file() or real in used
                or path.suffix.lower() not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm",
                                               ".xls", ".parquet")):
            continue
        try:
            headers = file_header(path)
        except DataError as exc:  # too wide or too long to read cheaply: say so, go on
            log.add("files", "info", f"{path.name} is not used by any table (its header was "
                    f"not read: {exc.issues[0].problem})")
            continue
        stem = header_key(path.stem)
        guess = next((t for t in TABLES if t not in params.tables
                      and (header_key(t) in stem or header_key(t.rstrip("s")) in stem)), None)
        text = f"{path.name} is not used by any table"
        if headers:
            text += f" (columns: {', '.join(headers[:5])}{', …' if len(headers) > 5 else ''})"
        has_account = any("account" in header_key(h) for h in headers)
        keys = [h for h in headers if header_key(h).endswith("id") and header_key(h) != "id"]
        if guess is None:
            log.add("files", "info", text + ".")
            continue
        text += f"; it looks like the '{guess}' table"
        if headers and not has_account:
            key = next((k for k in keys if not header_key(k).startswith(header_key(guess)[:4])),
                       keys[0] if keys else None)
            text += (", but it has no account column" + (f" (it is keyed by {key})" if key
                                                         else "")
                     + f" and the data contract's '{guess}' table is per account: map it "
                     f"with a join to the file that names the account of each "
                     f"{key or 'row'} (tables.{guess}.join, docs/data-contract.md)")
        else:
            text += f": map it under tables.{guess} in the params file"
        log.add("files", "warning", text + f"; findings that need '{guess}' go without it",
                affects=list(TABLES[guess].used_by))
