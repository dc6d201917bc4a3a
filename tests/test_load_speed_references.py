"""Faster loading (#22), each new implementation against the code it replaced, kept here as
the reference: same values to the bit on hand-made edge cases and on random inputs."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import chi2_contingency
from test_events_duckdb_reference import COLUMNS as EVENT_COLUMNS
from test_events_duckdb_reference import _same as same_events
from test_events_duckdb_reference import write_usage_events
from test_vectorised_values import old_read_dates, table_params

from playbook import completion, demo, events, values
from playbook import textfmt as tf
from playbook.analyses import revenue
from playbook.billing import LINE, line_months, monthly_amounts
from playbook.config import load_params
from playbook.consistency import _check_code_text_agreement, pearson_chi2
from playbook.contract import TABLES
from playbook.errors import DataError
from playbook.mrr_history import monthly_mrr
from playbook.quality import QualityLog
from playbook.reading import file_error
from playbook.rows import dedupe_keys
from playbook.values import _to_dates, read_dates

# ----------------------------------------------------------------- chi-squared, no scipy.stats


def _tables() -> list[np.ndarray]:
    rng = np.random.default_rng(22)
    out = [np.array([[10, 0], [0, 10]]), np.array([[1, 1], [1, 1]]),
           np.array([[5, 3], [2, 7]]), np.array([[100, 1], [1, 0 + 1]]),
           np.array([[3, 3, 3], [3, 3, 3]]), np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]]),
           np.array([[2, 1], [1, 2], [5, 0]])]
    for _ in range(300):
        rows, cols = rng.integers(2, 8), rng.integers(2, 31)
        table = rng.poisson(rng.choice([0.7, 3, 40, 5000]), size=(rows, cols))
        table[:, 0] += 1  # every row sum above 0
        table[0, :] += 1  # every column sum above 0
        out.append(table)
    return out


@pytest.mark.parametrize("table", _tables())
def test_pearson_chi2_equals_scipy_chi2_contingency(table: np.ndarray) -> None:
    expected = chi2_contingency(table)
    got = pearson_chi2(table)
    assert got == (float(expected.statistic), float(expected.pvalue))


def test_pearson_chi2_on_a_crosstab_as_the_check_builds_it() -> None:
    codes = pd.Series(["price", "price", "support", "support", "other"] * 20)
    texts = pd.Series(["too expensive", "slow support", "slow support", "x", "x"] * 20)
    table = pd.crosstab(codes, texts)
    expected = chi2_contingency(table)
    assert pearson_chi2(table.to_numpy()) == (expected.statistic, expected.pvalue)


def test_unrelated_reasons_are_logged_with_scipy_s_figures() -> None:
    """The check's note, with V and p as ``chi2_contingency`` gives them (computed here)."""
    rng = np.random.default_rng(5)
    codes = rng.choice(["Price", "Support", "Features"], size=400)
    texts = rng.choice(["too expensive", "slow support", "missing export"], size=400)
    events = pd.DataFrame({"reason_code": codes, "reason_text": texts})
    tp = load_params("demo").tables["churn_events"]
    log = QualityLog()
    _check_code_text_agreement(events, tp, log, ["reasons"])
    table = pd.crosstab(pd.Series(codes).str.lower(), pd.Series(texts))
    res = chi2_contingency(table)
    v = np.sqrt(res.statistic / (400 * (min(table.shape) - 1)))
    assert v < 0.2 and res.pvalue >= 0.05  # unrelated: the check speaks
    [note] = log.problems()
    assert f"(Cramér's V {v:.2f}, p = {res.pvalue:.2f}, 400 events with both)" in note.message


# ----------------------------------------------------------------- ISO dates read by Arrow


def _arrow_text(cells: list) -> pd.Series:
    return pd.Series(cells, dtype=pd.StringDtype("pyarrow", na_value=np.nan),
                     index=np.arange(len(cells)) * 3 + 1, name="Date")


def _old_iso(text: pd.Series) -> pd.Series:
    """What ``read_dates`` called before: pandas' ISO 8601 reading of the whole column."""
    return _to_dates(text, format="ISO8601")


YEARS = [f"{y:04d}" for y in range(0, 10000)]
MONTH_DAYS = [f"{m:02d}-{d:02d}" for m in range(0, 14) for d in range(0, 33)]


def _valid_grid() -> list[str]:
    """Every year 0000-9999 on a few days, and every month-day of a few years, kept where
    pandas reads them (valid calendar dates)."""
    cells = [f"{y}-{x}" for y in YEARS for x in ("01-01", "02-28", "12-31", "06-30")]
    cells += [f"{y}-{x}" for y in ("1900", "2000", "2023", "2024", "2100", "1677", "2262",
                                   "0000", "9999") for x in MONTH_DAYS]
    text = _arrow_text(cells)
    return text[_old_iso(text).notna()].tolist()


def test_plain_iso_dates_are_read_by_arrow_as_pandas_reads_them(monkeypatch) -> None:
    cells = _valid_grid()
    assert len(cells) > 40_000
    text = _arrow_text(cells)
    ref = _old_iso(text)
    with monkeypatch.context() as m:  # every cell plain and valid: pandas is not called
        m.setattr(values, "_to_dates", lambda *a, **k: pytest.fail("pandas called"))
        got = values._iso_dates(text)
    pd.testing.assert_series_equal(got, ref)


@pytest.mark.parametrize("odd", ["2023-02-29", "2024-13-01", "2024-06-31", "0000-00-00",
                                 "2024-00-10"])
def test_a_plain_cell_arrow_refuses_sends_the_column_to_pandas(odd) -> None:
    text = _arrow_text(["2024-01-31", odd, None, "2024-03-01"])
    got = values._iso_dates(text)
    pd.testing.assert_series_equal(got, _old_iso(text))
    assert got.isna().tolist() == [False, True, True, False]


MIXED = ["2024-01-31", None, "2024-01-31T23:30:00-05:00", "2024-02-10T10:00:00Z",
         "2024-02-10 10:00", "2024-02", "2024", "20240131", "31/01/2024", "1899-12-30",
         "9999-12-31", "0024-03-05", "2200-01-01", "abc", "", "2024-1-5", "2024-01-05 ",
         "١٩٩٠-٠١-٠١", "2024-01-31T00:00:00.123456", "+2024-01-01", "2024-01-31Z"]


@pytest.mark.parametrize("cells", [MIXED, MIXED[::-1], [None], [], ["2024-05-05"],
                                   ["x", None], ["2024-05-05", "2024-05-05"]])
def test_iso_dates_of_any_column_equal_pandas_iso(cells) -> None:
    text = _arrow_text(cells)
    pd.testing.assert_series_equal(values._iso_dates(text), _old_iso(text))
    obj = pd.Series(cells, dtype=object)  # not Arrow strings: pandas as before
    pd.testing.assert_series_equal(values._iso_dates(obj), _old_iso(obj))


@pytest.mark.parametrize("cells", [MIXED, [" 2024-01-31 ", "nan", "NULL", "  "], [],
                                   ["0000-00-00", "0000-00-00 00:00", "2024-02-30"],
                                   ["1901-01-01", "2199-12-31", "1900-12-31", "2200-01-01"]])
def test_read_dates_reads_as_before(cells) -> None:
    series = pd.Series(cells, dtype="str", index=np.arange(len(cells)) * 2)
    tp = table_params(file="x")
    got, ref = read_dates(series, tp), old_read_dates(series, tp)
    for field in ("values", "bad", "implausible", "placeholder", "zoned"):
        pd.testing.assert_series_equal(getattr(got, field), getattr(ref, field), obj=field)


def old_month_start(dates: pd.Series) -> pd.Series:
    """The month kind's first day before: by pandas' periods."""
    return dates.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")


@pytest.mark.parametrize("cells", [
    ["2024-01-31 23:59:59.999999", None, "1901-01-01", "2199-12-31 12:00", "2024-02-29"],
    [], [None], [None, None], ["2024-03-01"]])
def test_month_start_equals_the_first_day_of_the_period(cells) -> None:
    read = pd.to_datetime(pd.Series(cells, dtype=object), format="mixed").to_numpy()
    dates = pd.Series(read, name="m", index=np.arange(len(cells)) + 5,
                      dtype="datetime64[ns]")
    assert dates.notna().sum() == sum(c is not None for c in cells)
    pd.testing.assert_series_equal(values.month_start(dates), old_month_start(dates))


# ----------------------------------------------------------------- returns after churn


def old_came_back(ids: pd.Series, last_event: pd.Series, mrr: pd.DataFrame | None) -> set[str]:
    """``completion.came_back`` before: account by account in Python."""
    if mrr is None or not len(mrr):
        return set()
    paid = mrr.loc[(mrr["mrr"] > 0) & mrr["account_id"].isin(ids), ["account_id", "month"]]
    paid = paid.assign(m=paid["month"].dt.to_period("M").map(lambda p: p.ordinal))
    event = last_event.dt.to_period("M").map(lambda p: p.ordinal)
    back: set[str] = set()
    for account, months in paid.groupby("account_id")["m"]:
        start = event.get(account)
        later = months[months > start] if start is not None else months.iloc[:0]
        if len(later) and len(set(range(start, int(later.max())))
                              - set(months.tolist())) > 0:
            back.add(str(account))
    return back


def _billing(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({"account_id": pd.Series([r[0] for r in rows], dtype="str"),
                         "month": pd.to_datetime([r[1] for r in rows]).astype("datetime64[ns]"),
                         "mrr": [r[2] for r in rows]})


def test_came_back_by_hand() -> None:
    mrr = _billing([
        ("a", "2024-01-01", 10), ("a", "2024-02-01", 10), ("a", "2024-04-01", 10),  # gap: back
        ("b", "2024-01-01", 10), ("b", "2024-02-01", 10), ("b", "2024-03-01", 10),  # runs on
        ("c", "2024-01-01", 10), ("c", "2024-03-01", 0), ("c", "2024-05-01", 5),  # zero: gap
        ("d", "2024-01-01", 10), ("d", "2024-01-01", 10), ("d", "2024-02-01", 10),  # twice
        ("e", "2023-01-01", 10),  # nothing after its event
        ("f", "2024-05-01", 10),  # event month unpaid, paid later: back
        ("g", "2024-01-01", 10), ("g", "2024-03-01", 10),  # not among ids
        ("h", "2024-01-01", 10), ("h", "2024-03-01", 10),  # no event
        ("i", "2024-01-01", 10), ("i", "2024-01-01", 10), ("i", "2024-03-01", 10)])  # twice
    # and a gap
    last = pd.Series(pd.to_datetime(["2024-01-15", "2024-01-20", "2024-01-31", "2024-01-01",
                                     "2024-01-01", "2024-03-09", "2024-01-01", "2024-01-05"]),
                     index=pd.Index(list("abcdefgi"), dtype="str")).astype("datetime64[ns]")
    ids = pd.Series(list("abcdefhi"), dtype="str")
    expected = {"a", "c", "f", "i"}
    assert old_came_back(ids, last, mrr) == expected
    assert completion.came_back(ids, last, mrr) == expected
    assert completion.came_back(ids, last, mrr.iloc[:0]) == set()
    assert completion.came_back(ids, last, None) == set()
    assert completion.came_back(ids, last.iloc[:0], mrr) == set()
    one = mrr[mrr["account_id"].eq("a")]
    assert completion.came_back(ids.iloc[:1], last.iloc[:1], one) == {"a"}


@pytest.mark.parametrize("seed", range(40))
def test_came_back_equals_the_loop_on_random_billing(seed: int) -> None:
    rng = np.random.default_rng(seed)
    accounts = [f"A{i}" for i in range(rng.integers(1, 60))]
    months = pd.date_range("2023-01-01", periods=24, freq="MS")
    rows = [(a, str(m.date()), float(rng.choice([0, 5, 10])))
            for a in accounts for m in months if rng.random() < rng.choice([0.3, 0.8, 0.97])]
    mrr = _billing(rows) if rows else _billing([("A0", "2023-01-01", 1.0)])
    dates = pd.to_datetime(rng.choice(pd.date_range("2022-11-01", "2025-03-01"),
                                      size=len(accounts)))
    last = pd.Series(dates, index=pd.Index(accounts, dtype="str")).astype("datetime64[ns]")
    ids = pd.Series(rng.choice(accounts, size=max(1, len(accounts) // 2)), dtype="str")
    assert completion.came_back(ids, last, mrr) == old_came_back(ids, last, mrr)


# ----------------------------------------------------------------- monthly MRR, grouped once


def old_monthly_mrr(frame, tp, as_of, log):
    """``mrr_history.monthly_mrr`` before: grouped twice."""
    if tp.layout == "lines":
        if "proration" in frame and frame["proration"].fillna(False).astype(bool).any():
            flagged = frame["proration"].fillna(False).astype(bool)
            log.add("mrr", "info", f"{tf.plural(int(flagged.sum()), 'proration line')} (one-off "
                                   "credits "
                    f"and charges, {float(frame.loc[flagged, 'mrr'].sum()):,.2f} in all) "
                    f"{tf.noun(int(flagged.sum()), 'is', 'are')} "
                    "not recurring revenue; left out of MRR", count=int(flagged.sum()))
            frame = frame.loc[~flagged]
        if tp.amount_per == "period":
            frame = frame.assign(mrr=monthly_amounts(frame, tp.end_inclusive))
            unknown = frame["mrr"].isna()
            if unknown.any():
                log.add("mrr", "warning", f"{tf.plural(int(unknown.sum()), 'open line')} "
                        f"{tf.noun(int(unknown.sum()), 'bills', 'bill')} an amount "
                        "for a period of unknown length (no end date, no period_months): "
                        "left out of MRR", count=int(unknown.sum()),
                        examples=frame.loc[unknown, "account_id"].tolist(),
                        affects=["revenue"])
                frame = frame.loc[~unknown]
        frame = line_months(frame, as_of, end_inclusive=tp.end_inclusive,
                            basis=tp.mrr_basis)
    counts = frame.groupby(["account_id", "month"]).size()
    if (counts > 1).any() and tp.layout == "monthly":
        log.add("mrr", "info", f"{tf.plural(int((counts > 1).sum()), 'account-month')} "
                f"{tf.noun(int((counts > 1).sum()), 'has', 'have')} several "
                "lines; summed", count=int((counts > 1).sum()))
    out = (frame.groupby(["account_id", "month"], as_index=False)
           .agg(mrr=("mrr", "sum"), **{LINE: (LINE, "min")}))
    if as_of is not None:
        out = out[out["month"] <= as_of]
    return out


def _mrr_rows(ids: list, months: list[str], amounts: list[float], dtype: str) -> pd.DataFrame:
    return pd.DataFrame({"account_id": pd.Series(ids, dtype=dtype),
                         "month": pd.to_datetime(pd.Series(months, dtype=object)).astype(
                             "datetime64[ns]"),
                         "mrr": pd.Series(amounts, dtype=float),
                         LINE: np.arange(len(ids), dtype="int64") + 2})


MRR_CASES = [
    (["b", "a", "a", "b", "a"], ["2024-02-01", "2024-01-01", "2024-01-01", "2024-01-01",
                                 "2024-03-01"], [5.0, 1.5, np.nan, 2.0, 0.1]),
    (["a"], ["2024-01-01"], [3.0]),
    ([], [], []),
    (["x", "x", "x"], ["2024-05-01"] * 3, [0.1, 0.2, 0.3]),
    (["z", "y", "y"], ["2025-01-01", "2024-12-01", "2025-02-01"], [1.0, 2.0, np.nan]),
]


@pytest.mark.parametrize("dtype", ["str", "object"])
@pytest.mark.parametrize(("ids", "months", "amounts"), MRR_CASES)
@pytest.mark.parametrize("as_of", [None, "2024-12-31"])
def test_monthly_mrr_equals_grouping_twice(ids, months, amounts, dtype, as_of) -> None:
    frame = _mrr_rows(ids, months, amounts, dtype)
    tp = load_params("demo").tables["mrr"]
    when = pd.Timestamp(as_of) if as_of else None
    new_log, old_log = QualityLog(), QualityLog()
    got = monthly_mrr(frame, tp, when, new_log)
    ref = old_monthly_mrr(frame, tp, when, old_log)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert new_log.to_dict() == old_log.to_dict()


def test_monthly_mrr_of_the_bench_shape_random() -> None:
    rng = np.random.default_rng(3)
    n = 5000
    frame = _mrr_rows([f"NWA-{i:04d}" for i in rng.integers(0, 300, n)],
                      [f"2024-{m:02d}-01" for m in rng.integers(1, 13, n)],
                      rng.gamma(2, 300, n).round(2).tolist(), "str")
    tp = load_params("demo").tables["mrr"]
    got = monthly_mrr(frame, tp, pd.Timestamp("2024-10-31"), QualityLog())
    ref = old_monthly_mrr(frame, tp, pd.Timestamp("2024-10-31"), QualityLog())
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    # and by hand with plain pandas: sums and first lines per account-month
    by_hand = frame.sort_values(LINE).drop_duplicates(["account_id", "month"])
    assert len(got) == (by_hand["month"] <= "2024-10-31").sum()


# ----------------------------------------------------------------- duplicates, key first


def old_dedupe_keys(table, spec, frame, path, log, tp=None):
    """``rows.dedupe_keys`` before: every row compared whole first."""
    if not spec.key or not set(spec.key) <= set(frame.columns):
        return frame
    value_cols = [c for c in frame.columns if c != LINE]
    exact = frame.duplicated(subset=value_cols, keep="first")
    if exact.any():
        log.add(table, "warning", f"{tf.plural(int(exact.sum()), 'exact duplicate row')} dropped",
                count=int(exact.sum()), examples=frame.loc[exact, LINE].tolist(),
                affects=list(spec.used_by))
        frame = frame.loc[~exact]
    if table == "mrr":
        return frame
    dup = frame.duplicated(subset=list(spec.key), keep=False)
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


def _contacts(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame({"contact_id": pd.Series([r[0] for r in rows], dtype="str"),
                         "account_id": pd.Series([r[1] for r in rows], dtype="str"),
                         "role": pd.Series([r[2] for r in rows], dtype="str"),
                         LINE: np.arange(len(rows), dtype="int64") + 2})


DEDUPE_CASES = [
    ("contacts", [("c1", "a", "user"), ("c2", "a", "champion")]),  # nothing repeats
    ("contacts", [("c1", "a", "user"), ("c1", "a", "user"), ("c2", "b", None)]),  # exact
    ("contacts", [("c1", "a", None), ("c1", "a", None), ("c1", "a", None)]),  # blanks equal
    ("contacts", [("c1", "a", "user"), ("c1", "b", "user")]),  # conflict: stops
    ("contacts", [("c1", "a", "user"), ("c1", "a", "user"), ("c1", "b", "user")]),  # both
    ("contacts", []),
    ("contacts", [("c9", "z", "executive")]),
    ("mrr", [("a", "2024-01-01", 5.0), ("a", "2024-01-01", 5.0), ("a", "2024-01-01", 7.0),
             ("b", "2024-01-01", np.nan), ("b", "2024-01-01", np.nan)]),
    ("mrr", [("a", "2024-01-01", 5.0), ("a", "2024-02-01", 5.0)]),
]


def _frame(table: str, rows: list[tuple]) -> pd.DataFrame:
    if table == "contacts":
        return _contacts(rows)
    return _mrr_rows([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], "str")


@pytest.mark.parametrize(("table", "rows"), DEDUPE_CASES)
def test_dedupe_keys_as_before(table, rows, tmp_path) -> None:
    spec, tp = TABLES[table], load_params("demo").tables[table]
    path = tmp_path / "x.csv"
    outcomes = []
    for dedupe in (dedupe_keys, old_dedupe_keys):
        log = QualityLog()
        try:
            outcomes.append((dedupe(table, spec, _frame(table, rows), path, log, tp), log))
        except DataError as exc:
            outcomes.append((exc.issues, log))
    (got, got_log), (ref, ref_log) = outcomes
    if isinstance(ref, pd.DataFrame):
        pd.testing.assert_frame_equal(got, ref, check_exact=True)
    else:
        assert got == ref
    assert got_log.to_dict() == ref_log.to_dict()


# ----------------------------------------------------------------- event accounts untrimmed


def _events_file(path, accounts: list) -> None:
    n = len(accounts)
    when = np.array(["2024-01-03", "2024-01-20", "2024-02-05", "2024-01-05"] * n,
                    dtype="datetime64[ms]")[:n]
    pq.write_table(pa.table({"Account ID": pa.array(accounts, type=pa.string()),
                             "Event Time": pa.array(when),
                             "User ID": pa.array(np.arange(n) % 3, type=pa.int64()),
                             "Licensed Seats": pa.array([5] * n, type=pa.int32())}), path)


@pytest.mark.parametrize(("accounts", "trimmed"), [
    (["A", "B", "A", "", "nan", "NULL", None, "İ", "nulls", "B"], False),
    (["A", "B", "A", "B "], True),  # one padded cell at the end: trimmed
    ([" A", "A"], True),
    (["A\\t", "A"], False),  # a backslash and a t: no space
])
def test_event_accounts_are_trimmed_only_when_a_cell_needs_it(tmp_path, accounts, trimmed):
    path = tmp_path / "ev.parquet"
    _events_file(path, accounts)
    con = duckdb.connect()
    source = f"read_parquet('{path}', file_row_number=true)"
    key = events._account_key(con, source, "Account ID", csv=False)
    assert ("trim(" in key) is trimmed  # (trimming only the cells with a space at an end)
    assert "trim(" in events._account_key(con, source, "Account ID", csv=True)
    con.close()
    same_events(path, EVENT_COLUMNS)  # the table as the old query gives it


def test_event_accounts_untrimmed_on_the_demo_events(tmp_path):
    folder = tmp_path / "d"
    demo.generate_demo(folder, n_accounts=120)
    write_usage_events(folder, mean=3.0)
    path = folder / "usage_events.parquet"
    con = duckdb.connect()
    key = events._account_key(con, f"read_parquet('{path}')", "Account ID", csv=False)
    con.close()
    assert "trim(" not in key
    assert len(same_events(path, EVENT_COLUMNS)) > 500


# ----------------------------------------------------------------- churn at cancellation


def old_recognise_churn(mrr, churn_events, *, recognise_at):
    """``revenue.recognise_churn`` before: every account's paid months sorted and matched."""
    if recognise_at == "end_of_paid_period" or churn_events is None or churn_events.empty:
        return mrr
    paid = mrr[mrr["mrr"] > 0].sort_values(["account_id", "month"]).copy()
    ordinal = revenue._month_ordinal(paid["month"])
    new_run = (paid["account_id"] != paid["account_id"].shift()) | (
        np.diff(ordinal, prepend=ordinal[:1] - 2) != 1)
    paid["_run"] = new_run.cumsum().to_numpy()
    events = churn_events.dropna(subset=["churn_date"])[["account_id", "churn_date"]].copy()
    events["month"] = events["churn_date"].dt.to_period("M").dt.to_timestamp()
    hit = events.merge(paid[["account_id", "month", "_run"]], on=["account_id", "month"])
    if hit.empty:
        return mrr
    cut = hit.groupby("_run")["month"].min()
    paid["_cut"] = paid["_run"].map(cut)
    drop = paid.index[paid["_cut"].notna() & (paid["month"] >= paid["_cut"])]
    return mrr.drop(index=drop)


@pytest.mark.parametrize("seed", range(30))
def test_recognise_churn_at_cancellation_as_before(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    accounts = [f"A{i}" for i in range(rng.integers(1, 40))]
    months = pd.date_range("2024-01-01", periods=18, freq="MS")
    rows = [(a, str(m.date()), float(rng.choice([0, 0.0, 5, 12.5])))
            for a in accounts for m in months if rng.random() < 0.85]
    rows += [rows[k] for k in rng.integers(0, len(rows), 3)] if rows else []  # repeats
    if not rows:
        rows = [("A0", "2024-01-01", 5.0)]
    mrr = _mrr_rows([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], "str")
    mrr = mrr.drop(columns=LINE).sample(frac=1, random_state=seed)  # any row order
    n = int(rng.integers(0, 25))
    who = rng.choice(accounts + ["ghost"], size=n)
    dates = rng.choice(pd.date_range("2023-11-01", "2025-09-01"), size=n)
    events = pd.DataFrame({"account_id": pd.Series(who, dtype="str"),
                           "churn_date": pd.Series(dates, dtype="datetime64[ns]")})
    if n:
        events.loc[events.index[0], "churn_date"] = pd.NaT
    got = revenue.recognise_churn(mrr, events, recognise_at="cancellation")
    ref = old_recognise_churn(mrr, events, recognise_at="cancellation")
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_recognise_churn_by_hand() -> None:
    mrr = _mrr_rows(["a", "a", "a", "a", "b", "b"],
                    ["2024-01-01", "2024-02-01", "2024-03-01", "2024-05-01", "2024-01-01",
                     "2024-02-01"], [5, 5, 5, 5, 7, 7], "str").drop(columns=LINE)
    events = pd.DataFrame({"account_id": pd.Series(["a"], dtype="str"),
                           "churn_date": pd.to_datetime(["2024-02-15"]).astype("datetime64[ns]")})
    got = revenue.recognise_churn(mrr, events, recognise_at="cancellation")
    # a's run Jan-Mar is cut from February; May (after a gap: a return) and b are kept
    assert got.index.tolist() == [0, 3, 4, 5]
    assert old_recognise_churn(mrr, events, recognise_at="cancellation").index.tolist() == [
        0, 3, 4, 5]


# ----------------------------------------------------------------- day/month order


def main_date_order_conflict(series, tp):
    """``values.date_order_conflict`` before plain ISO cells were set aside."""
    if tp.date_format or pd.api.types.is_datetime64_any_dtype(series):
        return None
    text = series.astype(str)
    maybe = text.str.lstrip().str.slice(0, 3).str.contains(r"[-/.]", regex=True)
    parts = text[maybe.fillna(False).to_numpy(dtype=bool)].str.extract(values._DMY)
    parts = parts.dropna()
    if parts.empty:
        return None
    first, second = parts[0].astype(int), parts[1].astype(int)
    day_first = (first > 12) & (second <= 12)
    month_first = (second > 12) & (first <= 12)
    ambiguous = ((first <= 12) & (second <= 12) & (first != second)).any()
    positions = [series.index.get_loc(i) for i in parts.index]
    if day_first.any() and month_first.any():
        where = [positions[k] for k in np.flatnonzero((day_first | month_first).to_numpy())]
        return "mixes day-first (e.g. 31-01) and month-first (e.g. 01-31) dates", where
    if day_first.any() and not tp.dayfirst and ambiguous:
        where = [positions[k] for k in np.flatnonzero(day_first.to_numpy())]
        return ("has day-first dates (day above 12 in the first place) but dayfirst is off: "
                "dates such as 03-02 would be read as 2 March"), where
    if month_first.any() and tp.dayfirst and ambiguous:
        where = [positions[k] for k in np.flatnonzero(month_first.to_numpy())]
        return ("has month-first dates (day above 12 in the second place) but dayfirst is "
                "on: dates such as 03-02 would be read as 3 February"), where
    return None


ORDER_CELLS = ["2024-01-15", "13-02-2024", "03-02-2024", "02-13-2024", " 13-02-2024",
               "\u00a013-02-2024", "2024-01-15 10:00", "1-2-24", "31/12/2024", None, "",
               "2024-13-45", "24-01-2024", "2024/01/15", "12.03.2024"]


@pytest.mark.parametrize("dayfirst", [True, False])
@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("dtype", ["str", "object"])
def test_date_order_conflict_as_before(seed, dayfirst, dtype) -> None:
    rng = np.random.default_rng(seed)
    plain = [f"20{y:02d}-{m:02d}-{d:02d}" for y, m, d in zip(
        rng.integers(0, 40, 60), rng.integers(1, 13, 60), rng.integers(1, 29, 60),
        strict=True)]
    odd = list(rng.choice(np.array(ORDER_CELLS, dtype=object), size=rng.integers(0, 6)))
    cells = plain + odd
    order = rng.permutation(len(cells))
    series = pd.Series([cells[k] for k in order], dtype=dtype, index=np.arange(len(cells)) * 7)
    tp = table_params(file="x", dayfirst=dayfirst)
    assert values.date_order_conflict(series, tp) == main_date_order_conflict(series, tp)


def test_date_order_conflict_by_hand() -> None:
    series = pd.Series(["2024-01-15", "13-02-2024", "02-13-2024", "2024-02-01"], dtype="str")
    found, where = values.date_order_conflict(series, table_params(file="x"))
    assert found.startswith("mixes day-first") and where == [1, 2]
    assert values.date_order_conflict(series.iloc[[0, 3]], table_params(file="x")) is None
