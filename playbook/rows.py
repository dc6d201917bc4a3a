"""The rows a typed table keeps: exact duplicates dropped, conflicting keys refused, rows of
unknown accounts dropped, survey rows without a score dropped; each logged, and too many
dropped rows (``data.max_rejected_share``) stop the run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from playbook import textfmt as tf
from playbook.billing import LINE
from playbook.config_tables import TableParams
from playbook.contract import TABLES, TableSpec
from playbook.quality import QualityLog
from playbook.reading import file_error

#: A column some tables carry through their checks (the monthly MRR table, whose 20M rows
#: at 1,000,000 accounts were hashed by account four times): each row's account as a
#: categorical of the table's sorted distinct IDs (:func:`with_account_codes`), so that
#: the unknown accounts, the repeated keys and the account-month sums
#: (:func:`playbook.mrr_history.account_month_sums`) read its codes rather than hashing
#: the IDs again. Never in a loaded table.
ACCOUNT_CODES = "_account_codes"


def account_codes(frame: pd.DataFrame) -> tuple[np.ndarray, pd.Index]:
    """Each row's account as its position in ``frame``'s distinct IDs sorted as
    ``pd.factorize(..., sort=True)`` sorts them (-1: no ID), and those IDs: read from
    :data:`ACCOUNT_CODES` when the frame carries it, else factorized now. The codes are
    a writable int64 array of the caller's own either way."""
    if ACCOUNT_CODES in frame:
        shared = frame[ACCOUNT_CODES].array
        return shared.codes.astype(np.int64), shared.categories
    codes, accounts = pd.factorize(frame["account_id"], sort=True)
    if accounts.dtype == object:  # (the groupby's accounts as text when all are text)
        accounts = pd.Index(accounts.to_numpy())
    return codes, accounts


def with_account_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :data:`ACCOUNT_CODES`: ``account_id`` as a categorical of its
    distinct IDs (:func:`account_codes`)."""
    codes, accounts = account_codes(frame)
    return frame.assign(**{ACCOUNT_CODES: pd.Categorical.from_codes(
        codes, dtype=pd.CategoricalDtype(accounts))})


def dedupe_keys(table: str, spec: TableSpec, frame: pd.DataFrame, path: Path,
                log: QualityLog, tp: TableParams | None = None) -> pd.DataFrame:
    """Drop exact duplicate rows (logged); conflicting rows under one key stop the run."""
    if not spec.key or not set(spec.key) <= set(frame.columns):
        return frame
    # rows equal in every value are equal in the key: when no key repeats, no row repeats
    # (the key's check, usually all it takes, is then the only one)
    dup = repeated_keys(frame, list(spec.key))
    if dup.any():
        value_cols = [c for c in frame.columns if c != LINE]
        exact = frame.duplicated(subset=value_cols, keep="first")
        if exact.any():
            log.add(table, "warning",
                    f"{tf.plural(int(exact.sum()), 'exact duplicate row')} dropped",
                    count=int(exact.sum()), examples=frame.loc[exact, LINE].tolist(),
                    affects=list(spec.used_by))
            frame = frame.loc[~exact]
            dup = repeated_keys(frame, list(spec.key))
    if table == "mrr":
        return frame  # several lines in one month are summed later
    if dup.any():
        keys = frame.loc[dup, list(spec.key)].astype(str).agg("/".join, axis=1)
        header = "/".join(tp.columns.get(k, k) if tp else k for k in spec.key)
        raise file_error(table, path, header,
                         f"{keys.nunique()} {'/'.join(spec.key)} "
                         f"{tf.noun(keys.nunique(), 'value')} "
                         f"{tf.noun(keys.nunique(), 'appears', 'appear')} on more than "
                         "one row with different contents", "one row per "
                         + "/".join(spec.key),
                         "Remove or merge the duplicates in the export (or ask the client which "
                         "row is current).", frame.loc[dup, LINE].tolist(),
                         keys.unique().tolist(), int(dup.sum()))
    return frame


def repeated_keys(frame: pd.DataFrame, key: list[str]) -> pd.Series:
    """``frame.duplicated(subset=key, keep=False)``: True on every row whose key values
    (missing values equal to each other) appear on another row. A key of several columns
    is counted by numpy: each column factorized, the codes combined into one integer per
    row and counted (when there are at most four times as many combinations as rows;
    else by pandas)."""
    if len(key) < 2 or not len(frame):
        return frame.duplicated(subset=key, keep=False)
    combined = np.zeros(len(frame), dtype=np.int64)
    size = 1
    for name in key:
        if name == "account_id" and ACCOUNT_CODES in frame:  # factorized once already
            shared = frame[ACCOUNT_CODES].array
            codes = shared.codes.astype(np.int64)
            codes[codes < 0] = len(shared.categories)  # a missing ID: a code of its own
            uniques = range(len(shared.categories) + 1)
        else:
            codes, uniques = pd.factorize(frame[name], use_na_sentinel=False)
        size *= max(len(uniques), 1)
        if size > 4 * len(frame):
            return frame.duplicated(subset=key, keep=False)
        combined = combined * max(len(uniques), 1) + codes
    counts = np.bincount(combined, minlength=size)
    return pd.Series(counts[combined] > 1, index=frame.index)


def drop_orphans(name: str, frame: pd.DataFrame, known: set[str], path: Path, log: QualityLog,
                 max_rejected: float, header: str = "account_id") -> pd.DataFrame:
    """Drop rows referencing accounts the accounts table lacks (logged); too many stop the
    run."""
    spec = TABLES[name]
    if not spec.references_accounts or "account_id" not in frame or not len(frame):
        return frame
    if ACCOUNT_CODES in frame:  # each distinct ID looked up once
        shared = frame[ACCOUNT_CODES].array
        found = np.append(known_ids(pd.Series(shared.categories), known), False)
        orphan = pd.Series(~found[shared.codes], index=frame.index)  # (-1: no ID, unknown)
    else:
        orphan = pd.Series(~known_ids(frame["account_id"], known), index=frame.index)
    if not orphan.any():
        return frame
    share = orphan.mean()
    examples = frame.loc[orphan, "account_id"].unique().tolist()
    if share > max_rejected:
        raise file_error(name, path, header,
                         f"{tf.plural(int(orphan.sum()), 'row')} ({share:.0%}) "
                         f"{tf.noun(int(orphan.sum()), 'refers', 'refer')} to accounts that "
                         "are not in the accounts table",
                         "every account_id to exist in the accounts table",
                         "Check that both files come from the same export (same ID format, no "
                         "leading zeros lost), or add the missing accounts.",
                         frame.loc[orphan, LINE].tolist(), examples, int(orphan.sum()))
    log.add(name, "warning", f"{tf.plural(int(orphan.sum()), 'row')} "
            f"{tf.noun(int(orphan.sum()), 'refers', 'refer')} to unknown accounts; "
            "dropped", count=int(orphan.sum()), examples=examples,
            affects=list(spec.used_by))
    return frame.loc[~orphan]


def known_ids(ids: pd.Series, known: set[str]) -> np.ndarray:
    """``ids.isin(known)`` as a boolean array; text ids are looked up by Arrow's hash set
    (pandas turns the Python set into an array and hashes it again for every table: 10% of
    loading 100,000 accounts)."""
    value_set = _text_set(known) if (isinstance(ids.dtype, pd.StringDtype)
                                     and ids.dtype.storage == "pyarrow") else None
    if value_set is None:
        return ids.isin(known).to_numpy(dtype=bool)
    values = ids.array.__arrow_array__()  # (the Arrow strings themselves, not copied)
    found = pc.is_in(values, value_set=value_set)
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def _text_set(known: set[str]) -> pa.Array | None:
    """``known`` as an Arrow array of strings when every member is a ``str`` (Arrow infers
    the type; anything else, bytes, numbers, None, or a mix, is not text), else None."""
    if not known:
        return None
    try:
        values = pa.array(list(known), from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return values if values.type == pa.string() and values.null_count == 0 else None


def answered_surveys(frame: pd.DataFrame, tp: TableParams, log: QualityLog) -> pd.DataFrame:
    """A survey row without any score is not an answer: dropped, logged."""
    scores = [c for c in ("nps", "csat") if c in frame]
    if not scores or not len(frame):
        return frame
    empty = frame[scores].isna().all(axis=1)
    if empty.any():
        headers = " and ".join(tp.columns.get(c, c) for c in scores)
        log.add("surveys", "warning", f"{int(empty.sum()):,} of "
                                      f"{tf.plural(len(frame), 'survey row')} "
                f"({empty.mean():.0%}) {tf.noun(int(empty.sum()), 'carries', 'carry')} no score "
                f"({headers} blank); not counted as "
                "answers", count=int(empty.sum()), examples=frame.loc[empty, LINE].tolist(),
                affects=list(TABLES["surveys"].used_by))
    return frame.loc[~empty]
