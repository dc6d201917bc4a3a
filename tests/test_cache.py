"""The run's data cache: validated tables stored once, read back identical, keyed safely."""

from __future__ import annotations

import hashlib
import os

import pandas as pd

from playbook import cache, client_data, loader, session
from playbook.config import load_params


def test_cached_tables_and_quality_log_are_identical(client_factory, tmp_path):
    params = load_params(client_factory.write())
    data = loader.load_client(params)
    cache.store(params, data, tmp_path / "cache")
    again = cache.lookup(params, tmp_path / "cache")
    assert again is not None and again.tables.keys() == data.tables.keys()
    for name in data.tables:
        pd.testing.assert_frame_equal(again[name], data[name], check_exact=True)
    assert again.quality.to_dict() == data.quality.to_dict()
    assert again.files == data.files and again.client == data.client


def test_a_store_that_releases_writes_one_table_at_a_time_and_lets_each_go(
        client_factory, tmp_path, monkeypatch):
    """The loading child's store (release=True): the same entry, each table out of
    ``data.tables`` before the next is written, the smallest first."""
    params = load_params(client_factory.write())
    kept = loader.load_client(params)
    data = loader.load_client(params)
    sizes = {name: frame.memory_usage(deep=True).sum() for name, frame in data.tables.items()}
    written = []
    real = cache.write_table
    monkeypatch.setattr(cache, "write_table", lambda frame, path: written.append(
        (path.stem, set(data.tables))) or real(frame, path))
    cache.store(params, data, tmp_path / "cache", release=True)
    assert data.tables == {}
    assert [name for name, _ in written] == sorted(sizes, key=lambda n: sizes[n])
    for position, (_, alive) in enumerate(written):
        # the one being written and those before it are gone; the rest wait
        assert alive == {n for n, _ in written[position + 1:]}
    again = cache.lookup(params, tmp_path / "cache")
    assert again is not None and list(again.tables) == list(kept.tables)
    for name in kept.tables:
        pd.testing.assert_frame_equal(again[name], kept[name], check_exact=True)
    assert again.quality.to_dict() == kept.quality.to_dict()


def test_key_follows_parameters_and_file_contents(client_factory):
    client = client_factory.write()
    key = cache.cache_key(load_params(client))
    assert cache.cache_key(load_params(client, period="2024-Q2")) != key
    (client_factory.root / "data" / client / "mrr.csv").write_text(
        "account_id,month,mrr\nA1,2024-01-01,1001\n")
    assert cache.cache_key(load_params(client)) != key


def test_the_cache_folder_passed_to_a_notebook_is_read_instead_of_the_raw_files(
        client_factory, tmp_path, monkeypatch):
    client = client_factory.write()
    params = load_params(client)
    calls = []
    real = loader._load_client
    monkeypatch.setattr(loader, "_load_client",
                        lambda p, scratch=None, done=None: calls.append(1)
                        or real(p, scratch, done))
    folder = tmp_path / "cache"
    cache.store(params, loader.load_client(params), folder)
    first = session.start("01-revenue", client=client, data_cache=str(folder)).data
    assert len(calls) == 1  # the store above; start() read the cache
    second = session.start("01-revenue", client=client).data  # interactive: raw files
    assert len(calls) == 2
    pd.testing.assert_frame_equal(first["mrr"], second["mrr"])


def test_a_notebook_reads_only_the_tables_it_uses(client_factory, tmp_path, monkeypatch):
    params = load_params(client_factory.write())
    data = loader.load_client(params)
    cache.store(params, data, tmp_path / "cache")
    reads = []
    real = client_data.read_table_in_place
    monkeypatch.setattr(client_data, "read_table_in_place",
                        lambda path: reads.append(path) or real(path))
    again = cache.lookup(params, tmp_path / "cache")
    assert reads == [] and again.tables.loaded() == []
    # membership, row counts and emptiness are answered from the entry's record
    assert set(again.tables) == set(data.tables) and "mrr" in again.tables
    assert "no_such_table" not in again.tables and again.get("no_such_table") is None
    assert {n: again.rows(n) for n in data.tables} == {n: len(f) for n, f in data.tables.items()}
    assert again.has("accounts", "mrr") and again.missing("no_such_table") == ["no_such_table"]
    assert reads == []
    first = again["mrr"]
    assert again["mrr"] is first  # read once, then kept
    assert [p.name for p in reads] == ["mrr.arrow"] and again.tables.loaded() == ["mrr"]


def test_a_kernel_finds_the_entry_without_hashing_and_misses_a_changed_file(
        client_factory, tmp_path, monkeypatch):
    client = client_factory.write()
    params = load_params(client)
    folder = tmp_path / "cache"
    entry = cache.store(params, loader.load_client(params), folder)
    hashed = []
    real = hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda handle, name: hashed.append(
        handle.name) or real(handle, name))
    assert cache.find_entry(load_params(client), folder) == entry
    assert session.start("01-revenue", client=client, data_cache=str(folder)).ctx.shared \
        == entry / cache.SHARED
    assert hashed == []
    # other parameters: no entry
    assert cache.find_entry(load_params(client, period="2024-Q2"), folder) is None
    # the same bytes written again (a new modification time): no entry either
    mrr = client_factory.root / "data" / client / "mrr.csv"
    st = mrr.stat()
    os.utime(mrr, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert cache.find_entry(load_params(client), folder) is None
