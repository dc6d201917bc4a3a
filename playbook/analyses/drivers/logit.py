"""``statsmodels``' logistic regression with its in-sample prediction kept for the last
parameters asked (:class:`KeptLogit`).

A Newton fit of ``Logit`` asks for the prediction at the same parameters three times per
step (the Hessian, the score and the perfect-prediction check), and the cluster-robust
covariance twice more at the estimate: each a product of the whole design with the
parameters and a logistic function over every row (on 100,000 decisions, about a third of
the fit). :class:`KeptLogit` computes the linear predictor (``exog @ params + offset``,
exactly as ``Logit.predict`` does) and its logistic once per distinct parameter vector
and hands the same arrays back, read-only, for the model's own rows: the same numbers,
bit for bit, so the fit takes the same steps and gives the same estimates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from statsmodels.discrete.discrete_model import Logit

__all__ = ["KeptLogit"]


class KeptLogit(Logit):
    """``Logit`` whose ``predict`` of the mean or linear predictor on the model's own
    rows (no ``exog`` or ``offset`` given, a 1-D array of parameters) is computed once per
    parameter vector (compared by value) and then returned again, read-only. Anything else
    is ``Logit.predict``'s. The kept arrays are not pickled."""

    _kept: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None

    def predict(self, params: Any, exog: Any = None, which: str = "mean",
                offset: Any = None) -> Any:
        """As ``Logit.predict``; the model's own rows at the last parameters kept."""
        if (exog is not None or offset is not None or which not in ("mean", "linear")
                or not isinstance(params, np.ndarray) or params.ndim != 1):
            return super().predict(params, exog=exog, which=which, offset=offset)
        kept = self._kept
        if kept is None or not np.array_equal(kept[0], params):
            linear = super().predict(params, which="linear")
            linear.flags.writeable = False
            kept = (params.copy(), linear, None)
        if which == "linear":
            self._kept = kept
            return kept[1]
        if kept[2] is None:
            mean = self.cdf(kept[1])
            mean.flags.writeable = False
            kept = (kept[0], kept[1], mean)
        self._kept = kept
        return kept[2]

    def forget(self) -> None:
        """Drop the kept prediction (two floats a row): a fitted result keeps its model."""
        self._kept = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_kept", None)
        return state
