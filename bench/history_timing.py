"""Before / after of issue 22's many-dates code on a benchmark client, in CPU seconds.

``python bench/history_timing.py CLIENT`` loads the client once, then times the health
backtest (:func:`playbook.analyses.backtest.health_at_cutoff`) against the per-month loop
it replaced (``tests/test_vectorised_history.py``'s reference), and the lifecycle history
(:func:`playbook.analyses.segments.stage_history`) against :func:`lifecycle_stage` once a
date, checking that both give the same frame. CPU seconds (``time.process_time``) are
printed beside wall seconds: on a shared machine the CPU figure is the steadier one.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PLAYBOOK_ROOT", str(ROOT / "bench" / "out" / "root"))

from playbook.analyses import backtest, segments  # noqa: E402
from playbook.config import load_params  # noqa: E402
from playbook.context import AnalysisContext  # noqa: E402
from playbook.loader import load_client  # noqa: E402
from tests.test_vectorised_history import reference_health_at_cutoff  # noqa: E402


def timed(fn):
    """(result, CPU seconds, wall seconds) of ``fn()``."""
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def main(client: str) -> dict:
    params = load_params(client)
    _, load_cpu, load_wall = timed(lambda: load_client(params))
    data = load_client(params)
    ctx = AnalysisContext(params, data.tables)
    options = ctx.health_options()
    decisions = ctx.renewal_decisions
    recent = decisions[decisions["decision_date"] >= ctx.health_window_start]
    cut = params.drivers.cutoff_days
    new, new_cpu, new_wall = timed(lambda: backtest.health_at_cutoff(
        recent, data.tables, cutoff_days=cut, **options))
    old, old_cpu, old_wall = timed(lambda: reference_health_at_cutoff(
        recent, data.tables, cutoff_days=cut, **options))
    pd.testing.assert_frame_equal(new, old)
    t, lc = data.tables, params.lifecycle
    steps = segments.onboarding_step_order(t["accounts"], t.get("onboarding"))
    rules = dict(onboarding=t.get("onboarding"), usage=t.get("usage"), mrr=t.get("mrr"),
                 onboarding_days=lc.onboarding_days, active_depth=lc.active_depth,
                 expanding_growth=lc.expanding_growth,
                 transformational_depth=lc.transformational_depth,
                 transformational_products=lc.transformational_products,
                 steps=steps or None)
    dates = segments.month_ends(ctx.as_of, lc.history_months)
    hist, hist_cpu, hist_wall = timed(lambda: segments.stage_history(
        t["accounts"], dates=dates, **rules))

    def per_date() -> pd.DataFrame:
        out = pd.DataFrame({pd.Timestamp(d): segments.lifecycle_stage(
            t["accounts"], as_of=d, **rules).astype(object) for d in dates})
        out.index.name = "account_id"
        return out

    ref, ref_cpu, ref_wall = timed(per_date)
    pd.testing.assert_frame_equal(hist, ref)
    return {"client": client, "load and validate": [round(load_cpu, 1), round(load_wall, 1)],
            "health backtest": {"decisions": len(recent), "scoring days":
                                int(new["scored_on"].nunique()),
                                "before": [round(old_cpu, 1), round(old_wall, 1)],
                                "after": [round(new_cpu, 1), round(new_wall, 1)]},
            "stage history": {"dates": len(dates),
                              "before": [round(ref_cpu, 1), round(ref_wall, 1)],
                              "after": [round(hist_cpu, 1), round(hist_wall, 1)]},
            "units": "[CPU s, wall s]; same frames before and after (checked)"}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), indent=1))
