"""The loader's value checks read plain cells at once (issue 22) with the same results.

``parse_number`` reads cells that are plain numbers without its regular expressions,
``read_dates`` looks for a time zone only in cells with a time, and
``date_order_conflict`` extracts day and month only from cells that can hold them. Each is
compared here with the code it replaced (copied below as the reference) on cells that
exports contain, hostile ones, and anything at all.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from playbook import textfmt as tf
from playbook.config import table_params
from playbook.contract import TABLES
from playbook.errors import DataIssue
from playbook.values import (
    _DMY,
    _ZERO_DATE,
    _ZONE,
    DATE_MAX,
    DATE_MIN,
    EXCEL_EPOCH,
    MONEY_MARKS,
    DateParse,
    _to_dates,
    blank_mask,
    date_order_conflict,
    parse_number,
    read_dates,
)

CHECK = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                 phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

cell = st.one_of(
    st.sampled_from(["", " ", "6777", "-12", "-12.5", "0.5", "007", "1,000.50", "1.000,50",
                     "100,00", "1,00", ",5", "(12)", "$1,234", "€1.200", "1 200", " 7 ",
                     "1e5", "+5", "-0", "nan", "NULL", "abc", "9" * 400, "١٢", "12.",
                     ".5", "1.5.5", "2024-01-15", "15/01/2024", "13-02-2024", "02-13-2024",
                     "3/2/24", "  5-6-2024", "2024-01-31T23:30:00-05:00",
                     "2024-02-10T10:00:00Z", "2024-02-10 10:00", "10:00 UTC", "12:30 GMT"]),
    st.text(alphabet="0123456789-+.,()$€ /:TZ", max_size=12),
    st.text(max_size=8),
    st.integers(-10**6, 10**6).map(str),
)
cells = st.lists(st.one_of(cell, st.none()), max_size=25)


def old_parse_number(series, tp):
    """``values.parse_number`` before issue 22."""
    if pd.api.types.is_numeric_dtype(series):
        out = pd.to_numeric(series, errors="coerce").astype(float)
        return out, pd.Series(False, index=series.index)
    text = series.astype(str).str.strip()
    text = text.str.replace(MONEY_MARKS, "", regex=True)
    thousands = tp.thousands if tp.thousands is not None else ("." if tp.decimal == "," else ",")
    misplaced = pd.Series(False, index=series.index)
    if thousands:
        t = re.escape(thousands)
        misplaced = text.str.contains(rf"{t}(?!\d{{3}}(?:\D|$))|^[-+(]?{t}", regex=True)
    text = text.str.replace(thousands, "", regex=False) if thousands else text
    if tp.decimal != ".":
        text = text.str.replace(tp.decimal, ".", regex=False)
    text = text.str.replace(r"^\((.*)\)$", r"-\1", regex=True)
    blank = blank_mask(series)
    out = pd.to_numeric(text.where(~blank & ~misplaced, None), errors="coerce").astype(float)
    out = out.where(np.isfinite(out))
    bad = out.isna() & ~blank
    return out, bad


def old_date_order_conflict(series, tp):
    """``values.date_order_conflict`` before issue 22."""
    if tp.date_format or pd.api.types.is_datetime64_any_dtype(series):
        return None
    parts = series.astype(str).str.extract(_DMY).dropna()
    if parts.empty:
        return None
    first, second = parts[0].astype(int), parts[1].astype(int)
    day_first = (first > 12) & (second <= 12)
    month_first = (second > 12) & (first <= 12)
    ambiguous = ((first <= 12) & (second <= 12) & (first != second)).any()
    positions = [series.index.get_loc(i) for i in parts.index]
    if day_first.any() and month_first.any():
        return "mixed", [positions[k] for k in np.flatnonzero((day_first | month_first)
                                                              .to_numpy())]
    if day_first.any() and not tp.dayfirst and ambiguous:
        return "day-first", [positions[k] for k in np.flatnonzero(day_first.to_numpy())]
    if month_first.any() and tp.dayfirst and ambiguous:
        return "month-first", [positions[k] for k in np.flatnonzero(month_first.to_numpy())]
    return None


def old_zoned(series):
    """The time-zone mask of ``values.read_dates`` before issue 22 (text columns)."""
    text = series.astype(str).str.strip().where(~blank_mask(series), None)
    timed = text.str.contains(":", regex=False).fillna(False).astype(bool)
    return timed & text.where(timed, "").str.contains(_ZONE).fillna(False).astype(bool)


@CHECK
@given(values=cells, decimal=st.sampled_from([".", ","]),
       thousands=st.sampled_from([None, "", ",", ".", " "]), as_str=st.booleans())
def test_parse_number_reads_every_cell_as_before(values, decimal, thousands, as_str):
    series = pd.Series(values, dtype="str" if as_str else object, name="arr")
    tp = table_params(file="x", decimal=decimal, thousands=thousands)
    out, bad = parse_number(series, tp)
    ref_out, ref_bad = old_parse_number(series, tp)
    pd.testing.assert_series_equal(out, ref_out)
    pd.testing.assert_series_equal(bad, ref_bad, check_names=False)


def test_parse_number_plain_and_marked_cells_together():
    series = pd.Series(["6777", "$1,234.50", "-12.5", "100,00", "", "(12)", "1e3", "9" * 400],
                       index=[10, 11, 12, 13, 14, 15, 16, 17])
    out, bad = parse_number(series, table_params(file="x", decimal=".", thousands=None))
    assert out.tolist()[:3] == [6777.0, 1234.5, -12.5]
    assert np.isnan(out[13]) and bad[13]  # a decimal comma read with '.' marks
    assert np.isnan(out[14]) and not bad[14]  # blank
    assert out[15] == -12 and out[16] == 1000
    assert np.isnan(out[17]) and bad[17]  # not a finite number
    assert out.index.tolist() == series.index.tolist()


@CHECK
@given(values=cells, dayfirst=st.booleans())
def test_date_order_conflict_finds_what_it_found_before(values, dayfirst):
    series = pd.Series(values, dtype=object, index=np.arange(len(values)) * 3 + 1)
    tp = table_params(file="x", dayfirst=dayfirst)
    got, ref = date_order_conflict(series, tp), old_date_order_conflict(series, tp)
    assert (got is None) == (ref is None)
    if got is not None:
        assert got[1] == ref[1]


def test_date_order_conflict_on_a_mixed_column():
    series = pd.Series(["2024-01-31", "13-02-2024", "02-13-2024", " 03-04-2024"])
    found = date_order_conflict(series, table_params(file="x", dayfirst=False))
    assert found is not None and found[1] == [1, 2] and "mixes" in found[0]


@CHECK
@given(values=cells)
def test_time_zones_are_found_as_before(values):
    series = pd.Series(values, dtype=object)
    got = read_dates(series, table_params(file="x")).zoned
    ref = old_zoned(series) & read_dates(series, table_params(file="x")).values.notna()
    pd.testing.assert_series_equal(got, ref, check_names=False)


def old_ambiguous_thousands(table, header, tp, series, lines, rel, log, fatal):
    """``values._ambiguous_thousands`` before issue 22.

    Amounts such as '€1.200' with '.' as the decimal mark: 1.2, or 1,200 written with a
    thousands dot? Only when ``thousands`` is not declared. When other values of the column
    show the notation (a grouped '1,500' or a '9.50'), they are read with the declared decimal
    mark and logged (warning); otherwise the run stops (nothing tells which is meant)."""
    if tp.thousands is not None or pd.api.types.is_numeric_dtype(series):
        return
    text = series.astype(str).str.strip().str.replace(MONEY_MARKS, "", regex=True)
    dec, grouping = re.escape(tp.decimal), re.escape("," if tp.decimal == "." else ".")
    ambiguous = text.str.fullmatch(rf"[-+(]?[1-9]\d{{0,2}}{dec}\d{{3}}\)?").fillna(False)
    if not ambiguous.any():
        return
    n = int(ambiguous.sum())
    example = str(series[ambiguous].iloc[0]).strip()
    as_decimal = float(parse_number(series[ambiguous].head(1), tp)[0].iloc[0])
    as_thousands = int(re.sub(r"\D", "", text[ambiguous].iloc[0]))
    shows = text.str.contains(rf"\d{grouping}\d{{3}}(?!\d)|{dec}\d{{1,2}}\)?$|{dec}\d{{4,}}",
                              regex=True).fillna(False) & ~ambiguous
    if shows.any():
        log.add(table, "warning", f"{header}: {tf.plural(n, 'value')} such as '{example}' read as "
                f"{as_decimal:g} with '{tp.decimal}' as the decimal mark, as other values of "
                f"the column show (e.g. '{str(series[shows].iloc[0]).strip()}'); if they "
                f"mean {as_thousands:,} (a thousands separator), set tables.{table}.decimal "
                f"and tables.{table}.thousands", count=n, examples=lines[ambiguous].tolist(),
                affects=list(TABLES[table].used_by))
        return
    other = "," if tp.decimal == "." else "."
    fatal.append(DataIssue(
        table, rel, header, f"{tf.plural(n, 'value')} such as '{example}' "
                            f"{tf.noun(n, 'is', 'are')} ambiguous: "
        f"{as_decimal:g} with '{tp.decimal}' as the decimal mark, or {as_thousands:,} with "
        f"'{tp.decimal}' as a thousands separator, and no other value of the column tells "
        "which", "amounts whose decimal mark is clear, or a declared thousands separator",
        f"Declare the notation in the params file: tables.{table}.thousands: \"{other}\" if "
        f"'{example}' means {as_decimal:g}, or tables.{table}.decimal: \"{other}\" and "
        f"tables.{table}.thousands: \"{tp.decimal}\" if it means {as_thousands:,}.",
        lines[ambiguous].tolist(), series[ambiguous].tolist(), n))


@CHECK
@given(values=st.lists(st.one_of(cell, st.sampled_from(["1.200", "€1.500", "9.50", "1,500",
                                                         "12.345", "(1.234)", "2.5"])),
                       max_size=25), decimal=st.sampled_from([".", ","]))
def test_ambiguous_thousands_warn_and_stop_as_before(values, decimal):
    from playbook.quality import QualityLog
    from playbook.values import _ambiguous_thousands

    series = pd.Series(values, dtype=object, index=np.arange(len(values)) * 2)
    lines = pd.Series(np.arange(len(values)) + 2, index=series.index)
    tp = table_params(file="x", decimal=decimal, thousands=None)
    log, fatal = QualityLog(), []
    _ambiguous_thousands("mrr", "MRR", tp, series, lines, "x.csv", log, fatal)
    ref_log, ref_fatal = QualityLog(), []
    old_ambiguous_thousands("mrr", "MRR", tp, series, lines, "x.csv", ref_log, ref_fatal)
    assert log.notes == ref_log.notes and fatal == ref_fatal


@CHECK
@given(ids=st.lists(st.one_of(st.none(), st.sampled_from(["A1", "A2", "a1", " A1", ""]),
                              st.text(max_size=4)), max_size=30),
       known=st.sets(st.sampled_from(["A1", "A2", "B7", "", "x"]), max_size=4),
       dtype=st.sampled_from(["str", "object", "string[python]"]))
def test_known_ids_are_isin(ids, known, dtype):
    from playbook.rows import known_ids

    series = pd.Series(ids, dtype=dtype)
    got = known_ids(series, known)
    assert got.dtype == bool
    assert got.tolist() == series.isin(known).tolist()


def test_rows_of_unknown_accounts_are_found_in_arrow_ids():
    from playbook.rows import known_ids

    series = pd.Series(["A1", None, "A3", "A1 ", "A2"], dtype="str")
    assert known_ids(series, {"A1", "A2"}).tolist() == [True, False, False, False, True]


def test_ambiguous_thousands_with_marked_and_bare_cells_as_before():
    """Issue 22 (evening): only cells holding a mark go through MONEY_MARKS; bare ones
    ('9.50', '1,500') are read as they are. The same notes and stops as before."""
    from playbook.quality import QualityLog
    from playbook.values import _ambiguous_thousands

    columns = [["€1.200", "7", "12.5"], ["€1.200", "$ 9.50"], ["1.200 USD", "15"],
               ["1.200", "3 000"], ["€ 1,200", "9"], ["EUR1.234", "(2.345)", "1,5"]]
    for values in columns:
        for decimal in (".", ","):
            series = pd.Series(values, dtype="str", index=np.arange(len(values)) * 3)
            lines = pd.Series(np.arange(len(values)) + 2, index=series.index)
            tp = table_params(file="x", decimal=decimal, thousands=None)
            log, fatal = QualityLog(), []
            _ambiguous_thousands("mrr", "MRR", tp, series, lines, "x.csv", log, fatal)
            ref_log, ref_fatal = QualityLog(), []
            old_ambiguous_thousands("mrr", "MRR", tp, series, lines, "x.csv", ref_log,
                                    ref_fatal)
            assert log.notes == ref_log.notes and fatal == ref_fatal, values
    log, fatal = QualityLog(), []
    series = pd.Series(["€1.200", "7"], dtype="str")
    _ambiguous_thousands("mrr", "MRR", table_params(file="x"), series,
                         pd.Series([2, 3]), "x.csv", log, fatal)
    assert len(fatal) == 1 and fatal[0].rows == [2]  # '€1.200': 1.2 or 1,200?


def test_parse_number_blank_cells_are_missing_not_unusable():
    series = pd.Series(["12", "", "  ", "1,5", None, "4.5"], dtype="str")
    tp = table_params(file="x", decimal=".", thousands=None)
    out, bad = parse_number(series, tp)
    ref_out, ref_bad = old_parse_number(series, tp)
    pd.testing.assert_series_equal(out, ref_out)
    pd.testing.assert_series_equal(bad, ref_bad, check_names=False)
    assert out.isna().tolist() == [False, True, True, True, True, False]
    assert bad.tolist() == [False, False, False, True, False, False]


def test_known_ids_that_are_not_all_text_are_looked_up_by_isin():
    from playbook.rows import known_ids

    series = pd.Series(["A1", "1", None, "b"], dtype="str")
    for known in ({b"A1", "1"}, {1, "b"}, {"A1", None}, {"A1", 1.5}, {b"b"}):
        assert known_ids(series, known).tolist() == series.isin(known).tolist(), known
    assert known_ids(series, {"A1", "b"}).tolist() == [True, False, False, True]


def old_parse_code(series, col, mapping):
    """``values.parse_code`` before issue 22's evening session."""
    lookup = {str(k).strip().lower(): v for k, v in mapping.items()}
    lookup.update({c: c for c in col.codes})
    text = series.astype(str).str.strip().str.lower()
    blank = blank_mask(series)
    out = text.map(lookup).where(~blank, None).astype("str")
    return out, out.isna() & ~blank


@CHECK
@given(values=st.lists(st.one_of(st.none(), st.sampled_from(
    ["Renewed", " renewed ", "CANCELLED", "Downgraded", "churned", "", " ", "nan", "None",
     "other", "İ", "Renewed\t"]), st.text(max_size=3)), max_size=25),
       dtype=st.sampled_from(["str", "object"]),
       mapping=st.sampled_from([{}, {"Renewed": "renewed", "Cancelled": "churned"},
                                {"renewed ": "renewed", "x": "downgraded"}]))
def test_parse_code_maps_every_cell_as_before(values, dtype, mapping):
    from playbook.values import parse_code

    col = TABLES["renewals"].column("outcome")
    series = pd.Series(values, dtype=dtype, index=np.arange(len(values)) * 2 + 1)
    out, bad = parse_code(series, col, mapping)
    ref_out, ref_bad = old_parse_code(series, col, mapping)
    pd.testing.assert_series_equal(out, ref_out)
    pd.testing.assert_series_equal(bad, ref_bad)


def test_parse_code_by_hand():
    from playbook.values import parse_code

    col = TABLES["renewals"].column("outcome")
    series = pd.Series([" Renewed", "Cancelled", "", "lost", None, "churned"], dtype="str")
    out, bad = parse_code(series, col, {"Renewed": "renewed", "Cancelled": "churned"})
    assert out.tolist()[:2] == ["renewed", "churned"] and out.tolist()[5] == "churned"
    assert out.isna().tolist() == [False, False, True, True, True, False]
    assert bad.tolist() == [False, False, False, True, False, False]


def test_plain_numbers_are_read_as_pandas_reads_them_to_the_bit():
    """Arrow's cast (issue 22) against ``pd.to_numeric`` on plain numbers of every length,
    negative zeros, leading zeros, and numbers Arrow refuses (pandas then reads them)."""
    from playbook.values import _plain_numbers

    rng = np.random.default_rng(22)
    whole = rng.integers(0, 10 ** rng.integers(1, 19, 20_000), dtype=np.int64)
    cells = [f"{'-' if k % 3 == 0 else ''}{w}.{f:0{k % 17 + 1}d}" for k, (w, f) in
             enumerate(zip(whole, rng.integers(0, 10**9, 20_000), strict=True))]
    cells += [str(w) for w in whole[:5000]] + ["-0", "-0.0", "0", "007", "9" * 25,
                                               "0.30000000000000004", "1" * 17 + ".1"]
    for batch in (cells, ["1", "9" * 400], ["12", "١٢"]):
        text = pd.Series(batch, dtype="str")
        got = _plain_numbers(text)
        want = pd.to_numeric(text, errors="coerce").astype(float).to_numpy()
        assert got.dtype == np.float64
        assert np.array_equal(got.view(np.int64), want.view(np.int64)), batch[:3]


def old_blank_mask(series):
    """``values.blank_mask`` before issue 22's evening session."""
    text = series.astype(str).str.strip()
    return series.isna() | text.eq("") | text.str.lower().isin(("nan", "nat", "none", "null"))


def old_parse_text(series):
    """``values.parse_text`` before issue 22's evening session."""
    out = series.astype(str).str.strip()
    out = out.where(~old_blank_mask(series), None).astype("str")
    return out, pd.Series(False, index=series.index)


@CHECK
@given(values=st.lists(st.one_of(st.none(), st.just(float("nan")), st.integers(-2, 2),
                                 st.sampled_from(["", " ", "NaN", " null ", "NONE", "nat",
                                                  "nano", "nulls", "N/A", "İ", "\tnan\n",
                                                  "x", "A1"]), st.text(max_size=5)),
                       max_size=25),
       dtype=st.sampled_from(["str", "object"]), name=st.sampled_from([None, "c"]),
       repeat=st.booleans())
def test_blank_cells_and_text_are_found_as_before(values, dtype, name, repeat):
    from playbook.values import parse_text

    if dtype == "str":
        values = [v if v is None or isinstance(v, str) else str(v) for v in values]
    index = [0] * len(values) if repeat else np.arange(len(values)) * 2
    series = pd.Series(values, dtype=dtype, index=index, name=name)
    pd.testing.assert_series_equal(blank_mask(series), old_blank_mask(series))
    out, bad = parse_text(series)
    ref_out, ref_bad = old_parse_text(series)
    pd.testing.assert_series_equal(out, ref_out)
    pd.testing.assert_series_equal(bad, ref_bad)


def test_blank_words_by_hand():
    series = pd.Series([" NaN", "nano", "", None, "Null", "x", " none\t", "NAT"], dtype="str")
    assert blank_mask(series).tolist() == [True, False, True, True, True, False, True, True]


def old_read_dates(series, tp):
    """``values.read_dates`` before issue 22's evening session."""
    blank = old_blank_mask(series)
    if pd.api.types.is_datetime64_any_dtype(series):
        zoned = (series.notna() if isinstance(series.dtype, pd.DatetimeTZDtype)
                 else pd.Series(False, index=series.index))
        out = _to_dates(series)
        text = None
    else:
        text = series.astype(str).str.strip().where(~blank, None)
        timed = text.str.contains(":", regex=False).fillna(False).astype(bool)
        zoned = pd.Series(False, index=series.index)
        if timed.any():
            zoned[timed] = text[timed].str.contains(_ZONE).fillna(False).astype(bool)
        if tp.date_format:
            out = _to_dates(text, format=tp.date_format)
        else:
            out = _to_dates(text, format="ISO8601")
            rest = out.isna() & ~blank
            if rest.any():
                out[rest] = _to_dates(text[rest], format="mixed", dayfirst=tp.dayfirst)
            rest = out.isna() & ~blank
            if rest.any():
                serial = pd.to_numeric(text[rest], errors="coerce")
                ok = serial.between(20000, 80000)
                out[serial[ok].index] = EXCEL_EPOCH + pd.to_timedelta(serial[ok], unit="D")
    day = out.dt.normalize()
    outside = out.notna() & ((day < DATE_MIN) | (day > DATE_MAX))
    new_year = ((out.dt.month == 1) & (out.dt.day == 1)) | ((out.dt.month == 12)
                                                             & (out.dt.day == 31))
    placeholder = outside & (new_year | day.eq(EXCEL_EPOCH))
    if text is not None:
        placeholder |= out.isna() & text.str.fullmatch(_ZERO_DATE).fillna(False).astype(bool)
    implausible = outside & ~placeholder
    values = out.where(~outside).astype("datetime64[ns]")
    bad = values.isna() & ~blank & ~placeholder & ~implausible
    return DateParse(values, bad, implausible, placeholder, zoned & values.notna())


date_cell = st.one_of(cell, st.sampled_from([
    "1900-12-31 23:59", "1901-01-01", "1901-01-01 00:00:01", "1900-01-01", "1899-12-30",
    "1899-12-30 10:00", "2199-12-31 23:59:59", "2200-01-01", "2200-01-01 00:00:01",
    "9999-12-31", "0024-03-05", "0000-00-00", "1850-06-15", "2250-12-31", "2250-12-30",
    "31/12/1800", "45000", "2024-02-30"]))


@CHECK
@given(values=st.lists(st.one_of(date_cell, st.none()), max_size=25),
       dayfirst=st.booleans(), name=st.sampled_from([None, "d"]))
def test_read_dates_reads_every_cell_as_before(values, dayfirst, name):
    series = pd.Series(values, dtype="str", name=name, index=np.arange(len(values)) * 2)
    tp = table_params(file="x", dayfirst=dayfirst)
    got, ref = read_dates(series, tp), old_read_dates(series, tp)
    for field in ("values", "bad", "implausible", "placeholder", "zoned"):
        pd.testing.assert_series_equal(getattr(got, field), getattr(ref, field), obj=field)


def test_read_dates_at_the_edges_of_the_range():
    series = pd.Series(["1900-12-31 23:59", "1901-01-01", "2199-12-31 23:59", "2200-01-01",
                        "1899-12-30", "1850-06-15", "9999-12-31"], dtype="str")
    got = read_dates(series, table_params(file="x"))
    assert got.values.notna().tolist() == [False, True, True, False, False, False, False]
    assert got.placeholder.tolist() == [True, False, False, True, True, False, True]
    assert got.implausible.tolist() == [False, False, False, False, False, True, False]
    ref = old_read_dates(series, table_params(file="x"))
    for field in ("values", "bad", "implausible", "placeholder", "zoned"):
        pd.testing.assert_series_equal(getattr(got, field), getattr(ref, field), obj=field)
