"""What a column's values are: blanks, dates (and how they are written), numbers (and their
decimal mark), true/false words.

Every cell is read as text (:mod:`playbook.scaffold.sources`); these functions look at the
text the way the loader will read it, to say which date format, decimal mark or kind of
column a file uses.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import pandas as pd

TRUE_WORDS = {"true", "t", "yes", "y", "1", "1.0"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "0.0"}

_TIME = r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?[AaPp][Mm])?(Z|[+-]\d{2}:?\d{2})?)?"
_ISO = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2})?" + _TIME + "$")
_ISO_SLASH = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?$")
_DM = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{2}|\d{4})" + _TIME + "$")
_MONTH_NAME = re.compile(r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b")
_NUMBERISH = re.compile(r"^[-+(]?\s*[$€£]?\s*[\d.,' \u00a0]*\d\s*%?\)?$")


def blank_mask(values: pd.Series) -> pd.Series:
    """True where a value is blank: empty, spaces, or a null word ('NaN', 'null',
    'n/a', '-')."""
    text = values.astype(str).str.strip()
    return text.eq("") | text.str.lower().isin({"nan", "nat", "none", "null", "n/a", "na", "-"})


def nonblank(values: pd.Series) -> pd.Series:
    """The non-blank values of a text column, stripped."""
    values = values.astype(str).str.strip()
    return values[~blank_mask(values)]


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
    text = values.astype(str).str.strip()
    out = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
    rest = out.isna() & ~blank_mask(text)
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
    """Numbers of a text column (NaN where unreadable): currency signs, spaces and
    thousands separators dropped, '(12)' read as -12, a trailing '%' ignored; ``decimal``
    is the decimal mark ('.' or ',')."""
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
