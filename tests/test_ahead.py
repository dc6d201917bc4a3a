"""Intermediates computed ahead (issue 22): the account plan's expansion model is an
analysis-context intermediate equal to the direct calls the notebook made, computed once for
the run; a kernel with nothing else to do
computes the model and the book before the notebook starts (:mod:`playbook.ahead`), queued
just before the notebook that precedes it, and a failure there is left to the notebook."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from playbook import ahead, cache, loader, paths, session
from playbook.analyses import drivers, expansion
from playbook.config import load_params
from playbook.context import AnalysisContext
from playbook.demo import generate_demo
from playbook.errors import InsufficientDataError, KernelError
from playbook.render_execute import Reporter, ahead_job, execute_notebooks, kernel_queue

REPORT = ["01-revenue", "02-renewal-drivers", "03-segments-health", "04-capacity",
          "06-outcomes-triggers", "05-account-plan"]


@pytest.fixture(scope="module")
def demo(small_demo_run):
    return small_demo_run


def _model_as_the_notebook_fitted_it(ctx: AnalysisContext) -> expansion.ExpansionModel:
    """What notebook 05 called before the context had the model (issue 22)."""
    p, e = ctx.params, ctx.params.expansion
    table, report = expansion.expansion_table(
        ctx.counted_mrr, ctx.tables, as_of=ctx.as_of, horizon_months=e.horizon_months,
        cutoff_every_months=e.cutoff_every_months, min_rise_share=e.min_rise_share,
        seats_full_share=e.seats_full_share, feature_options=p.feature_options())
    return expansion.fit_expansion_model(
        table, e.features, folds=p.drivers.cv_folds, seed=p.drivers.random_seed,
        min_expansions=e.min_expansions, units=report["units"],
        recorded_after=report.get("recorded_after_cutoff"))


# --------------------------------------------------------------------------- the context
def test_the_expansion_model_is_the_notebook_s_calls_computed_once_for_the_run(
        demo, tmp_path, monkeypatch):
    params, data = demo
    alone = AnalysisContext(params, data.tables)
    want = _model_as_the_notebook_fitted_it(alone)
    first = AnalysisContext(params, data.tables, shared=tmp_path)
    got = first.expansion_model
    assert got.n == want.n and got.expansions == want.expansions > 0
    assert (got.auc, got.auc_low, got.auc_high) == (want.auc, want.auc_low, want.auc_high)
    assert got.features == want.features and len(got.features)
    pd.testing.assert_frame_equal(got.odds_ratios, want.odds_ratios, check_exact=True)
    pd.testing.assert_frame_equal(got.lift, want.lift, check_exact=True)

    def not_again(*_args, **_kwargs):
        raise AssertionError("computed again")

    for name in ("expansion_table", "fit_expansion_model"):
        monkeypatch.setattr(expansion, name, not_again)
    second = AnalysisContext(params, data.tables, shared=tmp_path)  # another kernel
    pd.testing.assert_frame_equal(second.expansion_model.odds_ratios, want.odds_ratios,
                                  check_exact=True)
    assert second.expansion_model.auc == want.auc


def test_the_open_book_is_the_one_call_book_its_inputs_computed_once_for_the_run(
        demo, tmp_path, monkeypatch):
    """02 (reasons among the significant drivers) and 05 (every design column) score the
    same renewals: their inputs are computed once for the run, and each book equals
    drivers.renewals_due_book called with the same settings."""
    params, data = demo
    p = params
    first = AnalysisContext(params, data.tables, shared=tmp_path)
    model = first.renewal_model
    some = list(model.coefficients.index[1:4])

    def one_call(reason_columns):
        return drivers.renewals_due_book(
            model, data.tables, first.as_of, horizon_days=p.thresholds.renewal_horizon_days,
            cutoff_days=p.drivers.cutoff_days, at_risk_below=p.drivers.at_risk_probability,
            renewal_options=p.renewal_options(), feature_options=p.feature_options(),
            reason_columns=reason_columns)

    want_all, want_some = one_call(None), one_call(some)
    assert len(want_all) > 0 and not want_all["reasons"].equals(want_some["reasons"])
    pd.testing.assert_frame_equal(first.renewals_due_book, want_all, check_exact=True)
    pd.testing.assert_frame_equal(first.open_book(some), want_some, check_exact=True)

    def not_again(*_args, **_kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(drivers, "open_book_inputs", not_again)
    second = AnalysisContext(params, data.tables, shared=tmp_path)  # another kernel
    pd.testing.assert_frame_equal(second.open_book(some), want_some, check_exact=True)


def test_a_model_the_history_cannot_support_raises_each_time_and_stores_nothing(
        demo, tmp_path, monkeypatch):
    params, data = demo
    tries = []

    def too_few(*_args, **_kwargs):
        tries.append(1)
        raise InsufficientDataError("2 expansions in 40 account-periods", fix="more history")

    monkeypatch.setattr(expansion, "fit_expansion_model", too_few)
    ctx = AnalysisContext(params, data.tables, shared=tmp_path)
    for _ in range(2):
        with pytest.raises(InsufficientDataError, match="2 expansions"):
            _ = ctx.expansion_model
    assert len(tries) == 1 and not list(tmp_path.glob("expansion_model*.pickle"))


# --------------------------------------------------------------------------- the queue
def test_the_account_plan_s_work_is_queued_before_the_notebook_that_precedes_it():
    queue = kernel_queue(REPORT, at_once=2)
    assert queue == [("notebook", "01-revenue"), ("notebook", "02-renewal-drivers"),
                     ("notebook", "03-segments-health"), ("notebook", "04-capacity"),
                     ("ahead", "05-account-plan"), ("notebook", "06-outcomes-triggers"),
                     ("notebook", "05-account-plan")]
    assert ahead.AHEAD["05-account-plan"] == ("expansion_model", "renewals_due_book")


@pytest.mark.parametrize(("stems", "at_once"), [
    (REPORT[:5], 1),  # one notebook at a time: nothing runs beside, nothing to gain
    (["01-revenue", "05-account-plan", "04-capacity"], 1),  # already before them
    (["05-account-plan", "01-revenue", "02-renewal-drivers"], 2),  # starts at once
    (["01-revenue", "05-account-plan", "02-renewal-drivers"], 2),
    (["90-data-quality", "95-appendix"], 2),  # nothing to compute ahead for them
])
def test_nothing_is_computed_ahead_where_nothing_would_run_beside(stems, at_once):
    assert kernel_queue(stems, at_once) == [("notebook", s) for s in stems]


def test_one_kernel_runs_the_account_plan_before_capacity_and_outcomes():
    # its workbook's child then writes beside them rather than alone after the last one
    assert kernel_queue(REPORT, at_once=1) == [
        ("notebook", "01-revenue"), ("notebook", "02-renewal-drivers"),
        ("notebook", "03-segments-health"), ("notebook", "05-account-plan"),
        ("notebook", "04-capacity"), ("notebook", "06-outcomes-triggers")]
    # a custom list: before the first of them that precedes it, and only those
    assert ahead.alone_order(["01-revenue", "06-outcomes-triggers", "90-x", "05-account-plan"]
                             ) == ["01-revenue", "05-account-plan", "06-outcomes-triggers",
                                   "90-x"]


class _RecordingWorkers:
    """Stands in for KernelWorkers: records the tasks handed out, runs none."""

    at_once = 2

    def __init__(self) -> None:
        self.order: list[tuple[str, str]] = []

    def run(self, tasks, done, on_idle=None) -> None:
        for function, args in tasks:
            if function is ahead_job:
                stem, names, values = args
                self.order.append(("ahead", stem))
                assert names == ahead.AHEAD[stem] and values["data_cache"] == "/cache"
                assert values["client"] == "x"
                done((function, args), (1.5, None), None)
            else:
                self.order.append(("notebook", args[0].stem))
                done((function, args), (nbformat.v4.new_notebook(), 0.1, None), None)


def test_the_run_hands_the_work_ahead_to_a_kernel_and_counts_only_notebooks(tmp_path,
                                                                             capsys):
    sources = [Path(f"/n/{s}.ipynb") for s in (*REPORT, "95-appendix")]
    declared = {s: {"client", "data_cache"} for s in sources}
    staging = tmp_path / "staging"
    (staging / "notebooks").mkdir(parents=True)
    workers = _RecordingWorkers()
    executed = execute_notebooks(sources, declared, {"client": "x"}, staging, tmp_path / "out",
                                 workers, Reporter(True), timings := {},
                                 run_values={"data_cache": "/cache"})
    assert workers.order == [*kernel_queue(REPORT, 2), ("notebook", "95-appendix")]
    assert len(executed) == 7 and set(timings) == {s.stem for s in sources}
    said = capsys.readouterr().err
    assert "[7/7] 95-appendix.ipynb done" in said
    assert "expansion_model, renewals_due_book for 05-account-plan computed ahead" in said
    # without the run's data cache nothing is shared: nothing is computed ahead
    workers = _RecordingWorkers()
    execute_notebooks(sources, declared, {"client": "x"}, staging, tmp_path / "out", workers,
                      Reporter(False), {})
    assert ("ahead", "05-account-plan") not in workers.order


class _FailingKernel:
    def execute_code(self, code: str) -> None:
        assert "compute_ahead(['expansion_model'], client='x'" in code
        time.sleep(0.01)
        raise KernelError("the kernel died during its reset")


def test_a_kernel_failing_ahead_is_reported_not_raised():
    seconds, error = ahead_job(_FailingKernel(), "05-account-plan", ("expansion_model",),
                               {"client": "x", "data_cache": "/cache"})
    assert error == "KernelError: the kernel died during its reset" and seconds >= 0.01


# --------------------------------------------------------------------------- in a kernel
def test_computed_ahead_the_notebook_reads_it_and_a_failure_is_left_to_it(
        tmp_path, monkeypatch):
    generate_demo(tmp_path / "data" / "demo", n_accounts=300)  # history for both models
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "demo.yaml").write_bytes(paths.params_file("demo").read_bytes())
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    client = "demo"
    params = load_params(client)
    folder = tmp_path / "cache"
    cache.store(params, loader.load_client(params), folder)
    shared = cache.shared_folder(folder / cache.cache_key(params))

    def fails(*_args, **_kwargs):
        raise ValueError("a bug in the book")

    with monkeypatch.context() as patched:
        patched.setattr(drivers, "open_book", fails)
        outcome = ahead.compute_ahead(["expansion_model", "renewals_due_book"],
                                      client=client, data_cache=str(folder))
    assert outcome == {"expansion_model": "ok",
                       "renewals_due_book": "ValueError: a bug in the book"}
    assert (shared / "expansion_model.pickle").is_file()
    assert not (shared / "renewals_due_book.pickle").exists()  # the notebook computes it

    def not_again(*_args, **_kwargs):
        raise AssertionError("computed again")

    with monkeypatch.context() as patched:
        patched.setattr(expansion, "fit_expansion_model", not_again)
        nb = session.start("05-account-plan", client=client, data_cache=str(folder))
        read = nb.ctx.expansion_model
    alone = session.start("05-account-plan", client=client)  # interactive: no cache
    want = _model_as_the_notebook_fitted_it(alone.ctx)
    pd.testing.assert_frame_equal(read.odds_ratios, want.odds_ratios, check_exact=True)
    assert len(nb.ctx.renewals_due_book) == len(alone.ctx.renewals_due_book)
    assert ahead.compute_ahead(["expansion_model"], client=client, data_cache="") == {
        "expansion_model": "no data cache"}


def test_a_kernel_runs_code_between_notebooks_and_forgets_it(tmp_path):
    from playbook.kernels import WarmKernel

    kernel = WarmKernel()
    kernel.start()
    try:
        kernel.execute_code(f"left_behind = 1\nopen({str(tmp_path / 'ran')!r}, 'w').write('yes')")
        assert (tmp_path / "ran").read_text() == "yes"
        kernel.execute_code(  # reset after the code: its names are gone
            f"open({str(tmp_path / 'seen')!r}, 'w').write(str('left_behind' in globals()))")
        assert (tmp_path / "seen").read_text() == "False"
        with pytest.raises(KernelError, match="ValueError: boom"):
            kernel.execute_code("raise ValueError('boom')")
        kernel.execute_code(f"open({str(tmp_path / 'after')!r}, 'w').write('ok')")
        assert (tmp_path / "after").read_text() == "ok"  # still usable
    finally:
        kernel.shutdown()
