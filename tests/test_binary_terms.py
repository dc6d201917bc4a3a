"""Whether a numeric feature is yes/no (``make_terms``' ``binary``), decided by comparing
the values with 0 and 1 (issue 22) rather than by a Python set of the sorted distinct
values (np.unique then set: a sort per feature per fit, each cross-validation fold and each
trigger type). The previous rule is the reference here, on hand columns and the demo's
modelling table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses.drivers import design
from playbook.analyses.drivers.columns import as_numeric
from playbook.context import AnalysisContext


def reference_binary(s: pd.Series) -> bool:
    """The previous rule."""
    x = as_numeric(s).dropna()
    return bool(len(x)) and set(np.unique(x)) <= {0.0, 1.0}


COLUMNS = {
    "zeros and ones": [0.0, 1.0, 1.0, 0.0],
    "with missing": [0.0, np.nan, 1.0],
    "negative zero": [-0.0, 1.0],
    "all zero": [0.0, 0.0],
    "all one": [1, 1, 1],
    "booleans": [True, False],
    "nullable": pd.array([1, None, 0], dtype="Int64"),
    "a half": [0.0, 0.5, 1.0],
    "a two": [0, 1, 2],
    "infinite": [0.0, np.inf],
    "minus one": [-1.0, 0.0, 1.0],
    "empty": pd.Series([], dtype=float),
    "all missing": [np.nan, np.nan],
    "text": ["0", "1", "x"],
}


@pytest.mark.parametrize("name", list(COLUMNS))
def test_the_binary_rule_is_the_previous_one(name):
    s = pd.Series(COLUMNS[name])
    term = design.make_terms(pd.DataFrame({"f": s}), ["f"], {"f": (1.0, "unit")})[0] \
        if not design._is_categorical(s) else None
    if term is None:  # text goes the categorical way, before the rule
        assert name == "text"
        return
    assert term.binary == reference_binary(s)


def test_the_hand_answers():
    binary = {name: reference_binary(pd.Series(v)) for name, v in COLUMNS.items()
              if name != "text"}
    assert [n for n, b in binary.items() if b] == [
        "zeros and ones", "with missing", "negative zero", "all zero", "all one", "booleans",
        "nullable"]


def test_on_the_demo_modelling_table(small_demo_run):
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    table = ctx.modelling_table
    features = [f for f in ctx.model_features if not design._is_categorical(table[f])]
    terms = design.make_terms(table, features, ctx.features_built["units"])
    assert [t.binary for t in terms] == [reference_binary(table[f]) for f in features]
    assert any(t.binary for t in terms) and not all(t.binary for t in terms)
