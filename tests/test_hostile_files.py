"""Hostile and odd client files: nothing is read outside data/<client>/, nothing is silently
wrong, nothing hangs.

Each test builds one client from the broken-client corpus's healthy base client, changes one
thing and runs ``playbook check`` through the command line (or the loader), then checks the
outcome: a clear error (exit code 2, no traceback, the file and the fix named) or a documented
conversion that the data-quality log states.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from test_broken_clients import Client, base_frames, csv, write

from playbook.cli import main
from playbook.config import load_params
from playbook.loader import load_client
from playbook.profile import TableProfile, format_profile


def check(client: str = "t") -> tuple[int, str]:
    """``playbook check CLIENT``: (exit code, everything printed); never a traceback."""
    result = CliRunner().invoke(main, ["check", client])
    out = result.output
    assert "Traceback" not in out, out
    assert result.exception is None or isinstance(result.exception, SystemExit), out
    return result.exit_code, out


def stopped(client: str = "t") -> str:
    """The message of a check that must stop with a clear error."""
    code, out = check(client)
    assert code == 2, out
    assert "The run stopped" in out and "How to fix" in out, out
    return out


def notes(client: str = "t") -> list[str]:
    """The data-quality notes of a client that loads."""
    return [n.message for n in load_client(load_params(client)).quality.notes]


def other_client(root: Path) -> Path:
    """A second client, ``other``, whose files must never reach client ``t``."""
    other = Client.base()
    other.client = "other"
    other.files["secret.csv"] = "Secret Margin,Secret Owner\n0.71,Pat\n"
    write(root, other)
    return root / "data" / "other"


# --------------------------------------------------------------------------- class 3: paths


@pytest.mark.parametrize("target", ["other-client-file", "etc-passwd", "other-client-folder"])
def test_a_link_leading_out_of_the_client_folder_is_refused(target: str, root: Path):
    other = other_client(root)
    client = Client.base()
    del client.files["churn.csv"]
    write(root, client)
    folder = root / "data" / "t"
    if target == "other-client-folder":
        (folder / "sub").symlink_to(other, target_is_directory=True)
        client.table("churn_events", file="sub/churn.csv")
        write_params_only(root, client)
    else:
        (folder / "churn.csv").symlink_to(other / "churn.csv" if target == "other-client-file"
                                          else Path("/etc/passwd"))
    out = stopped()
    assert "[churn_events]" in out and "churn.csv" in out
    assert "outside the client's folder data/t" in out
    assert "root:" not in out                            # nothing of /etc/passwd shown


def write_params_only(root: Path, client: Client) -> None:
    """Rewrite ``params/<client>.yaml`` (the data folder as it is)."""
    import yaml

    (root / "params" / f"{client.client}.yaml").write_text(
        yaml.safe_dump(client.params, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize("data_dir", ["/etc", "data/other", "data/t/../other", "../outside"])
def test_data_dir_outside_the_client_folder_is_refused(data_dir: str, root: Path):
    other_client(root)
    client = Client.base()
    client.params["client"]["data_dir"] = data_dir
    write(root, client)
    out = stopped()
    assert "client.data_dir" in out and "data/t" in out
    assert "passwd" not in out and "secret.csv" not in out   # no listing of the folder


def test_legitimate_folder_layouts_keep_working(root: Path, tmp_path_factory):
    """``data_dir`` may name a subfolder of data/<client>/, and data/<client> itself may be a
    link to another disk (the folder is resolved first); another client's folder is not."""
    other_client(root)
    client = Client.base()
    client.params["client"]["data_dir"] = "data/t/2024-04"
    write(root, client)
    sub = root / "data" / "t" / "2024-04"
    sub.mkdir()
    for name in ("accounts.csv", "mrr.csv", "churn.csv"):
        (root / "data" / "t" / name).rename(sub / name)
    code, out = check()
    assert code == 0, out
    client.params["client"]["data_dir"] = "data/other"      # the same key, another client
    write_params_only(root, client)
    assert "client.data_dir" in stopped()
    elsewhere = tmp_path_factory.mktemp("disk") / "t"
    os.rename(root / "data" / "t", elsewhere)
    (root / "data" / "t").symlink_to(elsewhere, target_is_directory=True)
    client.params["client"]["data_dir"] = "data/t/2024-04"
    write_params_only(root, client)
    code, out = check()
    assert code == 0, out


def test_unused_file_listing_never_reads_a_link_out_of_the_folder(root: Path):
    other = other_client(root)
    write(root, Client.base())
    (root / "data" / "t" / "leak.csv").symlink_to(other / "secret.csv")
    code, out = check()
    assert code == 0, out
    assert "Secret Margin" not in out and "Secret Owner" not in out
    note = next(n for n in notes() if "leak.csv" in n)
    assert "outside the client's folder" in note and "not read" in note


def _events_parquet(path: Path, accounts: list[str]) -> None:
    frame = pd.DataFrame({"Account ID": accounts,
                          "Event Time": pd.to_datetime(["2024-01-05"] * len(accounts)),
                          "User ID": [f"u{i}" for i in range(len(accounts))]})
    frame.to_parquet(path)


def test_a_broken_event_file_is_a_clear_error(root: Path):
    client = Client.base()
    client.params["tables"]["usage"] = {
        "file": "ev.parquet", "layout": "events",
        "columns": {"account_id": "Account ID", "month": "Event Time"}}
    write(root, client)
    (root / "data" / "t" / "ev.parquet").write_bytes(b"PAR1garbagePAR1")
    out = stopped()
    assert "[usage]" in out and "ev.parquet" in out and "cannot be read" in out


def test_usage_events_are_read_from_the_named_file_only(root: Path):
    """DuckDB expands ``*``, ``?`` and ``[...]`` in a path: 'ev[1].parquet' must not read
    'ev1.parquet'."""
    client = Client.base()
    client.params["tables"]["usage"] = {
        "file": "ev[1].parquet", "layout": "events",
        "columns": {"account_id": "Account ID", "month": "Event Time", "user_id": "User ID"}}
    write(root, client)
    folder = root / "data" / "t"
    _events_parquet(folder / "ev[1].parquet", ["A001", "A002"])
    _events_parquet(folder / "ev1.parquet", ["A003"] * 5)
    usage = load_client(load_params("t"))["usage"]
    assert sorted(usage["account_id"]) == ["A001", "A002"]
    assert usage["key_actions"].sum() == 2


# --------------------------------------------------------------------------- class 4: gaps


def _mrr_without(rows) -> tuple[Client, pd.DataFrame]:
    f = base_frames()
    mrr = f["mrr"]
    kept = mrr.loc[~rows(mrr)]
    client = Client.base(**f)
    client.files["mrr.csv"] = csv(kept)
    return client, mrr


def test_a_missing_month_inside_an_account_series_is_filled_and_logged(root: Path):
    client, mrr = _mrr_without(lambda m: (m["account_id"].eq("A005") & m["month"].eq(
        "2024-02-01")) | (m["account_id"].eq("A006") & m["month"].isin(["2023-10-01",
                                                                         "2023-11-01"])))
    write(root, client)
    code, out = check()
    assert code == 0, out
    data = load_client(load_params("t"))
    note = next(n for n in data.quality.notes if "A005" in n.message)
    assert "2024-02" in note.message and "1 month" in note.message
    assert note.severity == "warning" and note.affects and "A006" not in note.message
    # documented policy: an interior gap of one month is filled with the month before;
    # a longer one is a pause (churn, then reactivation) and stays as it is
    january = float(mrr.loc[mrr["account_id"].eq("A005") & mrr["month"].eq("2024-01-01"),
                            "mrr"].iloc[0])
    got = data["mrr"].set_index(["account_id", "month"])["mrr"]
    assert got[("A005", pd.Timestamp("2024-02-01"))] == january
    assert ("A006", pd.Timestamp("2023-10-01")) not in got.index
    assert ("A006", pd.Timestamp("2023-11-01")) not in got.index
    assert len(got) == len(mrr) - 2


def test_a_month_missing_from_the_whole_export_stops_the_run(root: Path):
    client, _ = _mrr_without(lambda m: m["month"].eq("2024-02-01"))
    write(root, client)
    out = stopped()
    assert "[mrr]" in out and "2024-02" in out and "no row" in out


@pytest.mark.parametrize("policy", ["keep", "error"])
def test_the_gap_policy_is_a_parameter(policy: str, root: Path):
    client, _ = _mrr_without(lambda m: m["account_id"].eq("A005") & m["month"].eq(
        "2024-02-01"))
    client.table("mrr", gaps=policy)
    write(root, client)
    if policy == "error":
        out = stopped()
        assert "A005" in out and "2024-02" in out and "tables.mrr.gaps" in out
        return
    code, out = check()
    assert code == 0, out
    data = load_client(load_params("t"))
    assert not data["mrr"].query("account_id == 'A005'")["month"].eq("2024-02-01").any()
    assert any("A005" in n.message and "2024-02" in n.message for n in data.quality.notes)


# --------------------------------------------------------------------------- class 4: values


def test_utf8_split_at_the_sampling_boundary_is_still_utf8(root: Path):
    f = base_frames()
    marker = "MARKER"
    f["accounts"].loc[0, "Account Name"] = marker
    text = csv(f["accounts"])
    before = len(text[: text.index(marker)].encode("utf-8"))
    name = "x" * ((1 << 20) - 1 - before) + "é" + " Café"    # é straddles byte 1 MiB
    client = Client.base(**f)
    client.files["accounts.csv"] = text.replace(marker, name)
    write(root, client)
    raw = (root / "data" / "t" / "accounts.csv").read_bytes()
    assert raw[(1 << 20) - 1:(1 << 20) + 1] == "é".encode()
    data = load_client(load_params("t"))
    assert data["accounts"]["name"].iloc[0] == name
    assert not any("not UTF-8" in n.message for n in data.quality.notes)


@pytest.mark.parametrize("suffix", ["parquet", "xlsx"])
def test_a_boolean_column_mapped_to_mrr_is_refused(suffix: str, root: Path):
    f = base_frames()
    client = Client.base(**f)
    del client.files["mrr.csv"]
    mrr = f["mrr"].assign(mrr=[i % 2 == 0 for i in range(len(f["mrr"]))]).astype(object)
    buf = io.BytesIO()
    if suffix == "xlsx":
        mrr.loc[3, "mrr"] = None                   # a blank cell among the TRUE/FALSE ones
        mrr.to_excel(buf, index=False)
    else:
        mrr.astype({"mrr": bool}).to_parquet(buf)
    client.files[f"mrr.{suffix}"] = buf.getvalue()
    client.table("mrr", file=f"mrr.{suffix}")
    write(root, client)
    out = stopped()
    assert "[mrr]" in out and "column 'mrr'" in out and "true/false" in out


def test_a_boolean_column_mapped_to_licensed_seats_of_usage_events_is_refused(root: Path):
    client = Client.base()
    client.params["tables"]["usage"] = {
        "file": "ev.parquet", "layout": "events",
        "columns": {"account_id": "Account ID", "month": "Event Time",
                    "licensed_seats": "Is Admin"}}
    write(root, client)
    frame = pd.DataFrame({"Account ID": ["A001", "A002"],
                          "Event Time": pd.to_datetime(["2024-01-05", "2024-01-06"]),
                          "Is Admin": [True, False]})
    frame.to_parquet(root / "data" / "t" / "ev.parquet")
    out = stopped()
    assert "[usage]" in out and "column 'Is Admin'" in out and "true/false" in out


def _arr(values: dict[int, str], **table) -> Client:
    f = base_frames()
    acc = f["accounts"]
    acc["ARR (USD)"] = acc["ARR (USD)"].map(lambda v: f"€{v}")
    for row, value in values.items():
        acc.loc[row, "ARR (USD)"] = value
    client = Client.base(**f)
    return client.table("accounts", **table) if table else client


def test_a_thousands_dot_is_never_silently_read_as_a_decimal(root: Path):
    write(root, _arr({0: "€1.200"}))
    out = stopped()
    assert "column 'ARR (USD)'" in out and "'€1.200'" in out and "thousands" in out
    write(root, _arr({0: "€1.200"}, decimal=",", thousands="."))     # declared: 1,200
    assert load_client(load_params("t"))["accounts"]["arr"].iloc[0] == 1200
    write(root, _arr({0: "€1.200", 1: "€1,500.50"}))                 # the column says 1.2
    data = load_client(load_params("t"))
    assert data["accounts"]["arr"].iloc[0] == 1.2
    note = next(n for n in data.quality.notes if "€1.200" in n.message)
    assert "1.2" in note.message and "thousands" in note.message


def test_time_zone_offsets_are_converted_to_utc_and_logged(root: Path):
    f = base_frames()
    churn = f["churn"]
    churn.loc[0, "churn_date"] = "2024-01-31T23:30:00-05:00"
    churn.loc[1, "churn_date"] = "2024-02-10T10:00:00Z"
    client = Client.base(**f)
    write(root, client)
    data = load_client(load_params("t"))
    got = data["churn_events"].set_index("account_id")["churn_date"]
    assert got[churn.loc[0, "account_id"]] == pd.Timestamp("2024-02-01 04:30")
    assert got[churn.loc[1, "account_id"]] == pd.Timestamp("2024-02-10 10:00")
    note = next(n for n in data.quality.notes if "UTC" in n.message)
    assert "2 values carry a time zone" in note.message
    assert "2024-01-31T23:30:00-05:00" in note.message


def test_placeholder_dates_are_blank_and_implausible_dates_are_named(root: Path):
    f = base_frames()
    acc = f["accounts"]
    acc.loc[0, "Renewal Date"] = "9999-12-31"
    acc.loc[1, "Renewal Date"] = "1900-01-01"
    acc.loc[2, "Customer Since"] = "2999-06-15"
    write(root, Client.base(**f))
    code, out = check()
    assert code == 0, out
    data = load_client(load_params("t"))
    renewal = data["accounts"].set_index("account_id")["renewal_date"]
    assert renewal[["A001", "A002"]].isna().all()
    messages = [n.message for n in data.quality.notes]
    assert any("2 placeholder dates" in m and "9999-12-31" in m for m in messages), messages
    assert any("Customer Since" in m and "outside the plausible range" in m
               and "2999-06-15" in m for m in messages), messages
    assert "A003" not in set(data["accounts"]["account_id"])
    acc.loc[:5, "Customer Since"] = "1900-06-15"                      # too many: stop
    write(root, Client.base(**f))
    out = stopped()
    assert "outside the plausible range" in out and "'1900-06-15'" in out


# --------------------------------------------------------------------------- class 5: limits


def _accounts_xlsx(extra_cell: str, dimension: str | None = None) -> bytes:
    """The base accounts as a sheet, plus one cell far away (and optionally a lying
    ``<dimension>`` tag)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    acc = base_frames()["accounts"]
    ws.append(list(acc.columns))
    for row in acc.itertuples(index=False):
        ws.append(list(row))
    ws[extra_cell] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    if dimension is None:
        return buf.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                start = data.index(b"<dimension")
                end = data.index(b"/>", start) + 2
                data = data[:start] + f'<dimension ref="{dimension}"/>'.encode() + data[end:]
            dst.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize("cell,dimension,limit", [
    ("XFD1", None, "16,384 columns"), ("XFD1", "A1:H41", "16,384 columns"),
    ("ALL20000", None, "20,000,000 cells")])
def test_an_oversized_excel_sheet_is_refused_before_it_is_read(cell, dimension, limit,
                                                               root: Path):
    client = Client.base()
    del client.files["accounts.csv"]
    client.files["accounts.xlsx"] = _accounts_xlsx(cell, dimension)
    client.table("accounts", file="accounts.xlsx")
    write(root, client)
    out = stopped()
    assert "[accounts]" in out and "accounts.xlsx" in out and limit in out


def test_a_csv_header_with_too_many_columns_is_refused(root: Path):
    f = base_frames()
    acc = f["accounts"]
    wide = pd.concat([acc, pd.DataFrame({f"extra {i}": [""] * len(acc) for i in range(1000)})],
                     axis=1)
    client = Client.base(**f)
    client.files["accounts.csv"] = csv(wide)
    write(root, client)
    out = stopped()
    assert "[accounts]" in out and "1,008 columns" in out and "1,000" in out


def test_a_header_line_longer_than_the_limit_is_refused(root: Path):
    client = Client.base()
    text = client.files["accounts.csv"]
    client.files["accounts.csv"] = text.replace("\n", "," + "y" * (2 << 20) + "\n", 1)
    write(root, client)
    out = stopped()
    assert "[accounts]" in out and "line 1" in out and "1 MiB" in out
    assert len(out) < 10_000


def test_unused_files_with_an_oversized_header_are_listed_without_their_header(root: Path):
    write(root, Client.base())
    folder = root / "data" / "t"
    (folder / "wide.csv").write_text(",".join(f"c{i}" for i in range(5000)) + "\n1\n")
    code, out = check()
    assert code == 0, out
    note = next(n for n in notes() if "wide.csv" in n)
    assert "c4999" not in note and "5,000 columns" in note


def test_the_profile_shows_long_names_and_values_shortened_on_short_lines():
    long_name, long_value = "N" * 300_000, "V" * 300_000
    prof = TableProfile("accounts", "accounts.csv", 3, unmapped=[long_name, "Colour"],
                        wrong=[f"segment: one value only ('{long_value}') in 40 rows"])
    text = format_profile([prof])
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert len(text) < 2_000 and "Colour" in text and "…" in text
    assert "one value only" in text


def test_detect_encoding_reads_only_a_sample(tmp_path: Path):
    """A UTF-8 file cut inside a character at the end of the sample is UTF-8; a file that
    really ends inside a character is not."""
    from playbook.sniff import detect_encoding

    path = tmp_path / "f.csv"
    path.write_bytes(b"a" * ((1 << 20) - 1) + "é".encode() + b"\n")
    assert detect_encoding(path) == "utf-8-sig"
    path.write_bytes(b"a" * 10 + "é".encode()[:1])
    assert detect_encoding(path) == "cp1252"


def test_parquet_with_too_many_columns_is_refused(root: Path):
    client = Client.base()
    del client.files["churn.csv"]
    churn = base_frames()["churn"]
    table = pa.table({**{c: churn[c].tolist() for c in churn.columns},
                      **{f"x{i}": [0] * len(churn) for i in range(1001)}})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    client.files["churn.parquet"] = buf.getvalue()
    client.table("churn_events", file="churn.parquet")
    write(root, client)
    out = stopped()
    assert "[churn_events]" in out and "1,005 columns" in out and "1,000" in out


def test_the_scaffold_reads_no_link_out_of_the_folder_and_no_oversized_sheet(root: Path):
    from playbook.scaffold import scaffold_client

    other = other_client(root)
    write(root, Client.base())
    folder = root / "data" / "t"
    (folder / "leak.csv").symlink_to(other / "secret.csv")
    (folder / "wide.xlsx").write_bytes(_accounts_xlsx("XFD1"))
    proposal = scaffold_client("t")
    text = proposal.yaml_text() + proposal.summary()
    assert "Secret Margin" not in text and "Secret Owner" not in text
    assert any("leak.csv" in k and "outside" in k for k in proposal.skipped), proposal.skipped
    assert any("wide.xlsx" in k and "16,384 columns" in k for k in proposal.skipped)


def test_cache_key_and_manifest_never_read_a_link_out_of_the_folder(root: Path):
    from playbook import cache, render_manifest

    other = other_client(root)
    write(root, Client.base())
    folder = root / "data" / "t"
    (folder / "leak.csv").symlink_to(other / "secret.csv")
    params = load_params("t")
    assert [p.name for p in cache.input_files(params)] == ["accounts.csv", "churn.csv",
                                                            "mrr.csv"]
    assert [p.name for p in render_manifest.files_under(folder)] == [
        "accounts.csv", "churn.csv", "mrr.csv"]


def test_the_delimiter_detector_sees_a_bounded_sample(root: Path, tmp_path: Path):
    """The delimiter is decided on the first 8 KiB (whole lines) only, so a hostile line of
    80 KB of ',"' costs nothing, and what lies beyond the sample never decides."""
    from playbook.sniff import SNIFF_CHARS, detect_delimiter

    head = "a;b;c\n" + "1;2;3\n" * 100
    assert len(head) < SNIFF_CHARS
    path = tmp_path / "sample.csv"
    path.write_text(head + "1,2,3,4,5,6,7,8\n" * 20_000, encoding="utf-8")
    assert detect_delimiter(path, "utf-8") == ";"
    client = Client.base()
    text = client.files["accounts.csv"]
    client.files["accounts.csv"] = text.replace("\n", "\n" + ',"' * 40_000 + "\n", 1)
    write(root, client)
    check()  # the hostile line is rejected as a ragged row or read: never a hang


@pytest.mark.parametrize("name,content", [
    ("accounts.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),  # old format
    ("accounts.xlsx", b"PK\x03\x04garbage" * 10),                          # not a zip
])
def test_an_old_or_broken_excel_file_is_a_clear_error(name: str, content: bytes, root: Path):
    client = Client.base()
    del client.files["accounts.csv"]
    client.files[name] = content
    client.table("accounts", file=name)
    write(root, client)
    out = stopped()
    assert "[accounts]" in out and name in out and ".xlsx" in out
