"""Faster loading (#22), each new implementation against the code it replaced, kept here as
the reference: same values to the bit on hand-made edge cases and on random inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from playbook.config import load_params
from playbook.consistency import _check_code_text_agreement, pearson_chi2
from playbook.quality import QualityLog

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
