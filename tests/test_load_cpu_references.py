"""Less CPU per table in the loader (#22, 2026-12-06 night): each new piece against the code
it replaced, kept here as the reference (``old_*``), on hand-made edge cases (blanks,
whitespace of every kind, non-ISO and non-ASCII dates, sliced and chunked Arrow arrays,
missing values, empty columns, one row) and on random cells. The whole loader with these
references swapped back in gives the same tables and log on the demo and every export shape
(tests/test_loader_old_and_new.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc
import pytest
from test_load_speed_references import old_monthly_mrr

from playbook import arrow_text, mrr_history, reading, rows, values
from playbook import textfmt as tf
from playbook.billing import LINE
from playbook.config import load_params
from playbook.config_tables import TableParams
from playbook.contract import TABLES, TableSpec
from playbook.errors import DataError
from playbook.mrr_history import FILL_GAP_MONTHS, _hole_label, _log_short_holes, _month_label
from playbook.quality import QualityLog
from playbook.reading import file_error
from playbook.values import BLANK_WORDS

STR = pd.StringDtype("pyarrow", na_value=np.nan)


# ----------------------------------------------------------------- the references


def old_trimmed(series: pd.Series) -> pd.Series:
    """The cells as text, trimmed (as ``values`` trims them)."""
    return series.astype(str).str.strip()


def old_blank(series: pd.Series, text: pd.Series) -> pd.Series:
    """``values._blank`` before: pandas' string methods on the short cells."""
    short = text.str.len().le(4).fillna(False).to_numpy(dtype=bool)
    words = np.zeros(len(text), dtype=bool)
    if short.any():
        words[short] = text[short].str.lower().isin(BLANK_WORDS).to_numpy(dtype=bool)
    return (series.isna() | text.eq("")
            | pd.Series(words, index=series.index, name=series.name))


def old_plain_iso(text: pd.Series) -> np.ndarray:
    """``values._plain_iso`` before: Arrow's regular expression."""
    if not (isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow"):
        return np.zeros(len(text), dtype=bool)
    found = pc.fill_null(pc.match_substring_regex(text.array.__arrow_array__(),
                                                  r"^\d{4}-\d{2}-\d{2}$"), False)
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def old_iso_dates(text: pd.Series) -> pd.Series:
    """``values._iso_dates`` before: the plain cells found by Arrow's regular expression."""
    if not (len(text) and isinstance(text.dtype, pd.StringDtype)
            and text.dtype.storage == "pyarrow"):
        return values._to_dates(text, format="ISO8601")
    cells = text.array.__arrow_array__()
    plain = pc.fill_null(pc.match_substring_regex(cells, r"^\d{4}-\d{2}-\d{2}$"), False)
    try:
        read = pc.cast(pc.filter(cells, plain), pyarrow.timestamp("us"))
    except pyarrow.ArrowInvalid:
        return values._to_dates(text, format="ISO8601")
    where = np.asarray(plain.to_numpy(zero_copy_only=False))
    out = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[us]")
    out[where] = read.to_numpy(zero_copy_only=False)
    series = pd.Series(out, index=text.index, name=text.name, dtype="datetime64[us]")
    rest = ~where & text.notna().to_numpy(dtype=bool)
    if rest.any():
        series[rest] = values._to_dates(text[rest], format="ISO8601")
    return series


def old_range_failures(frame: pd.DataFrame, spec: TableSpec) -> dict[str, pd.Index]:
    """``values._range_failures`` before: the pandera schema's lazy validation."""
    try:
        values._value_checks(spec).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases.dropna(subset=["index"])
        return {col: pd.Index(g["index"].astype(int).unique())
                for col, g in fc.groupby("column")}
    return {}


# ----------------------------------------------------------------- cells to try

ODD = ["", " ", "  x", "x  ", "\tx", "x\n", "\x0bx", "x\x1c", "\x1fx", "\u00a0x", "x\u3000",
       "\u2003 nan", "\u200bx", "x\u200b", "nan", "NaN", " NULL ", "none", "NoNe", "nat", "NAT",
       "n", "na", "nano", "nulls", "N/A", "NWA-000001", "null\u00a0", "\u0143an", "ｎａｎ",
       "İ", "K", "\u212a", "n\u0301an", "nan\x00", "2024-01-31", "2024-1-31", " 2024-01-31",
       "2024-01-31 ", "2024-01-31\n", "2024/01/31", "20240-1-31", "2024-01-3a", "２０２４-01-31",
       "١٩٩٠-٠١-٠١", "2024-02-30", "0000-00-00", "9999-12-31", "abcd-ef-gh", "2024-01-31Z",
       "12", "-3.5", "1,000", "€1.200", None]


def _arrow(cells: list, start: int = 0) -> pd.Series:
    return pd.Series(cells, dtype=STR, index=np.arange(len(cells)) * 2 + start, name="c")


def _random_cells(seed: int, n: int = 600) -> list:
    """Cells drawn from pieces that make blanks, dates, numbers and whitespace."""
    rng = np.random.default_rng(seed)
    pieces = ["n", "N", "a", "A", "t", "u", "l", "L", "o", "e", "2024", "-", "01", "31", "9",
              ".", " ", "\t", "\u00a0", "\u3000", "é", "İ", "\x1c", "x", "/", ":", "Z"]
    out: list = []
    for _ in range(n):
        if rng.random() < 0.05:
            out.append(None)
            continue
        k = int(rng.integers(0, 6))
        out.append("".join(rng.choice(pieces, size=k).tolist()))
    return out


def _variants(cells: list) -> list[pd.Series]:
    """The cells as Arrow strings: whole, sliced (an offset into the buffers), in several
    chunks, as 32-bit ``string`` chunks, and as objects (not Arrow)."""
    whole = _arrow(cells)
    sliced = _arrow(["skip", *cells])[1:]
    third = max(1, len(cells) // 3)
    chunked = pyarrow.chunked_array([pyarrow.array(cells[:third], pyarrow.large_string()),
                                     pyarrow.array(cells[third:], pyarrow.large_string())])
    small = pyarrow.chunked_array([pyarrow.array(cells[:third], pyarrow.string()),
                                   pyarrow.array(cells[third:], pyarrow.string())])
    out = [whole, sliced]
    for arr in (chunked, small):
        series = arr.to_pandas(types_mapper={arr.type: STR}.get)
        assert series.dtype == STR and len(series.array.__arrow_array__().chunks) == (
            2 if len(cells) > 1 else len(series.array.__arrow_array__().chunks))
        out.append(series.rename("c"))
    out.append(pd.Series(cells, dtype=object, name="c"))
    out.append(pd.Series(cells, dtype=pd.StringDtype("pyarrow"), name="c"))  # missing: NA
    return out


CASES = [ODD, ODD[::-1], [], [None], ["x"], [""], ["nan"], [" 2024-01-31 "],
         *[_random_cells(seed) for seed in range(6)]]


# ----------------------------------------------------------------- blanks


@pytest.mark.parametrize("cells", CASES)
def test_blank_cells_are_those_of_before(cells) -> None:
    for series in _variants(cells):
        text = old_trimmed(series)
        pd.testing.assert_series_equal(values._blank(series, text), old_blank(series, text))
        pd.testing.assert_series_equal(values.blank_mask(series),
                                       old_blank(series, old_trimmed(series)))


def test_blank_words_by_hand() -> None:
    series = _arrow(["nan", "NaN", " null", "NONE", "nat", "n", "nano", "NWA", "", None,
                     "null\u00a0", "\u3000NaT\u3000", "None!"])
    expected = [True, True, True, True, True, False, False, False, True, True, True, True,
                False]
    assert values.blank_mask(series).tolist() == expected


#: Columns of numbers, dates and true/false values as a Parquet or Excel file, or an
#: aggregation of events, gives them: blank where missing, whatever text they would write.
TYPED = [pd.Series([1.0, np.nan, 0.0, -3.5, np.inf], name="c"), pd.Series([1, 2, 3]),
         pd.Series([1, None, 3], dtype="Int64"), pd.Series([1.5, None], dtype="Float64"),
         pd.Series([True, False]), pd.Series([True, None], dtype="boolean"),
         pd.Series(pd.to_datetime(["2024-01-01", None, "1899-12-30"])),
         pd.Series(pd.to_datetime(["2024-01-01", None]).tz_localize("UTC")),
         pd.Series(pd.to_datetime(["2024-01-01", None]).astype("datetime64[us]")),
         pd.Series(pd.to_timedelta([1, None], unit="D")), pd.Series([], dtype=float),
         pd.Series([np.nan, 2.0], index=[7, 3])]


@pytest.mark.parametrize("series", TYPED)
def test_blank_cells_of_typed_columns_are_those_of_their_text(series) -> None:
    """blank_mask of a typed column skips writing each value as text, with the same mask
    (the text path, kept as _blank of the trimmed text, is the reference)."""
    got = values.blank_mask(series)
    pd.testing.assert_series_equal(got, old_blank(series, old_trimmed(series)),
                                   check_dtype=False)
    assert got.dtype == bool


# ----------------------------------------------------------------- text cells


def old_parse_text(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``values.parse_text`` before it skipped columns with nothing to trim or blank."""
    out = old_trimmed(series)
    out = out.where(~old_blank(series, out), None).astype("str")
    return out, pd.Series(False, index=series.index)


#: Cells with nothing to trim or blank (IDs), then each kind of edge that must be trimmed:
#: ASCII whitespace at either end, a control character, no-break and ideographic spaces,
#: a non-ASCII last letter, a blank word, an empty cell, a missing one.
CLEAN = ["NWA-000026", "CT-0000145", "a b", "x", "Call", "Meeting", "n/a?", "12"]
EDGES = [" lead", "trail ", "\ttab", "nl\n", "\x1cfs", "nb\u00a0", "\u3000ideo", "café",
         "null", "", None]


@pytest.mark.parametrize("cells", [CLEAN, *[[*CLEAN, edge] for edge in EDGES],
                                   *[[edge, *CLEAN] for edge in EDGES], *CASES])
def test_text_cells_are_those_of_before(cells) -> None:
    for series in _variants(cells):
        pd.testing.assert_series_equal(arrow_text.trimmed(series), old_trimmed(series))
        got, bad = values.parse_text(series)
        want, want_bad = old_parse_text(series)
        pd.testing.assert_series_equal(got, want)
        pd.testing.assert_series_equal(bad, want_bad)


def old_parse_code(series: pd.Series, col, mapping: dict) -> tuple[pd.Series, pd.Series]:
    """``values.parse_code`` before it looked up each distinct cell once."""
    lookup = {str(k).strip().lower(): v for k, v in mapping.items()}
    lookup.update({c: c for c in col.codes})
    text = old_trimmed(series).str.lower()
    blank = values.blank_mask(series)
    out = text.map(lookup).where(~blank, None).astype("str")
    return out, out.isna() & ~blank


@pytest.mark.parametrize("cells", [["Call", "Meeting", " call", "EMAIL\t", "Call", "other"],
                                   ["Renewed", None, "", "nan", "Cancelled\u00a0", "İ"],
                                   *CASES])
def test_codes_are_those_of_before(cells) -> None:
    col = TABLES["renewals"].column("outcome")
    for mapping in ({}, {"Call": "renewed", "meeting": "churned", "İ": "downgraded"},
                    {"Renewed": "renewed", "x": True}):
        for series in _variants(cells):
            got, bad = values.parse_code(series, col, mapping)
            want, want_bad = old_parse_code(series, col, mapping)
            pd.testing.assert_series_equal(got, want)
            pd.testing.assert_series_equal(bad, want_bad)


def test_text_with_nothing_to_trim_is_not_copied_and_blanks_are_masked_in_place() -> None:
    """An ID column is returned on the same Arrow buffers (1 GB less for each of the
    touches' ID columns at 1,000,000 accounts), and so is one with blank cells (missing by
    a validity bitmap over the same bytes, in every chunk, sliced or not); one cell to
    trim and the column is trimmed as before (a copy)."""
    def data_address(series: pd.Series) -> int:
        return series.array.__arrow_array__().chunk(0).buffers()[2].address

    ids = _arrow(["NWA-000026", "NWA-000057", "CT-0000338"] * 3)
    out, _ = values.parse_text(ids)
    assert out.tolist() == ids.tolist() and data_address(out) == data_address(ids)
    for edge in (" NWA-1", "NWA-1\u00a0"):
        cells = _arrow(["NWA-000026", edge])
        out, _ = values.parse_text(cells)
        assert out.tolist() == ["NWA-000026", "NWA-1"]
        assert data_address(out) != data_address(cells)
    cells = ["NWA-1", "none", None, "NWA-2", "", "null", "NWA-3"]
    for series in _variants(cells)[:4]:  # Arrow: whole, sliced, two chunks (64 and 32 bit)
        out, _ = values.parse_text(series)
        assert out.isna().tolist() == [False, True, True, False, True, True, False]
        assert out.dropna().tolist() == ["NWA-1", "NWA-2", "NWA-3"]
        assert data_address(out) == data_address(series)


# ----------------------------------------------------------------- plain ISO dates


@pytest.mark.parametrize("cells", CASES)
def test_plain_iso_cells_are_those_of_the_pattern(cells) -> None:
    for series in _variants(cells):
        np.testing.assert_array_equal(values._plain_iso(series), old_plain_iso(series))


def test_plain_iso_by_hand() -> None:
    series = _arrow(["2024-01-31", "2024-1-31", "２０２４-01-31", "2024-01-31 ", None,
                     "0000-00-00", "2024-13-45", "2024_01-31", ""])
    assert values._plain_iso(series).tolist() == [True, False, False, False, False, True,
                                                  True, False, False]


@pytest.mark.parametrize("cells", [*CASES, ["2024-01-31", "1999-12-01", "2024-02-29"],
                                   ["2024-01-31", "2023-02-29"], ["2024-01-31"] * 3])
def test_iso_dates_read_as_before(cells) -> None:
    """(With columns of plain dates only, cast without a filtered copy, and one whose
    plain cell is no calendar date.)"""
    for series in _variants(cells):
        text = old_trimmed(series)
        pd.testing.assert_series_equal(values._iso_dates(text), old_iso_dates(text))


# ----------------------------------------------------------------- range checks


def _ranged_frame(spec: TableSpec, seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pick = [np.nan, -np.inf, np.inf, -1.0, -0.0, 0.0, 0.5, 1.0, 4.99, 5.0, 5.01, 10.0, 10.5,
            120.0, 121.0, 1e9]
    cols = {}
    for col in spec.columns:
        drawn = rng.choice(pick, size=n)
        if col.kind == "count":
            whole = np.where(np.isfinite(drawn), np.round(drawn), np.nan)
            cols[col.name] = pd.array([None if np.isnan(v) else int(v) for v in whole],
                                      dtype="Int64")
        elif col.kind in ("money", "number"):
            cols[col.name] = drawn
        else:
            cols[col.name] = pd.Series(["x"] * n, dtype=STR)
    return pd.DataFrame(cols, index=np.arange(n) * 3 + 7)


RANGED = [t for t, spec in TABLES.items()
          if any(c.kind in ("money", "count") or c.min is not None or c.max is not None
                 for c in spec.columns)]


@pytest.mark.parametrize("table", RANGED)
@pytest.mark.parametrize(("seed", "n"), [(0, 40), (1, 1), (2, 0), (3, 300)])
def test_range_failures_are_those_of_the_pandera_schema(table, seed, n) -> None:
    spec = TABLES[table]
    frame = _ranged_frame(spec, seed, n)
    got, ref = values._range_failures(frame, spec), old_range_failures(frame, spec)
    assert list(got) == list(ref)
    for name in ref:
        assert sorted(got[name].tolist()) == sorted(ref[name].tolist()), name


def test_range_failures_by_hand() -> None:
    spec = TABLES["surveys"]  # nps 0-10, csat 1-5
    frame = pd.DataFrame({"nps": [11.0, np.nan, -1.0, 10.0], "csat": [0.5, 5.0, np.nan, 6.0]},
                         index=[4, 5, 6, 7])
    got = values._range_failures(frame, spec)
    assert list(got) == ["csat", "nps"]
    assert got["nps"].tolist() == [4, 6] and got["csat"].tolist() == [4, 7]
    assert values._range_failures(frame.iloc[:0], spec) == {}


# ----------------------------------------------------------------- MRR history: gaps, months


def old_mrr_gaps(frame: pd.DataFrame, tp: TableParams, path: Path, log: QualityLog
             ) -> pd.DataFrame:
    """``mrr_history.mrr_gaps`` before: a groupby aggregate and a grouped shift."""
    if not len(frame):
        return frame
    ordinal = frame["month"].dt.year * 12 + frame["month"].dt.month - 1
    billed = (frame.assign(_m=ordinal).groupby(["account_id", "_m"], sort=True)
              .agg(mrr=("mrr", "sum"), line=(LINE, "min")).reset_index())
    present = set(billed["_m"].unique().tolist())
    absent = [m for m in range(min(present), max(present) + 1) if m not in present]
    used_by = list(TABLES["mrr"].used_by)
    if absent:
        months = ", ".join(_month_label(m) for m in absent[:12])
        span = max(present) - min(present) + 1
        problem = (f"the file has no row at all for {months} ({len(absent)} of the {span} "
                   f"months from {_month_label(min(present))} to {_month_label(max(present))})")
        if tp.gaps != "keep":
            raise file_error("mrr", path, None, problem + ": the export is incomplete",
                             "one row per account and billed month, every month of the history",
                             "Export the MRR history again with every month. If nothing at all "
                             "was billed in those months, set tables.mrr.gaps: keep.")
        log.add("mrr", "problem", problem + " (kept, tables.mrr.gaps: keep): every account "
                "billed around them churns and comes back", count=len(absent),
                examples=[_month_label(m) for m in absent], affects=used_by, tables=["mrr"],
                caveat=f"the MRR export lacks {months}")
    following = billed.groupby("account_id", sort=False)[["_m", "mrr"]].shift(-1)
    size = following["_m"] - billed["_m"] - 1
    holes = billed.assign(size=size)[(size > 0) & (billed["mrr"] > 0) & (following["mrr"] > 0)]
    if holes.empty:
        return frame
    labels = [_hole_label(a, int(m) + 1, int(n))
              for a, m, n in zip(holes["account_id"], holes["_m"], holes["size"], strict=True)]
    short = holes["size"] <= FILL_GAP_MONTHS
    if tp.gaps == "error" and short.any():
        odd = holes[short]
        raise file_error("mrr", path, tp.columns.get("month") or "month",
                         f"{tf.plural(odd['account_id'].nunique(), 'account')} "
                         f"{tf.noun(odd['account_id'].nunique(), 'has', 'have')} "
                         f"{tf.plural(len(odd), 'hole')} "
                         f"of {FILL_GAP_MONTHS} month: no row between two months in which they "
                         "are billed (a lost export row, most likely)",
                         "a row for every month between an account's first and last billed month",
                         "Export the missing rows again, or set tables.mrr.gaps: fill (such a hole "
                         "is filled with the month before) or keep (a pause: churn, then "
                         "reactivation).", odd["line"].tolist(),
                         [label for label, k in zip(labels, short, strict=True) if k], len(odd))
    fill = short & (tp.gaps == "fill")
    if (short & ~fill).any():  # gaps: keep, and holes a lost row would explain
        _log_short_holes(log, holes, labels, short & ~fill, " kept as pauses (churn, then "
                         "reactivation; tables.mrr.gaps: keep), though a lost export row is "
                         "likelier")
    if not fill.any():
        return frame
    _log_short_holes(log, holes, labels, fill, ", billed the month before and after, filled "
                     "with the month before as lost export rows (tables.mrr.gaps: fill)")
    copies = []
    source = frame.assign(_m=ordinal)
    for step in range(1, FILL_GAP_MONTHS + 1):
        wanted = holes.loc[fill & (holes["size"] >= step), ["account_id", "_m"]]
        rows = source.merge(wanted, on=["account_id", "_m"])
        rows["month"] = (rows["month"].dt.to_period("M") + step).dt.to_timestamp().astype(
            "datetime64[ns]")
        copies.append(rows.drop(columns="_m"))
    return pd.concat([frame, *copies], ignore_index=True)


def _history(seed: int, accounts: int, months: int, *, shuffle: bool, nan: bool,
             twice: bool) -> pd.DataFrame:
    """Random monthly MRR rows with holes (a month or more missing), zeros, blank amounts,
    several rows in a month, in file order or shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(accounts):
        for m in range(months):
            if rng.random() < 0.25:
                continue  # a hole
            for _ in range(int(rng.integers(2, 5)) if twice and rng.random() < 0.3 else 1):
                amount = float(rng.choice([0.0, 0.1, 0.2, 0.3, 19.99, 1200.5, 7.0, 252.36,
                                           303.0, 1865.64, 0.7]))
                rows.append((f"A{a:03d}", m, np.nan if nan and rng.random() < 0.05 else amount))
    first = pd.Timestamp("2023-11-01")
    frame = pd.DataFrame({
        "account_id": pd.Series([r[0] for r in rows], dtype=STR),
        "month": pd.Series([first + pd.DateOffset(months=r[1]) for r in rows],
                           dtype="datetime64[ns]"),
        "mrr": pd.Series([r[2] for r in rows], dtype=float)})
    frame[LINE] = np.arange(len(frame), dtype="int64") + 2
    if shuffle:
        frame = frame.sample(frac=1.0, random_state=seed)
    return frame


HISTORIES = [dict(seed=s, accounts=a, months=m, shuffle=sh, nan=n, twice=t)
             for s, (a, m, sh, n, t) in enumerate([
                 (30, 14, False, False, False), (30, 14, True, False, False),
                 (25, 10, False, True, True), (25, 10, True, True, True),
                 (1, 6, False, False, False), (1, 1, False, False, False),
                 (60, 24, True, False, True), (8, 30, False, True, False),
                 (25, 10, False, False, True)])]


def _same_gaps(frame: pd.DataFrame, gaps: str, tmp_path) -> None:
    tp = load_params("demo").tables["mrr"].model_copy(update={"gaps": gaps})
    outcomes = []
    for run in (mrr_history.mrr_gaps, old_mrr_gaps):
        log = QualityLog()
        try:
            outcomes.append((run(frame.copy(), tp, tmp_path / "m.csv", log), log.to_dict()))
        except DataError as exc:
            outcomes.append((exc.issues, log.to_dict()))
    (got, got_log), (ref, ref_log) = outcomes
    if isinstance(ref, pd.DataFrame):
        pd.testing.assert_frame_equal(got, ref, check_exact=True)
    else:
        assert got == ref
    assert got_log == ref_log


@pytest.mark.parametrize("gaps", ["fill", "keep", "error"])
@pytest.mark.parametrize("case", HISTORIES)
def test_mrr_gaps_as_before(case, gaps, tmp_path) -> None:
    _same_gaps(_history(**case), gaps, tmp_path)


@pytest.mark.parametrize("gaps", ["fill", "keep", "error"])
def test_mrr_gaps_by_hand(gaps, tmp_path) -> None:
    frame = pd.DataFrame({
        "account_id": pd.Series(["b", "a", "a", "a", "b", "c", "c", "c"], dtype=STR),
        "month": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-03-01", "2024-06-01",
                                 "2024-03-01", "2024-01-01", "2024-02-01", "2024-06-01"]
                                ).astype("datetime64[ns]"),
        "mrr": [5.0, 10.0, 10.0, 10.0, 0.0, 3.0, 3.0, 3.0],
        LINE: np.arange(8, dtype="int64") + 2})
    # holes: a 2024-02 (one month: lost row), a 2024-04..05 (a pause), b 2024-02 (not
    # billed after: none), c 2024-03..05 (a pause)
    billed = mrr_history.billed_months(frame)
    assert billed["account_id"].tolist() == ["a", "a", "a", "b", "b", "c", "c", "c"]
    holes = mrr_history._holes(billed)
    assert list(zip(holes["account_id"], holes["_m"] % 12 + 1, holes["size"],
                    strict=True)) == [("a", 1, 1.0), ("a", 3, 2.0), ("c", 2, 3.0)]
    _same_gaps(frame, gaps, tmp_path)
    _same_gaps(frame.iloc[:1], gaps, tmp_path)
    _same_gaps(frame.iloc[:0], gaps, tmp_path)


@pytest.mark.parametrize("case", HISTORIES)
@pytest.mark.parametrize("as_of", [None, "2024-06-30"])
def test_monthly_mrr_as_before_sorted_shuffled_blank_and_several(case, as_of) -> None:
    """Sorted rows are summed by pandas pairwise, shuffled or blank ones compensated: the
    sums of several rows in a month equal the old groupby's to the bit either way."""
    frame = _history(**case)
    tp = load_params("demo").tables["mrr"]
    when = pd.Timestamp(as_of) if as_of else None
    new_log, old_log = QualityLog(), QualityLog()
    got = mrr_history.monthly_mrr(frame, tp, when, new_log)
    ref = old_monthly_mrr(frame, tp, when, old_log)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert new_log.to_dict() == old_log.to_dict()
    by_hand = frame.groupby(["account_id", "month"]).size()
    assert len(ref) == (len(by_hand) if when is None
                        else int((by_hand.index.get_level_values(1) <= when).sum()))


# ----------------------------------------------------------------- plain CSV bytes


def old_plain_bytes(path: Path, sep: str, block_size: int) -> bool:
    """``reading._plain_bytes`` before: the bytes after every line feed and delimiter."""
    delimiter = sep.encode()[0]
    tail = b"\n"
    with path.open("rb") as fh:
        first = True
        while block := fh.read(block_size):
            if first:
                block, first = block.removeprefix(b"\xef\xbb\xbf"), False
            if b'"' in block or b"\x00" in block:
                return False
            window = np.frombuffer(tail + block, dtype=np.uint8)
            head, after = window[:-1], window[1:]
            if (np.isin(after[head == 10], (10, 13, 32, 9)).any()
                    or np.isin(after[head == delimiter], (32, 9)).any()
                    or (b"\r" in block and (after[head == 13] != 10).any())):
                return False
            tail = block[-1:]
    return tail != b"\r"


PIECES = ["ab", "1", ",", ";", "\n", "\n", "\r\n", "\r", " ", "\t", "x y", "é", '"', "\x00",
          "\x0b", "\x1f"]


def _csv_bytes(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    weights = np.array([8, 8, 6, 1, 4, 4, 2, 0.3, 1, 0.3, 2, 1, 0.1, 0.1, 0.2, 0.2])
    if seed % 3 == 0:  # mostly clean files: the checks run to the end
        weights[[7, 8, 9, 12, 13]] = 0.0
    parts = rng.choice(PIECES, size=int(rng.integers(0, 60)), p=weights / weights.sum())
    text = "".join(parts.tolist())
    if seed % 3 == 0:
        text = text.replace("\n\n", "\n1\n").replace("\n\r", "\n1\r").replace(", ", ",1")
    return (b"\xef\xbb\xbf" if seed % 4 == 0 else b"") + text.encode()


def _missed_before(data: bytes, block: int) -> bool:
    """True when the old check missed a carriage return not before a line feed: the last
    byte of a block, the next block holding no carriage return (it looked at a block's
    carriage returns only when the block held one); fixed."""
    for end in range(block, len(data), block):
        if (data[end - 1:end] == b"\r" and data[end:end + 1] != b"\n"
                and b"\r" not in data[end:end + block]):
            return True
    return False


def test_plain_bytes_by_hand(tmp_path, monkeypatch) -> None:
    cases = {b"a,b\n1,2\n": True, b"a,b\r\n1,2\r\n": True, b"a,b\n\n1,2\n": False,
             b"a,b\n 1,2\n": False, b"a,b\n1, 2\n": False, b"a,b\n1,\t2\n": False,
             b"a,b\r1,2\n": False, b"a,b\n1,2\r": False, b'a,b\n"1",2\n': False,
             b"a,b\n1 x,2\n": True, b"\xef\xbb\xbfa,b\n1,2": True, b"a,b\n\r\n": False,
             b"a,b\n1,2\n\n": False, b" a,b\n": False, b"\xef\xbb\xbf a,b\n": False}
    for block in (4, 5, 1 << 24):
        monkeypatch.setattr(reading, "PLAIN_BLOCK", block)
        for k, (data, plain) in enumerate(cases.items()):
            path = tmp_path / f"{k}.csv"
            path.write_bytes(data)
            assert reading._plain_bytes(path, ",") is plain, (data, block)
            assert old_plain_bytes(path, ",", block) is (plain or _missed_before(data, block))


@pytest.mark.parametrize("block", [4, 5, 7, 13, 1 << 24])
def test_plain_bytes_as_before_on_random_files(block, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(reading, "PLAIN_BLOCK", block)
    path = tmp_path / "f.csv"
    plain = missed = 0
    for seed in range(400):
        path.write_bytes(_csv_bytes(seed))
        for sep in (",", ";"):
            got, ref = reading._plain_bytes(path, sep), old_plain_bytes(path, sep, block)
            data = path.read_bytes()
            if ref and not got and _missed_before(data, block):
                missed += 1
                continue
            assert got == ref, (seed, sep, data)
            plain += got
    assert plain > 100  # (both outcomes are tried)
    assert missed <= 40


# ----------------------------------------------------------------- repeated keys


def _keyed(seed: int, n: int, dtype: str) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = rng.choice(["a", "b", "c", None, "A", "a "], size=n).tolist()
    if dtype == "object" and n:
        ids[0] = np.nan  # (None and NaN, both missing)
    months = pd.Series(rng.choice(pd.to_datetime(["2024-01-01", "2024-02-01", None]), size=n),
                       dtype="datetime64[ns]")
    return pd.DataFrame({"account_id": pd.Series(ids, dtype=dtype), "month": months,
                         "mrr": rng.choice([1.0, 2.0, np.nan], size=n)},
                        index=np.arange(n) * 5 + 3)


@pytest.mark.parametrize("dtype", ["str", "object"])
@pytest.mark.parametrize(("seed", "n"), [(0, 0), (1, 1), (2, 2), (3, 30), (4, 300)])
@pytest.mark.parametrize("key", [["account_id", "month"], ["account_id", "month", "mrr"],
                                 ["account_id"], ["month", "account_id"]])
def test_repeated_keys_are_pandas_duplicated(dtype, seed, n, key) -> None:
    frame = _keyed(seed, n, dtype)
    pd.testing.assert_series_equal(rows.repeated_keys(frame, key),
                                   frame.duplicated(subset=key, keep=False))


def test_repeated_keys_by_hand_and_with_many_combinations() -> None:
    frame = pd.DataFrame({"a": pd.Series(["x", "x", "y", None, None], dtype="str"),
                          "m": [1, 1, 1, 2, 2]})
    assert rows.repeated_keys(frame, ["a", "m"]).tolist() == [True, True, False, True, True]
    wide = pd.DataFrame({"a": np.arange(50) % 10, "b": np.arange(50) % 7,
                         "c": np.arange(50) % 3})  # 210 combinations > 4 x 50 rows: pandas
    pd.testing.assert_series_equal(rows.repeated_keys(wide, ["a", "b", "c"]),
                                   wide.duplicated(subset=["a", "b", "c"], keep=False))


# ----------------------------------------------------------------- account codes shared


@pytest.mark.parametrize("dtype", ["str", "object"])
@pytest.mark.parametrize(("seed", "n"), [(0, 0), (1, 1), (2, 2), (3, 30), (4, 300)])
@pytest.mark.parametrize("key", [["account_id", "month"], ["account_id"],
                                 ["month", "account_id", "mrr"]])
def test_repeated_keys_read_the_shared_account_codes_as_pandas_duplicated(dtype, seed, n,
                                                                         key) -> None:
    """Missing IDs among them (code -1): equal to each other, as ``duplicated`` has it."""
    frame = rows.with_account_codes(_keyed(seed, n, dtype))
    pd.testing.assert_series_equal(rows.repeated_keys(frame, key),
                                   frame.duplicated(subset=key, keep=False))


@pytest.mark.parametrize(("seed", "n"), [(0, 1), (1, 2), (3, 30), (4, 300)])
def test_unknown_accounts_read_the_shared_account_codes(seed, n, tmp_path) -> None:
    """The rows dropped, the note and the refusal are those of ``isin`` on the IDs; a
    missing ID is unknown."""
    frame = _keyed(seed, n, "str")
    frame[LINE] = np.arange(len(frame)) + 2
    for known, limit in (({"a", "A"}, 1.0), ({"a", "b", "c", "A", "a "}, 1.0),
                         ({"zzz"}, 1.0), ({"a"}, 0.01)):
        outcomes = []
        for shape in (frame, rows.with_account_codes(frame)):
            log = QualityLog()
            try:
                kept = rows.drop_orphans("mrr", shape, known, tmp_path / "m.csv", log, limit)
                outcomes.append((kept.drop(columns=rows.ACCOUNT_CODES, errors="ignore"),
                                 log.to_dict()))
            except DataError as exc:
                outcomes.append((exc.issues, log.to_dict()))
        (got, got_log), (ref, ref_log) = outcomes[1], outcomes[0]
        if isinstance(ref, pd.DataFrame):
            pd.testing.assert_frame_equal(got, ref, check_exact=True)
            assert len(ref) == int(frame["account_id"].isin(known).sum())
        else:
            assert got == ref
        assert got_log == ref_log


@pytest.mark.parametrize("case", HISTORIES)
def test_gaps_and_monthly_mrr_read_the_shared_account_codes(case, tmp_path) -> None:
    """The holes filled (their copies carry the codes) and the account-month sums of a
    frame with the codes equal the old code's on the frame without them."""
    frame = _history(**case)
    tp = load_params("demo").tables["mrr"]
    new_log, old_log = QualityLog(), QualityLog()
    try:
        ref_filled = old_mrr_gaps(frame.copy(), tp, tmp_path / "m.csv", old_log)
    except DataError as exc:  # a month missing from the whole file: the same refusal
        with pytest.raises(DataError) as got_exc:
            mrr_history.mrr_gaps(rows.with_account_codes(frame), tp, tmp_path / "m.csv",
                                 new_log)
        assert got_exc.value.issues == exc.issues
        return
    filled = mrr_history.mrr_gaps(rows.with_account_codes(frame), tp, tmp_path / "m.csv",
                                  new_log)
    pd.testing.assert_frame_equal(filled.drop(columns=rows.ACCOUNT_CODES), ref_filled,
                                  check_exact=True)
    got = mrr_history.monthly_mrr(filled, tp, None, new_log)
    ref = old_monthly_mrr(ref_filled, tp, None, old_log)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert new_log.to_dict() == old_log.to_dict()
