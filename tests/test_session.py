"""The notebook session: exhibits shown or kept as detail, findings recorded and saved."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from playbook import session  # noqa: E402
from playbook.exhibits import ExhibitSpec  # noqa: E402


def spec(title: str) -> ExhibitSpec:
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    return ExhibitSpec(fig, title, "subtitle", "source", n=3)


def test_detail_exhibits_are_omitted_in_standard_reports_and_closed(client_factory, tmp_path):
    client_factory.write()
    nb = session.start("t-nb", client="t", run_dir=str(tmp_path / "run"))
    assert nb.params.report.detail == "standard"
    before = len(plt.get_fignums())
    nb.show(spec("Detail title"), detail=True)
    nb.show(spec("Main title"), headline=True)
    assert len(plt.get_fignums()) == before       # no figure left for the inline backend
    assert [e["title"] for e in nb.book.titles()] == ["Main title"]
    assert nb.book.titles()[0]["headline"] is True
    assert nb.findings["omitted_detail_exhibits"] == ["Detail title"]
    nb.record("frame", pd.DataFrame({"a": [1.0, float("nan")]}))
    nb.save()
    saved = json.loads((tmp_path / "run" / "findings" / "t-nb.json").read_text())
    assert saved["findings"]["frame"] == [{"a": 1.0}, {"a": None}]
    assert saved["exhibits"][0]["number"] == 1


def test_omitted_detail_exhibit_is_said_in_one_line_unless_told_not_to(client_factory,
                                                                       monkeypatch):
    client_factory.write()
    nb = session.start("t-nb", client="t")
    shown: list[str] = []
    monkeypatch.setattr(session, "display", lambda obj: shown.append(obj.data))
    nb.show(spec("Tiers are stable: 92% kept their tier & more"), detail=True)
    nb.show(spec("Already in the table above"), detail=True, mention=False)
    assert shown == ['<p class="detail-finding">Tiers are stable: 92% kept their tier '
                     '&amp; more.</p>']
    assert nb.findings["omitted_detail_exhibits"] == [
        "Tiers are stable: 92% kept their tier & more", "Already in the table above"]


def test_full_detail_shows_every_exhibit(client_factory):
    from conftest import BASE_PARAMS

    client_factory.write(params=dict(BASE_PARAMS, report={"detail": "full"}))
    nb = session.start("t-nb", client="t")
    nb.show(spec("Detail title"), detail=True)
    assert [e["title"] for e in nb.book.titles()] == ["Detail title"]


def test_an_empty_table_is_said_in_one_line_unless_it_is_a_headline(client_factory,
                                                                    monkeypatch):
    client_factory.write()
    nb = session.start("t-nb", client="t")
    shown: list[str] = []
    monkeypatch.setattr(session, "display", lambda obj: shown.append(obj.data))
    empty = pd.DataFrame({"account": [], "MRR (USD)": []})
    nb.show(ExhibitSpec(empty, "No account is stuck in onboarding", "sub", "accounts", n=0))
    assert shown == ['<p class="detail-finding">No account is stuck in onboarding.</p>']
    assert nb.book.titles() == []                       # no exhibit number spent
    assert nb.findings["empty_exhibits"] == ["No account is stuck in onboarding"]
    nb.show(ExhibitSpec(empty, "No renewal is at risk", "sub", "renewals", n=0),
            headline=True)
    assert [e["title"] for e in nb.book.titles()] == ["No renewal is at risk"]
    assert "<table" not in shown[-1] and "exhibit-empty" in shown[-1]


def test_start_reads_the_run_data_cache_given_as_a_parameter(client_factory, tmp_path,
                                                             monkeypatch):
    """The render step passes the folder of the run's validated tables as ``data_cache``
    (a papermill parameter, no environment variable): the notebook reads it, not the raw
    files; without it (JupyterLab) the raw files are loaded."""
    from playbook import cache
    from playbook.config import load_params
    from playbook.loader import load_client

    client = client_factory.write()
    params = load_params(client)
    cache.store(params, load_client(params), tmp_path / "cache")
    loads = []
    monkeypatch.setattr(session, "load_client", lambda p: loads.append(p) or load_client(p))
    cached = session.start("t-nb", client=client, data_cache=str(tmp_path / "cache"))
    assert loads == [] and cached.data.tables.keys() == load_client(params).tables.keys()
    session.start("t-nb", client=client)
    assert len(loads) == 1
