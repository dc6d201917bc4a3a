"""The one metrics layer: headline rates on one basis, hand-computed; invariants and refusal."""

from __future__ import annotations

import pandas as pd
import pytest

from playbook import metrics
from playbook.errors import InsufficientDataError
from playbook.facts import facts_from_results
from playbook.findings import metrics as words
from playbook.quality import QualityNote
from playbook.summary import key_figures, sca_paragraph, withheld_text


def mrr_table(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """{account: {"2025-01": mrr, ...}} as a canonical mrr table."""
    out = [{"account_id": a, "month": pd.Timestamp(m + "-01"), "mrr": v}
           for a, months in rows.items() for m, v in months.items()]
    return pd.DataFrame(out)


#: Base month Jan 2025, as-of Jan 2026 (12 months). By hand:
#: base = A 100, B 200, C 50, D 150 (E starts later, F paid only before the base month)
#: now  = A 120 (expanded), B 0 (left), C 50, D 100 (downgraded), E 80 (new), G 0
#: GRR = (100 + 0 + 50 + 100) / 500 = 0.5; NRR = (120 + 0 + 50 + 100) / 500 = 0.54
#: logo churn = 1 / 4; new MRR = 80 -> new business share 0.16; end MRR = 350
BOOK = {
    "A": {"2025-01": 100, "2025-06": 110, "2026-01": 120},
    "B": {"2025-01": 200, "2025-06": 200},
    "C": {"2025-01": 50, "2025-06": 50, "2026-01": 50},
    "D": {"2025-01": 150, "2025-06": 150, "2026-01": 100},
    "E": {"2025-06": 40, "2026-01": 80},
    "F": {"2024-12": 70},
}


def test_headline_rates_equal_a_hand_computation():
    mrr = mrr_table(BOOK)
    window = metrics.retention_window(mrr, "2026-01-31", 12)
    h = metrics.headline_metrics(mrr, window)
    assert (window.base_month, window.months, window.label) == (
        pd.Timestamp("2025-01-01"), 12, "trailing 12 months")
    assert (h["base_accounts"], h["churned_accounts"], h["end_accounts"]) == (4, 1, 4)
    assert h["grr"] == pytest.approx(250 / 500)
    assert h["nrr"] == pytest.approx(270 / 500)
    assert h["gross_revenue_churn"] == pytest.approx(0.5)
    assert h["expansion_share"] == pytest.approx(0.04)
    assert h["logo_churn"] == pytest.approx(0.25)
    assert h["logo_churn_annualised"] == pytest.approx(0.25)
    assert h["logo_churn_monthly"] == pytest.approx(1 - 0.75 ** (1 / 12))
    assert h["new_business_share"] == pytest.approx(80 / 500)
    # the growth identity: base MRR x (NRR + new business share) = MRR now
    assert h["base_mrr"] * (h["nrr"] + h["new_business_share"]) == pytest.approx(h["end_mrr"])
    assert h["end_mrr"] == pytest.approx(350)


def test_a_shorter_history_shortens_the_window_and_says_so():
    mrr = mrr_table(BOOK)
    window = metrics.retention_window(mrr, "2026-01-31", 24)   # data begin Dec 2024
    assert (window.months, window.requested, window.label) == (13, 24, "trailing 13 months")
    h = metrics.headline_metrics(mrr, window)
    # base = F only (paying Dec 2024), gone by Jan 2026: logo churn 100% over 13 months
    assert h["logo_churn"] == 1.0 and h["logo_churn_annualised"] == pytest.approx(1.0)
    half = metrics.retention_window(mrr_table({"A": {"2025-07": 1, "2026-01": 1},
                                               "B": {"2025-07": 1}}), "2026-01-31", 12)
    assert half.label == "trailing 6 months"
    h = metrics.headline_metrics(mrr_table({"A": {"2025-07": 1, "2026-01": 1},
                                            "B": {"2025-07": 1}}), half)
    assert h["logo_churn"] == 0.5
    assert h["logo_churn_annualised"] == pytest.approx(1 - 0.5 ** 2)   # compounded to a year


def test_a_snapshot_has_no_window():
    with pytest.raises(InsufficientDataError, match="one month"):
        metrics.retention_window(mrr_table({"A": {"2026-01": 5}}), "2026-01-31", 12)


def test_broken_invariants_withhold_the_figure_with_its_reason():
    good = {"base_mrr": 100.0, "grr": 0.9, "nrr": 1.1, "logo_churn": 0.1}
    assert metrics.invariant_failures(good) == {}
    bad = metrics.invariant_failures({**good, "grr": -0.148})
    assert set(bad) == {"grr"} and "\u221214.8%" in bad["grr"]  # the minus sign
    assert set(metrics.invariant_failures({**good, "nrr": 0.8})) == {"nrr"}
    assert set(metrics.invariant_failures({**good, "logo_churn": 1.2})) == {"logo_churn"}
    assert set(metrics.invariant_failures({**good, "base_mrr": 0.0})) == {
        "grr", "nrr", "logo_churn"}


def test_a_contradiction_about_the_mrr_table_withholds_every_headline_figure():
    good = {"base_mrr": 100.0, "grr": 0.9, "nrr": 1.1, "logo_churn": 0.1}
    open_lines = QualityNote("mrr", "problem", "open lines", tables=["mrr"],
                             caveat="1,016 open subscription lines keep MRR running")
    elsewhere = QualityNote("surveys", "problem", "scale", tables=["surveys"])
    assert metrics.withheld_figures(good, [elsewhere]) == {}
    out = metrics.withheld_figures(good, [elsewhere, open_lines])
    assert set(out) == {"mrr", "grr", "nrr", "logo_churn"}
    assert "1,016 open subscription lines" in out["grr"]["reason"]


def results_with(head: dict) -> dict:
    return {"meta": {"client_name": "Acme", "as_of": "2026-09-30", "currency": "USD"},
            "01-revenue": {"findings": {
                "period": {"end_mrr": 500_000.0, "start_mrr": 480_000.0, "end_logos": 400},
                "headline_metrics": head}}}


def test_withheld_figures_never_reach_the_summary():
    head = {"grr": 0.996, "nrr": 2.92, "logo_churn": 0.868, "label": "trailing 12 months",
            "withheld": {k: {"reason": "the export contradicts itself: open lines",
                             "fix": "Ask for end dates."}
                         for k in ("mrr", "grr", "nrr", "logo_churn")}}
    f = facts_from_results(results_with(head))
    assert (f.mrr, f.grr, f.nrr, f.logo_churn) == (None, None, None, None)
    labels = [k.label for k in key_figures(f)]
    assert not {"MRR", "Gross revenue retention", "Net revenue retention",
                "Logo churn"} & set(labels)
    said = withheld_text(f)
    assert said.startswith("Not shown: MRR, gross revenue retention, net revenue retention "
                           "and logo churn, because the export contradicts itself")
    text = sca_paragraph(f, [])
    assert "292" not in text and "99.6" not in text and "$500K" not in text


def test_key_figures_carry_the_window_of_the_data():
    head = {"grr": 0.9, "nrr": 1.0, "logo_churn": 0.1, "churned_accounts": 10,
            "base_accounts": 100, "label": "trailing 11 months"}
    figs = {k.label: k for k in key_figures(facts_from_results(results_with(head)))}
    assert figs["Gross revenue retention"].note == "trailing 11 months"
    assert figs["Logo churn"].note == "10 of 100 accounts, trailing 11 months"
    assert "12" not in figs["Logo churn"].note


def test_the_glossary_reconciles_the_rates_it_names():
    mrr = mrr_table(BOOK)
    h = metrics.headline_metrics(mrr, metrics.retention_window(mrr, "2026-01-31", 12))
    h["withheld"] = {}
    due = {"renewals": 10, "renewal_churn_rate": 0.083}
    spec = words.glossary(h, due, None, "USD")
    table = spec.content.set_index("metric")["figure"]
    assert table["Logo churn (trailing 12 months)"] == "25.0%"
    assert table["Gross revenue retention (trailing 12 months)"] == "50.0%"
    assert table["Gross revenue churn"] == "50.0%"
    assert table["Net revenue retention (trailing 12 months)"] == "54.0%"
    assert table["Churn on renewals due (the period)"] == "8.3%"
    assert spec.title.startswith("25.0% of accounts but 50.0% of their revenue were lost")
    assert spec.n == 4
    h["withheld"] = {"grr": {"reason": "GRR computes to -14.8%", "fix": "x"}}
    table = words.glossary(h, due, None, "USD").content.set_index("metric")["figure"]
    assert table["Gross revenue retention (trailing 12 months)"] == "withheld"
    assert table["Gross revenue churn"] == "withheld"


def test_withheld_figures_are_said_once_and_leave_no_empty_glossary():
    head = {"base_accounts": 10, "base_month": "2025-01-01", "months": 12, "grr": 0.9,
            "nrr": 1.0, "churned_accounts": 1, "logo_churn": 0.1, "logo_churn_annualised": 0.1,
            "label": "trailing 12 months",
            "withheld": {k: {"reason": "the export contradicts itself: open lines",
                             "fix": "Ask for end dates."}
                         for k in ("mrr", "grr", "nrr", "logo_churn")}}
    assert words.retention_sentence(head, {"quick_ratio": 2.0}) == ""
    assert not words.has_stated_rates(head)
    assert words.withheld_sentence(head).count("contradicts itself") == 1
    head["withheld"] = {"grr": head["withheld"]["grr"]}
    text = words.retention_sentence(head, {"quick_ratio": 2.0})
    assert "gross revenue retention" not in text and "logo churn of 10.0%" in text
    assert "contradicts" not in text and words.has_stated_rates(head)


def test_a_customer_is_an_account_paying_in_the_as_of_month_whatever_the_crm_says():
    from playbook.analyses.account_state import accounts_as_billed, active_accounts

    crm = pd.DataFrame({
        "account_id": ["A", "B", "C", "D", "E"],
        "status": ["active", "active", "churned", "active", "churned"],
        "start_date": pd.to_datetime(["2024-01-01"] * 5),
        "churn_date": pd.to_datetime([None, None, "2025-12-10", None, "2025-06-20"])})
    billed = mrr_table({
        "A": {"2025-12": 10, "2026-01": 10},        # paying: a customer
        "B": {"2025-10": 10},                       # CRM says active, billing ended Oct
        "C": {"2025-12": 10, "2026-01": 10},        # CRM says churned, still billed
        "E": {"2025-06": 10}})                      # churned, CRM date inside last month
    # D never paid: not a customer
    out = accounts_as_billed(crm, billed, "2026-01-31").set_index("account_id")
    assert set(active_accounts(out.reset_index(), "2026-01-31").index) == {"A", "C"}
    assert out.loc["B", "churn_date"] == pd.Timestamp("2025-11-01")
    assert out.loc["E", "churn_date"] == pd.Timestamp("2025-06-20")     # the CRM's, it fits
    assert pd.isna(out.loc["D", "churn_date"]) and out.loc["D", "status"] == "churned"
    # before B's billing ended it was a customer
    assert "B" in active_accounts(out.reset_index(), "2025-10-15").index


def test_a_summary_fact_on_a_contradicted_table_is_withheld_with_its_own_reason():
    results = results_with({"grr": 0.9, "nrr": 1.0, "logo_churn": 0.1,
                            "label": "trailing 12 months"})
    results["01-revenue"]["findings"]["uninformative_reasons"] = {"share_events": 0.16}
    clean = facts_from_results(results)
    assert clean.unknown_reason_share == 0.16 and withheld_text(clean) == ""
    results["90-data-quality"] = {"findings": {"quality": {"notes": [
        {"severity": "problem", "table": "churn_events", "tables": ["churn_events"],
         "message": "m", "caveat": "coded and free-text churn reasons disagree"},
        {"severity": "warning", "table": "mrr", "tables": ["mrr"], "message": "w"}]}}}
    f = facts_from_results(results)
    assert f.unknown_reason_share is None and f.grr == 0.9     # warnings withhold nothing
    assert "Churn without a reason" not in [k.label for k in key_figures(f)]
    assert withheld_text(f).startswith(
        "Not shown: the share of churn without a reason, because the export contradicts "
        "itself: coded and free-text churn reasons disagree.")
    assert "no usable reason" not in sca_paragraph(f, [])


def test_withheld_figures_are_grouped_by_reason_in_the_order_of_their_names():
    from playbook import textfmt as tf

    withheld = {"nrr": {"reason": "NRR below GRR.", "fix": "f1"},
                "grr": {"reason": "GRR outside 0-100%", "fix": "f1"},
                "logo_churn": {"reason": "GRR outside 0-100%", "fix": "f1"}}
    assert metrics.withheld_groups(withheld) == [
        ("GRR outside 0-100%", "f1", ["gross revenue retention", "logo churn"]),
        ("NRR below GRR", "f1", ["net revenue retention"])]
    said = words.withheld_sentence({"withheld": withheld})
    assert said == ("Not shown as headline figures: gross revenue retention and logo churn, "
                    "because GRR outside 0-100%; net revenue retention, because NRR below "
                    "GRR. f1")
    assert [tf.and_list(x) for x in ([], ["a"], ["a", "b"], ["a", "b", "c"])] == [
        "", "a", "a and b", "a, b and c"]


def test_the_retention_sentence_gives_the_rates_as_the_headline_does():
    """99.94% net revenue retention is a net loss: rounded to a whole percent it read
    "100%" beside the headline's 99.9%."""
    head = {"base_accounts": 908, "base_month": "2025-09-01", "months": 12, "grr": 0.88712,
            "nrr": 0.99941, "churned_accounts": 148, "logo_churn": 148 / 908,
            "logo_churn_annualised": 148 / 908, "label": "trailing 12 months", "withheld": {}}
    text = words.retention_sentence(head, {})
    assert "88.7% of their MRR is still paid" in text
    assert "and 99.9% with it (net revenue retention)" in text
    assert "100%" not in text and "89%" not in text
    assert "logo churn of 16.3%" in text
