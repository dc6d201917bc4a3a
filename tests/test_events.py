"""Usage events (layout: events) give the same tables and figures with DuckDB and pandas."""

from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from playbook import demo
from playbook.analyses import health
from playbook.config import load_params
from playbook.errors import DataError
from playbook.loader import load_client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.events import parquet_events_as_csv, write_usage_events  # noqa: E402

EVENT_COLUMNS = {"account_id": "Account ID", "month": "Event Time", "user_id": "User ID",
                 "licensed_seats": "Licensed Seats"}


@pytest.fixture(scope="module")
def demo_events(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo client (300 accounts) with its usage as an event log, plus its params."""
    root = tmp_path_factory.mktemp("events")
    folder = root / "data" / "ev"
    demo.generate_demo(folder, n_accounts=300)
    write_usage_events(folder, mean=4.0)
    params = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text())
    params["tables"]["usage"] = {"file": "usage_events.parquet", "layout": "events",
                                 "columns": dict(EVENT_COLUMNS)}
    (root / "params").mkdir()
    (root / "params" / "ev.yaml").write_text(yaml.safe_dump(params))
    return root


def _load(root: Path, monkeypatch: pytest.MonkeyPatch, engine: str, client: str = "ev"):
    monkeypatch.setenv("PLAYBOOK_ROOT", str(root))
    monkeypatch.setenv("PLAYBOOK_EVENTS_ENGINE", engine)
    params = load_params(client)
    return params, load_client(params)


def test_duckdb_and_pandas_give_identical_tables_and_figures(demo_events, monkeypatch):
    params, fast = _load(demo_events, monkeypatch, "duckdb")
    _, slow = _load(demo_events, monkeypatch, "pandas")
    assert fast.tables.keys() == slow.tables.keys()
    for name in fast.tables:
        pd.testing.assert_frame_equal(fast[name], slow[name], check_exact=True)
    assert fast.quality.to_dict() == slow.quality.to_dict()
    usage = fast["usage"]
    assert len(usage) and usage["active_users"].le(usage["key_actions"]).all()
    kw = dict(as_of=pd.Timestamp(params.as_of), weights=params.health.weights,
              bands=params.health.bands, **params.health.measure_options.model_dump())
    scores = [health.health_scores(d["accounts"], usage=d["usage"], surveys=d["surveys"],
                                   tickets=d["tickets"], csm_inputs=d["csm_inputs"], **kw)
              for d in (fast, slow)]
    pd.testing.assert_frame_equal(*scores, check_exact=True)


def test_events_are_counted_per_account_and_month(tmp_path, monkeypatch):
    events = pa.table({
        "acct": ["A", "A", "A", "B", "", "A"],
        "when": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-02-01", "2024-01-05",
                                "2024-01-06", "2024-01-31 23:00"], format="ISO8601"),
        "user": [1, 2, 1, 7, 8, 1],
    })
    for engine in ("duckdb", "pandas"):
        monkeypatch.setenv("PLAYBOOK_EVENTS_ENGINE", engine)
        from playbook.events import aggregate_events

        pq.write_table(events, tmp_path / "ev.parquet")
        tp = load_tp({"account_id": "acct", "month": "when", "user_id": "user"})
        frame, read, rejected, unmapped = aggregate_events("usage", tmp_path / "ev.parquet",
                                                           tp, 0.5)
        assert (read, rejected, unmapped) == (6, 1, [])
        assert frame[["account_id", "active_users", "key_actions"]].values.tolist() == [
            ["A", 2, 3], ["A", 1, 1], ["B", 1, 1]]
        assert frame["month"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02", "2024-01"]
        with pytest.raises(DataError, match="no usable account"):
            aggregate_events("usage", tmp_path / "ev.parquet", tp, 0.1)


def load_tp(columns: dict[str, str]):
    from playbook.config import table_params

    return table_params(file="ev.parquet", layout="events", columns=columns)


def test_csv_events_take_the_pandas_path_with_the_same_result(demo_events, monkeypatch,
                                                              tmp_path):
    root = tmp_path / "csv"
    shutil.copytree(demo_events, root)
    folder = root / "data" / "ev"
    events = pd.read_parquet(folder / "usage_events.parquet")
    events.to_csv(folder / "usage_events.csv", index=False)
    (folder / "usage_events.parquet").unlink()
    params = yaml.safe_load((root / "params" / "ev.yaml").read_text())
    params["tables"]["usage"]["file"] = "usage_events.csv"
    (root / "params" / "ev.yaml").write_text(yaml.safe_dump(params))
    _, from_csv = _load(root, monkeypatch, "duckdb")
    _, from_parquet = _load(demo_events, monkeypatch, "duckdb")
    pd.testing.assert_frame_equal(from_csv["usage"], from_parquet["usage"], check_exact=True)


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_counted_events_sum_their_counts_and_say_nothing_of_users(engine, tmp_path):
    """An export already aggregated by account, month and event type (ChurnSim's
    ``events_by_month.csv``: account_id, month, event_type_id, events) counts each row's
    events as key actions, not one per row; without a user column active users are blank."""
    counted = pd.DataFrame({
        "account_id": ["A", "A", "A", "B", "B"],
        "month": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-01-01",
                                 "2024-01-01"]),
        "event_type_id": [0, 3, 0, 0, 5],
        "events": [50, 41, 7, 0, None]})
    counted.to_parquet(tmp_path / "ev.parquet", index=False)
    from playbook.events import aggregate_events

    tp = load_tp({"account_id": "account_id", "month": "month", "event_count": "events"})
    frame, read, rejected, unmapped = aggregate_events("usage", tmp_path / "ev.parquet", tp,
                                                       0.5, engine=engine)
    want = (counted.assign(events=counted["events"].fillna(0))
            .groupby(["account_id", counted["month"].dt.strftime("%Y-%m")])["events"].sum())
    got = frame.set_index(["account_id", frame["month"].dt.strftime("%Y-%m")])["key_actions"]
    assert got.to_dict() == want.astype("int64").to_dict()
    assert frame["active_users"].isna().all()
    assert (read, rejected, unmapped) == (5, 0, ["event_type_id"])


FEATURE_USAGE_CSV = """\
usage_id,subscription_id,usage_date,feature_name,usage_count,is_beta_feature
U1,S1,2024-01-05,f1,3,False
U2,S1,2024-01-20,f2,2,True
U3,S2,2024-01-07,f1,4,False
U4,S3,2024-02-11,f1,1,False
U5,S3,2024-03-02,f3,5,False
U6,S4,2024-03-09,f1,7,False
"""
SUBSCRIPTIONS_CSV = """\
subscription_id,account_id,seats
S1,A1,10
S2,A1,5
S3,A3,4
S4,A2,8
"""


def test_events_keyed_by_subscription_are_joined_to_their_account_and_filtered(
        client_factory):
    """The RavenStack shape: usage events keyed by subscription, not account. A join to the
    subscriptions file names each event's account; a filter drops beta-feature rows; the
    counts are then per account and month (expected figures counted by hand below)."""
    from tests.conftest import ACCOUNTS_CSV, BASE_PARAMS, MRR_CSV

    params = {**BASE_PARAMS, "tables": {**BASE_PARAMS["tables"], "usage": {
        "file": "feature_usage.csv", "layout": "events",
        "join": [{"file": "subscriptions.csv", "on": "subscription_id",
                  "columns": ["account_id", "seats"]}],
        "filter": [{"column": "is_beta_feature", "equals": "False"}],
        "columns": {"account_id": "account_id", "month": "usage_date",
                    "event_count": "usage_count", "licensed_seats": "seats"}}}}
    client_factory.write(files={"accounts.csv": ACCOUNTS_CSV, "mrr.csv": MRR_CSV,
                                "feature_usage.csv": FEATURE_USAGE_CSV,
                                "subscriptions.csv": SUBSCRIPTIONS_CSV}, params=params)
    data = load_client(load_params("t"))
    usage = data["usage"].set_index(["account_id", "month"])
    got = {(a, m.strftime("%Y-%m")): (int(r["key_actions"]), r["licensed_seats"])
           for (a, m), r in usage.iterrows()}
    # A1 in January: S1's 3 (its beta row of 2 is filtered out) + S2's 4 = 7 actions,
    # seats the largest seen (10); A3: 1 in February, 5 in March; A2: 7 in March
    assert got == {("A1", "2024-01"): (7, 10.0), ("A3", "2024-02"): (1, 4.0),
                   ("A3", "2024-03"): (5, 4.0), ("A2", "2024-03"): (7, 8.0)}
    assert usage["active_users"].isna().all()  # counts of events say nothing of users
    assert any("feature_name" in n.message and "not used" in n.message
               for n in data.quality.notes)
    # the data-quality appendix counts rows of the file, not the events they count
    [load] = [x for x in data.quality.loads if x.table == "usage"]
    # (rows read after the filter, as for any table: the filter's own note counts 5 of 6)
    assert (load.rows_read, load.rows_kept) == (5, 5)
    assert any("filter[0]" in n.message and "5 of 6" in n.message for n in data.quality.notes)


def test_an_unused_usage_file_keyed_by_subscription_points_to_the_join(client_factory):
    from tests.conftest import ACCOUNTS_CSV, BASE_PARAMS, MRR_CSV

    client_factory.write(files={"accounts.csv": ACCOUNTS_CSV, "mrr.csv": MRR_CSV,
                                "feature_usage.csv": FEATURE_USAGE_CSV}, params=BASE_PARAMS)
    notes = [n.message for n in load_client(load_params("t")).quality.notes
             if "feature_usage.csv" in n.message]
    assert len(notes) == 1 and "it is keyed by subscription_id" in notes[0]
    assert "map it with a join to the file that names the account of each subscription_id " \
           "(tables.usage.join" in notes[0]


def test_csv_events_go_through_duckdb_with_the_pandas_table(demo_events, monkeypatch,
                                                            tmp_path):
    """A plain CSV event log (ISO dates, one line per row) is aggregated by DuckDB straight
    from the file, with exactly the table the pandas path makes."""
    from playbook.events import aggregate_events, engine_for, resolve_columns

    root = tmp_path / "csv"
    shutil.copytree(demo_events, root)
    folder = root / "data" / "ev"
    pd.read_parquet(folder / "usage_events.parquet").to_csv(folder / "usage_events.csv",
                                                             index=False)
    (folder / "usage_events.parquet").unlink()
    params = yaml.safe_load((root / "params" / "ev.yaml").read_text())
    params["tables"]["usage"]["file"] = "usage_events.csv"
    (root / "params" / "ev.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setenv("PLAYBOOK_ROOT", str(root))
    tp = load_params("ev").tables["usage"]
    path = folder / "usage_events.csv"
    assert engine_for(path, tp, resolve_columns("usage", path, tp)) == "duckdb-csv"
    fast = aggregate_events("usage", path, tp, 0.1)
    slow = aggregate_events("usage", path, tp, 0.1, engine="pandas")
    pd.testing.assert_frame_equal(fast[0], slow[0], check_exact=True)
    assert fast[1:] == slow[1:]


@pytest.mark.parametrize("shape", ["blank line", "day first", "bom", "semicolons",
                                   "marked count", "tab in id"])
def test_csv_events_duckdb_cannot_read_alike_take_the_pandas_path(shape, tmp_path):
    """Where DuckDB would read a CSV differently from the loader (a blank line shifts the
    line numbers, a day-first date needs the loader's order rules, ...), pandas reads it:
    the file's format is refused before any row is read (a byte-order mark, semicolons),
    a row where DuckDB copies the file in its order (:class:`EventsNotAlikeError`)."""
    from playbook.config import table_params
    from playbook.events import (
        EventsNotAlikeError,
        _with_duckdb,
        aggregate_events,
        engine_for,
        resolve_columns,
    )

    lines = ["account,when,n", "A1,2024-01-05,3", "A2,2024-02-07 10:00:00,4", "A1,,2"]
    if shape == "blank line":
        lines.insert(2, "")
    elif shape == "day first":
        lines[1] = "A1,05/01/2024,3"
    elif shape == "marked count":
        lines[1] = 'A1,2024-01-05,"1,234"'
    elif shape == "tab in id":
        lines[1] = "A1\t,2024-01-05,3"
    elif shape == "semicolons":
        lines = [x.replace(",", ";") for x in lines]
    text = "\n".join(lines) + "\n"
    path = tmp_path / "ev.csv"
    path.write_bytes((b"\xef\xbb\xbf" if shape == "bom" else b"") + text.encode())
    tp = table_params(file="ev.csv", layout="events", columns={
        "account_id": "account", "month": "when", "event_count": "n"})
    columns = resolve_columns("usage", path, tp)
    if shape in ("bom", "semicolons"):
        assert engine_for(path, tp, columns) == "pandas"
    else:
        assert engine_for(path, tp, columns) == "duckdb-csv"
        with pytest.raises(EventsNotAlikeError):
            _with_duckdb(path, tp, columns, csv=True)
        with pytest.raises(EventsNotAlikeError):
            aggregate_events("usage", path, tp, 0.5, fall_back=False)
    got, want = (aggregate_events("usage", path, tp, 0.5, engine=e) for e in (None, "pandas"))
    pd.testing.assert_frame_equal(got[0], want[0], check_exact=True)
    assert got[1:] == want[1:]
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(["account,when,n", "A1,2024-01-05,3",
                                "A2,2024-02-07 10:00:00,4", "A1,,2"]) + "\n")
    assert engine_for(plain, tp, resolve_columns("usage", plain, tp)) == "duckdb-csv"
    fast, slow = (aggregate_events("usage", plain, tp, 0.5, engine=e)
                  for e in ("duckdb-csv", "pandas"))
    pd.testing.assert_frame_equal(fast[0], slow[0], check_exact=True)
    assert fast[1:] == slow[1:] == (3, 1, [])


SPACED_ROWS = [  # cells DuckDB reads as the loader does, once their spaces are trimmed
    ["A1", "2024-01-05", "u1", " 3 "],
    ["  A1  ", "  2024-01-20  ", " u1 ", "2"],  # the same account and user
    ["A1", "2024-01-21  ", "u2", "1"],  # DuckDB's cast alone refuses two trailing spaces
    ["A2", " 2024-02-07T10:00:00 ", "NULL", "4"],  # a blank word: no user
    ["A2", "2024-02-08 10:00", "   ", "  "],  # blank user and count
    [" nan ", "2024-02-08", "u3", "1"],  # a blank word as the account: not counted
    ["A3", "   ", "u1", "1"],  # no date: not counted
    ["A3\u00a0", "", "u1", "1"],  # another space in an account never counted (no date)
    ["A4", "2024-03-01 08:15:30.5", "-", "-1.5"],
]


@pytest.mark.parametrize("odd", [None, ("account", "A1\t"), ("account", "\u00a0A2"),
                                 ("account", "\u3000"), ("user", "u1\u00a0"),
                                 ("date", "2024-1-05"), ("date", "2024-01-05 Z"),
                                 ("date", "2024-01-31 24:00:00"),
                                 ("count", "1e3"), ("count", "3 1")])
def test_csv_cells_duckdb_reads_as_the_loader_or_hands_to_pandas(odd, tmp_path):
    """Spaces around a date, a count, an account or a user are trimmed as the loader trims
    them (DuckDB's cast alone would read some dates otherwise), blank words and blank cells
    are missing: DuckDB's table is pandas' exactly. A cell it would read otherwise (other
    whitespace in a counted account or a user, a date not ISO, a count with more than a
    plain number) hands the file to pandas, with the same table."""
    from playbook.config import table_params
    from playbook.events import (
        EventsNotAlikeError,
        _with_duckdb,
        aggregate_events,
        engine_for,
        resolve_columns,
    )

    rows = [list(r) for r in SPACED_ROWS]
    if odd is not None:
        column = ["account", "date", "user", "count"].index(odd[0])
        rows[0][column] = odd[1]
    path = tmp_path / "ev.csv"
    pd.DataFrame(rows, columns=["account", "when", "user", "n"]).to_csv(path, index=False)
    tp = table_params(file="ev.csv", layout="events", columns={
        "account_id": "account", "month": "when", "user_id": "user", "event_count": "n"})
    columns = resolve_columns("usage", path, tp)
    assert engine_for(path, tp, columns) == "duckdb-csv"
    slow = aggregate_events("usage", path, tp, 0.9, engine="pandas")
    if odd is None:
        fast = _with_duckdb(path, tp, columns, csv=True)
        got = fast[0].sort_values(["account_id", "month"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, slow[0], check_exact=True)
        assert fast[1:] == slow[1:3] == (9, 3)
        # the loader's reading, worked out by hand: A1 in January (3 rows, 2 users, 6
        # actions, first on line 2), A2 in February (no user), A4 in March
        assert slow[0]["account_id"].tolist() == ["A1", "A2", "A4"]
        assert slow[0]["key_actions"].tolist() == [6, 4, 0]
        assert slow[0]["_line"].tolist() == [2, 5, 10]
    else:
        with pytest.raises(EventsNotAlikeError):
            _with_duckdb(path, tp, columns, csv=True)
    got = aggregate_events("usage", path, tp, 0.9)
    pd.testing.assert_frame_equal(got[0], slow[0], check_exact=True)
    assert got[1:] == slow[1:]


def test_a_parquet_account_with_other_whitespace_hands_the_file_to_pandas(tmp_path):
    """A Parquet event file's account with whitespace Python's strip removes and DuckDB's
    trim keeps (a tab) would be another account to DuckDB: pandas reads the file, and the
    tab goes as the loader trims it."""
    got = _parquet_handed_to_pandas(tmp_path, pd.DataFrame({
        "account": ["A1\t", "A1", "A2"],
        "when": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-02-01"]),
        "user": ["u1", "u2", "u1"]}))
    assert got[0]["account_id"].tolist() == ["A1", "A2"]
    assert got[0]["active_users"].tolist() == [2, 1]


def _parquet_events(tmp_path: Path, frame: pd.DataFrame, name: str = "ev.parquet"):
    """``frame`` (account, when, user) written as a Parquet event file: its path, table
    params and resolved columns."""
    from playbook.config import table_params
    from playbook.events import resolve_columns

    path = tmp_path / name
    frame.to_parquet(path, index=False)
    tp = table_params(file=name, layout="events", columns={
        "account_id": "account", "month": "when", "user_id": "user"})
    return path, tp, resolve_columns("usage", path, tp)


def _parquet_handed_to_pandas(tmp_path: Path, frame: pd.DataFrame):
    """DuckDB refuses ``frame`` as a Parquet event file (:func:`_parquet_events`); the
    table ``aggregate_events`` gives instead (pandas')."""
    from playbook.events import EventsNotAlikeError, _with_duckdb, aggregate_events

    path, tp, columns = _parquet_events(tmp_path, frame)
    with pytest.raises(EventsNotAlikeError):
        _with_duckdb(path, tp, columns)
    return aggregate_events("usage", path, tp, 0.5)


def test_the_bench_csv_event_file_is_the_parquet_one_rewritten(demo_events, tmp_path):
    """The CSV benchmark client copies the Parquet one's events (bench/run.py): the same
    bytes as generating the CSV with the same seed."""
    folder = demo_events / "data" / "ev"
    generated = tmp_path / "gen"
    generated.mkdir()
    (generated / "usage_monthly.csv").write_bytes((folder / "usage_monthly.csv").read_bytes())
    _, count = write_usage_events(generated, mean=4.0, fmt="csv")
    rewritten = tmp_path / "rewritten.csv"
    assert parquet_events_as_csv(folder / "usage_events.parquet", rewritten) == count
    assert rewritten.read_bytes() == (generated / "usage_events.csv").read_bytes()


@pytest.mark.parametrize(("fmt", "over_copy"), [("parquet", False), ("csv", True),
                                                 ("csv", False)])
def test_a_large_event_file_aggregated_in_passes_gives_the_one_pass_table(
        fmt, over_copy, demo_events, monkeypatch, tmp_path):
    """Over EVENTS_PER_PASS events DuckDB aggregates one hash bucket of accounts per pass
    (a CSV file first copied in its order to a temporary Parquet file, whose rows hold
    their bucket when the passes are few: ``over_copy``; else the buckets are written
    apart, as for Parquet): the same table, row for row, with the same events read and
    rejected, as one pass and as pandas."""
    from playbook import events as ev

    if fmt == "csv" and not over_copy:
        monkeypatch.setattr(ev, "PASSES_OVER_COPY", 2)
    copied = ev._csv_in_order
    seen: list[int] = []

    def spied(*args, **kwargs):
        out = copied(*args, **kwargs)
        seen.append(out[3])
        return out

    monkeypatch.setattr(ev, "_csv_in_order", spied)

    root = tmp_path / fmt
    shutil.copytree(demo_events, root)
    folder = root / "data" / "ev"
    frame = pd.read_parquet(folder / "usage_events.parquet")
    frame.loc[frame.index[:5], "Account ID"] = ""  # rejected events, counted in each way
    frame.to_parquet(folder / "usage_events.parquet", index=False)
    path = folder / "usage_events.parquet"
    if fmt == "csv":
        frame.to_csv(folder / "usage_events.csv", index=False)
        path.unlink()
        path = folder / "usage_events.csv"
        params = yaml.safe_load((root / "params" / "ev.yaml").read_text())
        params["tables"]["usage"]["file"] = "usage_events.csv"
        (root / "params" / "ev.yaml").write_text(yaml.safe_dump(params))
    monkeypatch.setenv("PLAYBOOK_ROOT", str(root))
    tp = load_params("ev").tables["usage"]
    assert ev.engine_for(path, tp, ev.resolve_columns("usage", path, tp)) == (
        "duckdb-csv" if fmt == "csv" else "duckdb")
    one = ev.aggregate_events("usage", path, tp, 0.1)
    monkeypatch.setattr(ev, "EVENTS_PER_PASS", len(frame) // 7)
    assert ev.event_passes(path, csv=fmt == "csv") >= 7
    passes = ev.aggregate_events("usage", path, tp, 0.1)
    slow = ev.aggregate_events("usage", path, tp, 0.1, engine="pandas")
    pd.testing.assert_frame_equal(passes[0], one[0], check_exact=True)
    pd.testing.assert_frame_equal(passes[0], slow[0], check_exact=True)
    assert passes[1:3] == one[1:3] == slow[1:3] and passes[2] == 5
    # the CSV's passes read its copy's buckets (one per pass), or buckets written apart
    per_pass = len(frame) // 7
    expected = -(-len(frame) // per_pass) if over_copy else 0
    assert seen == ([] if fmt == "parquet" else [0, expected])  # one pass, then passes


def test_running_out_of_memory_says_so_not_that_the_file_is_broken(demo_events, monkeypatch):
    from playbook import events as ev
    from playbook.errors import DataError
    from playbook.quality import QualityLog

    class OutOfMemoryException(Exception):  # noqa: N818 - DuckDB's name, matched by name
        pass

    def fail(*_a, **_k):
        raise OutOfMemoryException("could not allocate block of size 256.0 KiB")

    monkeypatch.setenv("PLAYBOOK_ROOT", str(demo_events))
    tp = load_params("ev").tables["usage"]
    path = demo_events / "data" / "ev" / "usage_events.parquet"
    monkeypatch.setattr(ev, "aggregate_events", fail)
    with pytest.raises(DataError) as raised:
        ev.usage_from_events("usage", path, tp, 0.1, QualityLog())
    text = str(raised.value)
    assert "ran out of memory" in text and "usage_events.parquet" in text
    assert "more memory" in text and "Export the events again" not in text


def _load_without_ahead(root, monkeypatch):
    from playbook import loader

    with monkeypatch.context() as patched:
        patched.setattr(loader, "aggregate_ahead", lambda _params, _pool: None)
        return _load(root, monkeypatch, "duckdb")[1]


def test_events_counted_while_the_other_tables_load_give_the_same_tables_and_log(
        demo_events, tmp_path, monkeypatch):
    from playbook import events as ev

    root = tmp_path / "root"  # the demo's params order: usage fifth of fourteen tables
    shutil.copytree(demo_events, root)
    params = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text())
    params["tables"]["usage"] = {"file": "usage_events.parquet", "layout": "events",
                                 "columns": dict(EVENT_COLUMNS)}
    (root / "params" / "ev.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    canonical = sorted(params["tables"], key=lambda t: t != "accounts")
    assert canonical.index("usage") < len(canonical) - 1

    calls = []
    aggregate = ev.aggregate_events

    def counted(*args, **kwargs):
        calls.append(threading.current_thread().name)
        return aggregate(*args, **kwargs)

    from playbook import loader

    read = []
    load_table = loader.load_table
    monkeypatch.setattr(loader, "load_table", lambda name, *a, **k: read.append(name)
                        or load_table(name, *a, **k))
    monkeypatch.setattr(ev, "aggregate_events", counted)
    _, ahead = _load(root, monkeypatch, "duckdb")
    assert len(calls) == 1 and calls[0].startswith("events")  # once, in the events thread
    # the other tables load meanwhile: usage read last
    assert read == [t for t in canonical if t != "usage"] + ["usage"]
    read.clear()
    plain = _load_without_ahead(root, monkeypatch)
    assert len(calls) == 2 and calls[1] == threading.main_thread().name
    assert read == canonical  # in its turn
    assert list(ahead.tables) == list(plain.tables) == canonical  # the same order
    for name in ahead.tables:
        pd.testing.assert_frame_equal(ahead[name], plain[name], check_exact=True)
    assert ahead.quality.to_dict() == plain.quality.to_dict()


def test_an_event_file_the_pandas_engine_reads_is_not_started_ahead(demo_events, monkeypatch):
    from playbook import events as ev

    calls = []
    aggregate = ev.aggregate_events
    monkeypatch.setattr(ev, "aggregate_events",
                        lambda *a, **k: calls.append(threading.current_thread().name)
                        or aggregate(*a, **k))
    _load(demo_events, monkeypatch, "pandas")
    assert calls == [threading.main_thread().name]


def test_a_broken_event_file_read_ahead_is_reported_as_when_read_in_turn(
        demo_events, tmp_path, monkeypatch):
    root = tmp_path / "root"
    shutil.copytree(demo_events, root)
    events = root / "data" / "ev" / "usage_events.parquet"
    events.write_bytes(events.read_bytes()[: events.stat().st_size // 2])  # cut off
    with pytest.raises(DataError) as ahead:
        _load(root, monkeypatch, "duckdb")
    with pytest.raises(DataError) as plain:
        _load_without_ahead(root, monkeypatch)
    assert str(ahead.value) == str(plain.value)
    assert "usage_events.parquet" in str(ahead.value)


def test_a_failure_while_counting_ahead_is_reported_as_when_counted_in_turn(
        demo_events, monkeypatch):
    from playbook import events as ev

    def fail(*_a, **_k):
        raise RuntimeError(f"boom in {threading.current_thread().name.split('_')[0]}")

    monkeypatch.setattr(ev, "_with_duckdb", fail)
    with pytest.raises(DataError) as ahead:
        _load(demo_events, monkeypatch, "duckdb")
    assert "the event file cannot be read (RuntimeError: boom in events)" in str(ahead.value)
    with pytest.raises(DataError) as plain:
        _load_without_ahead(demo_events, monkeypatch)
    assert str(plain.value) == str(ahead.value).replace("boom in events", "boom in MainThread")


@pytest.mark.parametrize("per_pass", [None, 1_000])
def test_the_events_start_after_mrr_when_one_pass_counts_them(per_pass, demo_events,
                                                              monkeypatch):
    """One pass: mrr is loaded (and its memory handed back) before DuckDB starts; several
    passes (the load's longest task): DuckDB starts at once, before mrr."""
    from playbook import events as ev
    from playbook import loader

    if per_pass is not None:
        monkeypatch.setattr(ev, "EVENTS_PER_PASS", per_pass)
    read, started = [], []
    load_table = loader.load_table
    monkeypatch.setattr(loader, "load_table", lambda name, *a, **k: read.append(name)
                        or load_table(name, *a, **k))
    ahead = loader.aggregate_ahead
    monkeypatch.setattr(loader, "aggregate_ahead", lambda *a: started.append(list(read))
                        or ahead(*a))
    params, data = _load(demo_events, monkeypatch, "duckdb")
    assert ev.events_take_passes(params) is (per_pass is not None)
    assert started == ([["accounts"]] if per_pass else [["accounts", "mrr"]])
    assert len(data["usage"]) and read[-1] == "usage"


def test_no_event_file_takes_no_pass(monkeypatch):
    monkeypatch.setenv("PLAYBOOK_ROOT", str(ROOT))
    from playbook import events as ev

    assert ev.events_take_passes(load_params("demo")) is False  # monthly usage rows


def test_a_csv_read_in_parallel_keeps_its_rows_lines(tmp_path, monkeypatch):
    """DuckDB numbers a CSV file's rows by copying it, in its order, to Parquet:
    read by two threads in small buffers (many chunks out of order), every account-month
    still gets the line of its first event, computed here from the file's own lines."""
    import duckdb
    import numpy as np

    from playbook import events as ev
    from playbook.config import table_params

    rng = np.random.default_rng(7)
    n = 120_000
    accounts = rng.integers(0, 3_000, n)
    days = rng.integers(0, 700, n)
    lines = ["acct,when,user"] + [
        f"A{a:05d},{(pd.Timestamp('2024-01-01') + pd.Timedelta(days=int(d))).date()},u{u}"
        for a, d, u in zip(accounts, days, rng.integers(0, 40, n), strict=True)]
    path = tmp_path / "ev.csv"
    path.write_text("\n".join(lines) + "\n")
    expected = pd.DataFrame({"account_id": [f"A{a:05d}" for a in accounts],
                             "month": (pd.Timestamp("2024-01-01") + pd.to_timedelta(days, "D")
                                       ).to_period("M").to_timestamp(),
                             "_line": np.arange(n) + 2})
    expected = expected.groupby(["account_id", "month"], as_index=False)["_line"].min()
    source = ev._csv_source
    monkeypatch.setattr(ev, "_csv_source", lambda *a: source(*a)[:-1] + ", buffer_size=65536)")
    threads = duckdb.connect

    def connect(*a, **k):
        con = threads(*a, **k)
        con.execute("SET threads = 2")
        return con

    monkeypatch.setattr(duckdb, "connect", connect)
    tp = table_params(file="ev.csv", layout="events",
                      columns={"account_id": "acct", "month": "when", "user_id": "user"})
    frame, read, rejected, _ = ev.aggregate_events("usage", path, tp, 0.1, fall_back=False)
    assert (read, rejected) == (n, 0)
    got = frame[["account_id", "month", "_line"]].astype({"account_id": str})
    pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                  expected.astype({"account_id": str}), check_dtype=False)


def test_a_csv_event_file_duckdb_cannot_parse_gets_the_loaders_error(tmp_path):
    """A row wider than the header: DuckDB's parse error is not shown; the loader's own
    reader reads the file and names the row, as without DuckDB."""
    from playbook.config import table_params
    from playbook.events import aggregate_events

    path = tmp_path / "ev.csv"
    path.write_text("account,when\nA1,2024-01-05\nA2,2024-02-07,x,y\nA1,2024-03-01\n")
    tp = table_params(file="ev.csv", layout="events",
                      columns={"account_id": "account", "month": "when"})
    with pytest.raises(DataError) as fast:
        aggregate_events("usage", path, tp, 0.5)
    with pytest.raises(DataError) as slow:
        aggregate_events("usage", path, tp, 0.5, engine="pandas")
    assert str(fast.value) == str(slow.value)
    assert "line 3" in str(fast.value)


@pytest.mark.parametrize("user", ["u1\u00a0", "\tu1", "u1\t ", "\u3000"])
def test_a_parquet_text_user_with_other_whitespace_hands_the_file_to_pandas(user, tmp_path):
    """A Parquet event file's text user with whitespace Python's strip removes and DuckDB's
    trim keeps would be another user to DuckDB (or, alone, a user where the loader reads a
    blank): pandas reads the file, and the user is trimmed as the loader trims it. By hand:
    A1's January has users u1 and u2 once "u1" is trimmed (or u2 alone when the cell is
    only whitespace), A2's February u1."""
    from playbook.events import _with_duckdb

    events = pd.DataFrame({"account": ["A1", "A1", "A1", "A2"],
                           "when": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-07",
                                                   "2024-02-01"]),
                           "user": [user, "u1" if user.strip() else "u2", "u2", "u1"]})
    got = _parquet_handed_to_pandas(tmp_path, events)
    assert got[0]["account_id"].tolist() == ["A1", "A2"]
    assert got[0]["active_users"].tolist() == [2 if user.strip() else 1, 1]
    assert got[0]["key_actions"].tolist() == [3, 1]
    fast = _with_duckdb(*_parquet_events(
        tmp_path, events.assign(user=["u1", "u1", "u2", "u1"]), "clean.parquet"))
    assert fast[0].sort_values("account_id")["active_users"].tolist() == [2, 1]
    assert "_odd_user" not in fast[0].columns
