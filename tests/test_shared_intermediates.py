"""Intermediates computed once per run (issue 22): the health scores at past renewals'
cut-offs, the renewal model's table, fit, out-of-fold quality and the open book are
computed by the first kernel that needs them and read by the others
(:func:`playbook.once.computed_once`, :class:`playbook.context.AnalysisContext`
``shared``), and read back equal to what a kernel computes alone."""

from __future__ import annotations

import multiprocessing
import pickle
import time
from pathlib import Path

import pandas as pd
import pytest

from playbook import cache, loader, metrics, once, session
from playbook.analyses import account_state, backtest, drivers, health, revenue, segments
from playbook.config import load_params
from playbook.context import AnalysisContext
from playbook.errors import InsufficientDataError


# --------------------------------------------------------------------------- computed_once
def test_computed_once_computes_the_first_time_and_reads_after(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"frame": pd.DataFrame({"a": [1.5, 2.5]}), "n": 3}

    first = once.computed_once(tmp_path / "shared", "thing", compute)
    second = once.computed_once(tmp_path / "shared", "thing", compute)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first["frame"], second["frame"])
    assert second["n"] == 3 and second is not first  # read back from the pickle
    other = once.computed_once(tmp_path / "shared", "other", lambda: 7)
    assert other == 7 and sorted(p.name for p in (tmp_path / "shared").glob("*.pickle")) \
        == ["other.pickle", "thing.pickle"]


def test_a_kernel_hands_back_memory_after_computing_not_after_reading(tmp_path, monkeypatch):
    """In a kernel, what a computation read and freed goes back before the cell goes on
    (kernel_state.hand_back_memory: the table pages of a large client); a value read back
    from its pickle computed nothing."""
    from playbook import kernel_state

    handed = []
    monkeypatch.setattr(kernel_state, "hand_back_memory", lambda: handed.append(1))
    assert once.computed_once(tmp_path, "x", lambda: 41 + 1) == 42
    assert handed == [1]
    assert once.computed_once(tmp_path, "x", lambda: 0) == 42
    assert handed == [1]


def test_without_a_folder_it_computes_each_time():
    calls = []
    assert once.computed_once(None, "x", lambda: calls.append(1) or 5) == 5
    assert once.computed_once(None, "x", lambda: calls.append(1) or 5) == 5
    assert len(calls) == 2


def test_an_error_stores_nothing_and_the_next_caller_computes(tmp_path):
    def fail():
        raise InsufficientDataError("not enough", fix="more")

    with pytest.raises(InsufficientDataError, match="not enough"):
        once.computed_once(tmp_path, "x", fail)
    assert not (tmp_path / "x.pickle").exists()
    assert once.computed_once(tmp_path, "x", lambda: 4) == 4


def _compute_in_child(folder: str, log: str, out: str) -> None:
    def compute():
        with open(log, "a") as fh:
            fh.write("computed\n")
        time.sleep(0.3)  # long enough for the others to arrive while it holds the lock
        return list(range(10))

    value = once.computed_once(Path(folder), "slow", compute)
    Path(out).write_bytes(pickle.dumps(value))


def test_kernels_asking_at_the_same_time_compute_it_once(tmp_path):
    log = tmp_path / "log.txt"
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_compute_in_child,
                                args=(str(tmp_path / "shared"), str(log),
                                      str(tmp_path / f"out{i}")))
                for i in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join()
    assert [c.exitcode for c in children] == [0, 0, 0]
    assert log.read_text() == "computed\n"
    assert all(pickle.loads((tmp_path / f"out{i}").read_bytes()) == list(range(10))
               for i in range(3))


# --------------------------------------------------------------------------- the context
@pytest.fixture(scope="module")
def demo(small_demo_run):
    return small_demo_run


def _quality_as_the_notebooks_computed_it(ctx: AnalysisContext) -> dict:
    d = ctx.params.drivers
    return drivers.cross_validated_quality(ctx.modelling_table, ctx.renewal_model.features,
                                           folds=d.cv_folds, seed=d.random_seed,
                                           units=ctx.features_built["units"])


def _book_as_the_notebooks_computed_it(ctx: AnalysisContext) -> pd.DataFrame:
    p = ctx.params
    return drivers.renewals_due_book(
        ctx.renewal_model, ctx.tables, ctx.as_of,
        horizon_days=p.thresholds.renewal_horizon_days, cutoff_days=p.drivers.cutoff_days,
        at_risk_below=p.drivers.at_risk_probability, renewal_options=p.renewal_options(),
        feature_options=p.feature_options())


def _assert_same_quality(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    pd.testing.assert_series_equal(got["predictions"], want["predictions"], check_exact=True)
    assert {k: v for k, v in got.items() if k != "predictions"} == {
        k: v for k, v in want.items() if k != "predictions"}


def test_a_second_kernel_reads_what_the_first_computed(demo, tmp_path, monkeypatch):
    params, data = demo
    alone = AnalysisContext(params, data.tables)  # interactive: computes everything itself
    first = AnalysisContext(params, data.tables, shared=tmp_path / "shared")
    _assert_same_quality(first.renewal_quality, _quality_as_the_notebooks_computed_it(alone))
    pd.testing.assert_frame_equal(first.renewals_due_book,
                                  _book_as_the_notebooks_computed_it(alone), check_exact=True)
    assert len(first.renewals_due_book) and first.renewals_due_book["p_renew"].notna().any()
    pd.testing.assert_frame_equal(first.health_at_cutoff, alone.health_at_cutoff,
                                  check_exact=True)
    assert len(first.health_at_cutoff)

    def not_again(*_args, **_kwargs):
        raise AssertionError("computed again")

    for name in ("modelling_table", "fit_renewal_model", "cross_validated_quality",
                 "renewals_due_book"):
        monkeypatch.setattr(drivers, name, not_again)
    monkeypatch.setattr(backtest, "health_at_cutoff", not_again)
    second = AnalysisContext(params, data.tables, shared=tmp_path / "shared")
    pd.testing.assert_frame_equal(second.modelling_table, alone.modelling_table,
                                  check_exact=True)
    assert second.features_built == alone.features_built
    pd.testing.assert_frame_equal(second.renewal_model.coefficients,
                                  alone.renewal_model.coefficients, check_exact=True)
    _assert_same_quality(second.renewal_quality, first.renewal_quality)
    pd.testing.assert_frame_equal(second.renewals_due_book, first.renewals_due_book,
                                  check_exact=True)
    pd.testing.assert_frame_equal(second.health_at_cutoff, alone.health_at_cutoff,
                                  check_exact=True)


def test_without_a_model_quality_and_book_say_why_each_time(demo, tmp_path):
    params, data = demo
    tables = dict(data.tables)
    decisions = AnalysisContext(params, tables).renewal_decisions
    ctx = AnalysisContext(params, tables, shared=tmp_path)
    ctx.renewal_decisions = decisions.assign(renewed=1)  # one outcome only: no model
    with pytest.raises(InsufficientDataError) as first:
        _ = ctx.renewal_quality
    with pytest.raises(InsufficientDataError) as again:
        _ = ctx.renewal_quality
    assert str(first.value) == str(again.value)
    with pytest.raises(InsufficientDataError):
        _ = ctx.renewals_due_book
    assert not list(tmp_path.glob("renewal_quality*.pickle"))


def test_a_run_s_notebooks_share_the_cache_entry_s_folder(client_factory, tmp_path):
    client = client_factory.write()
    params = load_params(client)
    folder = tmp_path / "cache"
    cache.store(params, loader.load_client(params), folder)
    nb = session.start("02-renewal-drivers", client=client, data_cache=str(folder))
    assert nb.ctx.shared == cache.shared_folder(folder / cache.cache_key(params))
    assert nb.ctx.shared.parent.is_dir()  # inside the run's entry: removed with it
    assert session.start("02-renewal-drivers", client=client).ctx.shared is None


def test_the_value_scores_are_computed_once_for_the_run(demo, tmp_path, monkeypatch):
    params, data = demo
    alone = AnalysisContext(params, data.tables)
    first = AnalysisContext(params, data.tables, shared=tmp_path / "shared")
    pd.testing.assert_frame_equal(first.value_scores, alone.value_scores, check_exact=True)
    assert (tmp_path / "shared" / "value_scores.pickle").is_file()

    def not_again(*_args, **_kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(segments, "value_scores", not_again)
    second = AnalysisContext(params, data.tables, shared=tmp_path / "shared")
    pd.testing.assert_frame_equal(second.value_scores, alone.value_scores, check_exact=True)
    pd.testing.assert_series_equal(second.value_tiers, alone.value_tiers, check_exact=True)
    assert second.value_scores["value_score"].notna().sum() > 100


def _flags_as_the_notebooks_computed_them(ctx: AnalysisContext, day: pd.Timestamp
                                          ) -> pd.DataFrame:
    """The call notebooks 03 and 05 made before the flags were shared (their arguments)."""
    t, d = ctx.params.thresholds, ctx.tables
    return health.relationship_flags(
        ctx.accounts, d["contacts"], d["touches"], d.get("usage"), as_of=day,
        exec_days=t.exec_contact_days_before_renewal, user_days=t.user_contact_days_after_drop,
        renewal_horizon_days=t.renewal_horizon_days,
        strong_exec_enterprise=t.strong_exec_relationships_enterprise,
        strong_exec_smb=t.strong_exec_relationships_smb,
        enterprise_segments=tuple(t.enterprise_segments), usage_drop_share=t.usage_drop_share,
        strong_adoption_depth=t.strong_adoption_depth, triggers=d.get("triggers"),
        champion_days=ctx.params.triggers.churn_window_days)


def test_the_relationship_flags_are_computed_once_for_the_run(demo, tmp_path, monkeypatch):
    params, data = demo
    alone = AnalysisContext(params, data.tables)
    want = _flags_as_the_notebooks_computed_them(alone, alone.as_of)
    year_ago = alone.as_of - pd.DateOffset(months=12)
    pd.testing.assert_frame_equal(alone.relationship_flags_on(year_ago),
                                  _flags_as_the_notebooks_computed_them(alone, year_ago),
                                  check_exact=True)
    first = AnalysisContext(params, data.tables, shared=tmp_path / "shared")
    pd.testing.assert_frame_equal(first.relationship_flags, want, check_exact=True)
    assert (tmp_path / "shared" / "relationship_flags.pickle").is_file()
    assert want["flags"].sum() > 0

    def not_again(*_args, **_kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(health, "relationship_flags", not_again)
    second = AnalysisContext(params, data.tables, shared=tmp_path / "shared")
    pd.testing.assert_frame_equal(second.relationship_flags, want, check_exact=True)


def test_counted_mrr_and_the_billed_accounts_are_computed_once_for_the_run(
        demo, tmp_path, monkeypatch):
    params, data = demo
    tables = dict(data.tables)
    # two accounts cancel while still paying their term, so the policy removes rows and the
    # shared labels are what makes the tables equal (on the demo nothing is removed)
    mrr = tables["mrr"]
    longest = mrr.groupby("account_id")["month"].count().nlargest(2).index
    paid = mrr[mrr["account_id"].isin(longest)].sort_values("month")
    cancel = paid.groupby("account_id").nth(-4)[["account_id", "month"]]
    events = tables["churn_events"]
    added = pd.DataFrame({c: [events[c].iloc[0]] * 2 for c in events.columns})
    added["account_id"] = cancel["account_id"].to_numpy()
    added["churn_date"] = (pd.to_datetime(cancel["month"]) + pd.Timedelta(days=9)
                           ).to_numpy().astype(events["churn_date"].dtype)
    tables["churn_events"] = pd.concat([events, added], ignore_index=True)
    alone = AnalysisContext(params, tables)
    first = AnalysisContext(params, tables, shared=tmp_path / "shared")
    assert len(alone.counted_mrr) == len(mrr) - 8  # four months each from the cancellation
    pd.testing.assert_frame_equal(alone.counted_mrr, revenue.recognise_churn(
        mrr, tables["churn_events"], recognise_at=params.churn.recognise_at), check_exact=True)
    pd.testing.assert_frame_equal(first.counted_mrr, alone.counted_mrr, check_exact=True)
    pd.testing.assert_frame_equal(first.accounts, alone.accounts, check_exact=True)

    def not_again(*_args, **_kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(revenue, "recognise_churn", not_again)
    monkeypatch.setattr(account_state, "accounts_as_billed", not_again)
    second = AnalysisContext(params, tables, shared=tmp_path / "shared")
    pd.testing.assert_frame_equal(second.counted_mrr, alone.counted_mrr, check_exact=True)
    pd.testing.assert_frame_equal(second.accounts, alone.accounts, check_exact=True)
    assert (second.accounts["status"] == "churned").sum() > 10


def test_counted_mrr_is_the_table_itself_when_nothing_is_removed(demo, tmp_path):
    params, data = demo
    tables = {k: v for k, v in data.tables.items() if k != "churn_events"}
    ctx = AnalysisContext(params, tables, shared=tmp_path / "shared")
    assert ctx.counted_mrr is tables["mrr"]
    again = AnalysisContext(params, tables, shared=tmp_path / "shared")
    assert again.counted_mrr is tables["mrr"]


def test_counted_mrr_with_repeated_row_labels_is_computed_in_the_kernel(demo, tmp_path):
    params, data = demo
    tables = dict(data.tables)
    mrr = tables["mrr"]
    tables["mrr"] = mrr.set_axis(mrr.index % 7)  # labels that do not name one row each
    want = revenue.recognise_churn(tables["mrr"], tables.get("churn_events"),
                                   recognise_at=params.churn.recognise_at)
    got = AnalysisContext(params, tables, shared=tmp_path / "shared").counted_mrr
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert not list((tmp_path / "shared").glob("churn_recognised*"))


def test_the_health_scores_are_computed_once_for_the_run(demo, tmp_path, monkeypatch):
    params, data = demo
    alone = AnalysisContext(params, data.tables)
    first = AnalysisContext(params, data.tables, shared=tmp_path / "shared")
    pd.testing.assert_frame_equal(first.health_scores, alone.health_scores, check_exact=True)

    def not_again(*_args, **_kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(health, "health_scores", not_again)
    second = AnalysisContext(params, data.tables, shared=tmp_path / "shared")
    pd.testing.assert_frame_equal(second.health_scores, alone.health_scores, check_exact=True)
    pd.testing.assert_frame_equal(second.health_measures, alone.health_measures,
                                  check_exact=True)
    assert second.health_scores["health_score"].notna().sum() > 100


def test_the_headline_metrics_are_computed_once_for_the_run(demo, tmp_path, monkeypatch):
    params, data = demo
    alone = AnalysisContext(params, data.tables).headline_metrics
    first = AnalysisContext(params, data.tables, shared=tmp_path / "shared").headline_metrics
    assert first.keys() == alone.keys() and first["withheld"] == alone["withheld"]

    def not_again(*_args, **_kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(metrics, "headline_metrics", not_again)
    second = AnalysisContext(params, data.tables, shared=tmp_path / "shared").headline_metrics
    for key, value in alone.items():
        if isinstance(value, pd.DataFrame | pd.Series):
            assert value.equals(second[key]), key
        else:
            assert second[key] == value or (value != value and second[key] != second[key]), key
    assert 0 < second["grr"] <= 1
