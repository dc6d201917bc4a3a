"""Peer benchmarks: the shipped set is complete and cited, the band follows the client's
ARR per account, a firm's own set replaces it, none is shown without a set."""

from __future__ import annotations

import pytest

from playbook import paths
from playbook.errors import ParamsError
from playbook.executive_benchmarks import (
    BENCHMARK_DIR,
    benchmarks_record,
    client_acv,
    load_benchmarks,
    peer_rows,
)
from playbook.facts import Facts
from playbook.findings.executive import benchmarks_html


def test_every_shipped_set_is_cited_and_its_bands_tile_the_acv_range():
    files = sorted(BENCHMARK_DIR.glob("*.yaml"))
    assert files
    for file in files:
        bench = load_benchmarks(file.stem)
        assert bench.source and bench.year >= 2000 and bench.sample_size > 0
        assert bench.quote and all(u.startswith("https://") for u in bench.urls)
        assert bench.bands[0].acv_min == 0 and bench.bands[-1].acv_max is None
        for a, b in zip(bench.bands, bench.bands[1:], strict=False):
            assert a.acv_max == b.acv_min          # no gap, no overlap


def test_the_saas_capital_set_holds_what_the_source_prints():
    bench = load_benchmarks("saas_capital_2023")
    assert (bench.year, bench.sample_size, bench.statistic) == (2023, 1500, "median")
    # the ChurnZero summary of the study: 100% NRR at ACV <= $12K, 110% above $250K
    assert bench.band_for(5_000).nrr == 1.00 and bench.band_for(300_000).nrr == 1.10
    # the survey publishes no logo churn: none is filled in
    assert all(b.logo_churn is None for b in bench.bands)


def test_the_band_is_picked_by_arr_per_account_at_its_bounds():
    bench = load_benchmarks("saas_capital_2023")
    assert bench.band_for(11_999.99).label == "ACV under $12K"
    assert bench.band_for(12_000).label == "ACV $12K-$25K"
    assert bench.band_for(None) is None
    f = Facts(mrr=100_000.0, accounts=20)          # ARR 1.2M over 20 accounts: 60K
    assert client_acv(f) == pytest.approx(60_000)
    band, rows = peer_rows(Facts(mrr=100_000.0, accounts=20, grr=0.88, nrr=1.052,
                                 logo_churn=0.12), bench)
    assert band.label == "ACV $50K-$100K"
    by = {r.metric: r for r in rows}
    assert by["grr"].gap == pytest.approx(0.88 - 0.93) and by["grr"].verdict == "worse"
    assert by["nrr"].verdict == "in line"        # within half a point of 105%
    assert by["logo_churn"].peer is None and by["logo_churn"].verdict == ""


def test_a_withheld_figure_is_not_compared():
    bench = load_benchmarks("saas_capital_2023")
    _, rows = peer_rows(Facts(mrr=100_000.0, accounts=20, grr=None, nrr=1.2), bench)
    by = {r.metric: r for r in rows}
    assert by["grr"].client is None and by["grr"].verdict == ""
    assert by["nrr"].verdict == "better"


def test_no_set_means_no_benchmarks_and_says_why():
    assert load_benchmarks(None) is None
    record = benchmarks_record(Facts(), None)
    assert record["rows"] == [] and "null" in record["reason"]
    assert "No peer benchmarks" in benchmarks_html(record)


def test_a_firms_own_set_replaces_the_shipped_one(tmp_path):
    own = tmp_path / "bench" / "ours.yaml"
    own.parent.mkdir()
    own.write_text(
        "source: Our portfolio <b>2025</b>\nyear: 2025\nsample_size: 40\n"
        "sample: forty clients\nstatistic: median\nurls: [https://example.org/x]\n"
        "quote: ours\nbands:\n  - {label: all, acv_min: 0, acv_max: null, grr: 0.91, "
        "nrr: 1.04, logo_churn: 0.08}\n", encoding="utf-8")
    with paths.project_folders(tmp_path, tmp_path / "reports"):
        bench = load_benchmarks("bench/ours.yaml")
        with pytest.raises(ParamsError, match="neither"):
            load_benchmarks("bench/missing.yaml")
    record = benchmarks_record(Facts(mrr=1.0, accounts=1, logo_churn=0.10), bench)
    assert record["band"] == "all" and record["sample_size"] == 40
    page = benchmarks_html(record)
    assert "<b>" not in page and "&lt;b&gt;" in page        # client text is escaped
    assert "8%" in page


def test_a_set_with_a_wrong_layout_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("source: x\nyear: 2025\n", encoding="utf-8")
    with paths.project_folders(tmp_path, tmp_path / "reports"), \
            pytest.raises(ParamsError, match="layout"):
        load_benchmarks("bad.yaml")
