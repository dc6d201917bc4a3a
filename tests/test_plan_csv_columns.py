"""The account plan's CSV is made a column at a time by Arrow (issue 22,
:func:`playbook.workbook.plan_csv` and :func:`~playbook.workbook.csv_fields`) and is byte for
byte what :func:`csv.writer` wrote of the cells of :func:`~playbook.workbook.csv_cells`.

The previous ``plan_csv`` is kept here as the reference (:func:`reference_plan_csv`); both
are compared on the demo's plan, the hostile plan, the odd plan of every kind of value
(formula-like text, control characters, quotes, line breaks, unicode, NaN, infinities, huge
numbers, dates around 1900 and at the ends of ``datetime64[ns]``), each column of every
dtype a plan holds, random text of a hostile alphabet, and an empty plan.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from playbook import account_plan as ap
from playbook import workbook as wb
from tests.test_sheet_rows import demo_plan, odd_plan
from tests.test_workbook import plan as hostile_plan
from tests.test_workbook_columns import columns


def reference_plan_csv(plan: pd.DataFrame) -> str:
    """The previous ``playbook.workbook.plan_csv``: :func:`csv.writer` of the cells."""
    plan = plan[list(ap.COLUMNS)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow(list(plan.columns))
    writer.writerows(zip(*(wb.csv_cells(plan[col]) for col in plan.columns), strict=True))
    return buffer.getvalue()


def assert_same_csv(plan: pd.DataFrame) -> str:
    new = wb.plan_csv(plan)
    old = reference_plan_csv(plan)
    assert new == old
    return new


def test_the_demo_plan_is_the_same_csv(small_demo_run):
    plan, ctx = demo_plan(small_demo_run)
    assert len(plan) > 200
    text = assert_same_csv(plan)
    assert text.count("\r\n") == len(plan) + 1


def test_the_hostile_and_the_odd_plans_are_the_same_csv():
    assert_same_csv(hostile_plan())
    text = assert_same_csv(odd_plan())
    assert "\"'=cmd|' /C calc'!A0\"" in text  # formula-like text prefixed, quoted
    assert '"a & b <c> ""d"""' in text  # a double quote doubled


def test_an_empty_plan_and_one_account_are_the_same_csv():
    assert assert_same_csv(hostile_plan().iloc[:0]).count("\r\n") == 1
    assert_same_csv(hostile_plan().iloc[:1])


@pytest.mark.parametrize("name", list(columns()))
@pytest.mark.parametrize("target", ["account_name", "mrr", "days_to_renewal",
                                    "next_renewal_date", "flag_single_threaded"])
def test_each_dtype_in_any_column_is_the_same_csv(name, target):
    values = columns()[name]
    if not len(values):
        return
    plan = pd.concat([hostile_plan()] * 3, ignore_index=True)
    plan[target] = pd.Series(list(values) * len(plan), dtype=values.dtype).iloc[:len(plan)] \
        .reset_index(drop=True)
    assert_same_csv(plan)


def test_random_hostile_text_and_numbers_are_the_same_csv():
    rng = np.random.default_rng(22)
    alphabet = list("ab \"',;=+-@\t\r\n\x00\x07\x0b\x1f\x7f&<>_x0041é\u00a0\u3000\ufffe") \
        + ["\U0001F600", "\u0301"]
    plan = pd.concat([hostile_plan()] * 25, ignore_index=True)
    for col in ("account_name", "owner", "expansion_reason", "next_action_reason"):
        plan[col] = ["".join(rng.choice(alphabet, rng.integers(0, 12))) for _ in range(len(plan))]
    plan["other_actions"] = pd.array(plan["next_action_reason"], dtype="string")
    plan["mrr"] = rng.standard_normal(len(plan)) * 10.0 ** rng.integers(-20, 300, len(plan))
    plan.loc[::7, "mrr"] = np.nan
    plan["margin"] = np.round(rng.standard_normal(len(plan)) * 1e6, 2)
    plan["relationship_flags"] = pd.array(rng.integers(-2**62, 2**62, len(plan)), dtype="Int64")
    assert_same_csv(plan)


def test_text_arrow_cannot_hold_falls_back_to_python():
    plan = hostile_plan()
    plan["account_name"] = pd.Series(["lone \ud800 surrogate", "ok"] * 4, dtype=object)
    assert_same_csv(plan)
