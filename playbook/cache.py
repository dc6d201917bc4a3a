"""Validated canonical tables cached for one run, so each notebook does not load again.

A report runs several notebooks, and each one calls :func:`playbook.session.start`, which
loads and validates all of the client's data. The render step loads the data once (it
validates before starting any kernel anyway), writes the canonical tables here as Arrow
IPC files (:mod:`playbook.table_files`: mapped, not decoded, by each kernel) with the
quality log beside them, and passes the folder to every notebook as the papermill
parameter ``data_cache``; :func:`playbook.session.start` then reads the cache
(:func:`lookup`) instead of parsing the raw files again.

An entry is keyed by the parameters (everything :meth:`Params.as_dict` records, with the
reporting period as resolved dates rather than as written: the render step reads
``as_of`` from the params file while its kernels are passed it explicitly) and the
SHA-256 of every file in the client's folder, so a notebook run with other parameters or
on changed files never gets another run's tables: it misses, and loads as usual. A kernel
finds the entry without hashing the files again (:func:`find_entry`): the entry records the
parameters and each file's state (size, modification time, inode), and a file changed since
has another. The cache lives in the run's staging folder and is removed before the report
is published.

Intermediates several notebooks share (the renewal model's table, fit and out-of-fold
quality: :class:`playbook.context.AnalysisContext`) are computed once for the run too: the
first kernel to need one computes it and pickles it into the entry's :data:`SHARED` folder
(:func:`playbook.once.computed_once`), holding a lock meanwhile, so a kernel that asks at
the same time waits and reads it rather than computing it again. They live and go with the
entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from playbook import paths
from playbook.checksums import file_sha256, file_state
from playbook.client_data import ClientData, StoredTables
from playbook.config import Params
from playbook.memory import release_memory
from playbook.storage import writing
from playbook.table_files import SUFFIX, write_table

#: Bumped when the stored layout or the loader's output changes (3: Arrow IPC files).
FORMAT = 3
#: The folder of an entry holding the intermediates computed once for the run.
SHARED = "shared"


def input_files(params: Params) -> list[Path]:
    """Every file the loader may read: all non-hidden files in the client's folder
    (:func:`playbook.paths.client_files`: a link leading out of it is never read, so it
    is not hashed either)."""
    return paths.client_files(params.data_path())


def key_settings(params: Params) -> dict[str, Any]:
    """The parameters a cache entry depends on, as a JSON-friendly dict.

    The period enters only as resolved (``derived``: start, as-of date, label): the texts
    ``period.period`` and ``period.as_of`` are dropped, so ``as_of: ""`` in the params file
    and ``as_of="2026-09-30"`` passed to a notebook give the same key when they resolve to
    the same day.
    """
    settings = params.as_dict()
    settings["period"] = {k: v for k, v in settings.get("period", {}).items()
                          if k not in ("period", "as_of")}
    return settings


def _settings_text(params: Params) -> str:
    settings = {"format": FORMAT, "client": params.client_id, "params": key_settings(params)}
    return json.dumps(settings, sort_keys=True, default=str)


def cache_key(params: Params) -> str:
    """SHA-256 of the parameters (:func:`key_settings`) and of every input file."""
    digest = hashlib.sha256()
    digest.update(_settings_text(params).encode())
    for path in input_files(params):
        digest.update(f"\n{path.name}\t{file_sha256(path)}".encode())
    return digest.hexdigest()


def input_stamp(params: Params) -> dict[str, Any]:
    """What a kernel checks an entry against without hashing the files again: the
    parameters as :func:`cache_key` has them, and each input file's name and state
    (:func:`~playbook.checksums.file_state`: device, inode, size, modification and change
    times), as git's index tells a changed file from an unchanged one."""
    return {"settings": _settings_text(params),
            "files": [[p.name, *file_state(p)] for p in input_files(params)]}


def store(params: Params, data: ClientData, folder: Path, key: str | None = None, *,
          release: bool = False) -> Path:
    """Write ``data`` as the cache entry for ``params`` under ``folder``; returns the entry.

    Written to a temporary folder and renamed, so a reader never sees half an entry. When
    the disk is full (or the folder cannot be written) the temporary folder is removed and
    a :class:`~playbook.errors.StorageError` says where, how much space is free and what
    to do.

    ``release=True`` is for a process that stores its data and ends (the loading child,
    :func:`playbook.loading.load_and_store`): the tables are written one at a time, the
    smallest first, and each is taken out of ``data.tables`` (and its memory handed back)
    once written, so the copy a large table's text needs to become one chunk
    (:func:`~playbook.table_files.write_table`) is made once the other tables are gone (at
    1,000,000 accounts, writing two at a time with every table kept was the load's peak).
    ``data.tables`` is empty afterwards.
    """
    key = key or cache_key(params)
    entry = folder / key
    if entry.is_dir():
        return entry
    tmp = folder / f".{key}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    with writing(entry, "the run's data cache (the validated tables as Arrow files)",
                 hint="The run stopped before any notebook ran; the previous report is "
                 "untouched."):
        try:
            _write_entry(tmp, data, input_stamp(params), release=release)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    try:
        os.replace(tmp, entry)
    except OSError:  # another process stored the same entry first
        shutil.rmtree(tmp, ignore_errors=True)
    return entry


def _write_entry(tmp: Path, data: ClientData, stamp: dict[str, Any], *,
                 release: bool = False) -> None:
    """The files of one entry: an Arrow IPC file per table (:func:`playbook.table_files.
    write_table`) and ``meta.pickle`` (with the inputs' :func:`input_stamp`); ``release``:
    as in :func:`store`."""
    tmp.mkdir(parents=True)
    sizes = {name: int(frame.memory_usage(deep=True).sum())
             for name, frame in data.tables.items()}
    meta = {"client": data.client, "tables": list(data.tables), "quality": data.quality,
            "files": data.files, "rows": {name: len(frame) for name, frame in data.tables.items()},
            "bytes": sum(sizes.values()), "stamp": stamp}
    if release:
        tables = data.tables
        if not isinstance(tables, dict):
            raise TypeError("store(release=True) takes the tables out of a dict of frames")
        release_memory(collect=False)  # what the load freed, before the first copy
        for name in sorted(sizes, key=sizes.__getitem__):
            write_table(tables.pop(name), tmp / f"{name}{SUFFIX}")
            release_memory(collect=False)
    else:
        # two at a time: joining a table's pieces and writing it mostly run outside the GIL
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="store") as pool:
            list(pool.map(lambda item: write_table(item[1], tmp / f"{item[0]}{SUFFIX}"),
                          data.tables.items()))
    with (tmp / "meta.pickle").open("wb") as handle:
        pickle.dump(meta, handle, protocol=pickle.HIGHEST_PROTOCOL)


def lookup(params: Params, folder: Path, key: str | None = None) -> ClientData | None:
    """The cached :class:`ClientData` for ``params`` (None when there is no entry); its
    tables are :class:`~playbook.client_data.StoredTables`, read when first used, so a
    notebook holds only the tables it reads. Without ``key`` the entry is found by
    :func:`find_entry` (no file hashed)."""
    entry = folder / key if key else find_entry(params, folder)
    return read_entry(entry) if entry is not None else None


def find_entry(params: Params, folder: Path) -> Path | None:
    """The entry under ``folder`` stored for these parameters and these input files, as
    they are now (:func:`input_stamp`: a file changed since has another state), or None.
    This is how a run's kernels find its data: by a ``stat`` of each file, where
    :func:`cache_key` hashes every byte again."""
    if not folder.is_dir():
        return None
    stamp = None
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or not (entry / "meta.pickle").is_file():
            continue
        stamp = stamp or input_stamp(params)
        with (entry / "meta.pickle").open("rb") as handle:
            meta = pickle.load(handle)  # noqa: S301 - written by this run, in its own folder
        if meta.get("stamp") == stamp:
            return entry
    return None


def read_entry(entry: Path, *, share_results: bool = False) -> ClientData | None:
    """The :class:`ClientData` of the cache entry ``entry`` (None when it has none).

    ``share_results``: the entry is a run's, read by one of its kernels; results kept from
    its tables ``across_kernels`` (:func:`playbook.read_only.kept_result`) are then
    computed once for the run, in the entry's :func:`shared_folder`. Off for an entry
    kept between runs (a benchmark's profile), whose shared folder would outlive the code
    that filled it."""
    if not (entry / "meta.pickle").is_file():
        return None
    with (entry / "meta.pickle").open("rb") as handle:
        meta = pickle.load(handle)  # noqa: S301 - written by this run, in its own folder
    tables = StoredTables(entry, {name: meta["rows"][name] for name in meta["tables"]},
                          shared=shared_folder(entry) if share_results else None)
    return ClientData(meta["client"], tables, meta["quality"], meta["files"])


def table_bytes(entry: Path) -> int:
    """The memory (bytes, pandas' deep count) the tables of the cache entry ``entry`` took
    when they were stored: what a notebook reading them all holds."""
    with (entry / "meta.pickle").open("rb") as handle:
        return int(pickle.load(handle)["bytes"])  # noqa: S301 - written by this run


def shared_folder(entry: Path) -> Path:
    """The :data:`SHARED` folder of the cache entry ``entry``."""
    return entry / SHARED
