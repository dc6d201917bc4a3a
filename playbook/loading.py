"""The client's data loaded, validated and stored for the kernels by a child process.

Loading and validating holds several times the tables' size at its peak (raw text, the
checks' copies, DuckDB's buffers), and a process does not give all of that back once it is
done: at 100,000 accounts the render process kept about 220 MB beyond its imports after
storing the tables, at 1,000,000 accounts a few GB, for the whole time the kernels ran
beside it. :class:`LoadingChild` does the work in a forked child instead, which stores the
run's cache entry (:func:`playbook.cache.store`) in a folder of its own and exits; the render
process only moves the finished entry into the run's scratch folder (:meth:`Loaded.move_into`).

A failure in the child reaches the caller as the same exception, raised by
:meth:`LoadingChild.result` (:mod:`playbook.forked`: a :class:`~playbook.errors.DataError`
still names the file, column and rows). Where a child cannot be forked the work runs in
this process, with the same result.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playbook import checksums
from playbook.config import Params
from playbook.forked import ForkedCall, can_fork
from playbook.render_publish import report_storage_error


@dataclass(frozen=True)
class Loaded:
    """A run's data, loaded and stored: the cache ``entry`` (a folder under a temporary
    folder of its own), the seconds loading and validating took (``load_seconds``), the
    seconds storing took (``store_seconds``), the checksums of the files read
    (``digests``, :func:`playbook.checksums.known_digests`) and the memory the tables took
    in pandas (``table_bytes``, :func:`playbook.cache.table_bytes`)."""

    entry: Path
    load_seconds: float
    store_seconds: float
    digests: dict[tuple[int, ...], str] = field(default_factory=dict)
    table_bytes: int = 0

    def move_into(self, folder: Path) -> Path:
        """Move the entry into ``folder`` (created if missing; same file system: a rename)
        and remove its temporary folder; returns the entry's new path."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / self.entry.name
        shutil.move(str(self.entry), str(target))
        shutil.rmtree(self.entry.parent, ignore_errors=True)
        return target


def load_and_store(params: Params, folder: Path,
                   beside_done: Callable[[], None] | None = None,
                   check: Callable[[Params], None] | None = None) -> Loaded:
    """Load and validate the client's data (:func:`playbook.loader.load_client`, half of
    the tables in a forked child where it can, which leaves them under ``folder``; it calls
    ``beside_done()`` once that half is done) and store it as a cache entry under
    ``folder`` (:func:`playbook.cache.store`). ``check(params)`` runs first: settings that
    only the analysis code can check, imported here anyway."""
    # imported here, in the child: the render process does not hold pandas, pyarrow and
    # the loader (about 110 MB) while its kernels run
    from playbook import cache
    from playbook.loader import load_client

    if check is not None:
        check(params)
    tick = time.perf_counter()
    data = load_client(params, scratch=folder, beside_done=beside_done)
    loaded = time.perf_counter()
    # this process ends once the entry is stored: each table goes once written
    entry = cache.store(params, data, folder, release=True)
    return Loaded(entry, round(loaded - tick, 2), round(time.perf_counter() - loaded, 2),
                  checksums.known_digests(), cache.table_bytes(entry))


class LoadingChild:
    """:func:`load_and_store` of ``params`` run in a forked child
    (:class:`playbook.forked.ForkedCall`; in this process where a fork is not possible); a
    context manager that, on leaving, stops the child and removes its temporary folder,
    with the entry in it unless :meth:`Loaded.move_into` moved it out (a run that fails
    between loading and caching, e.g. at another run's lock, leaves nothing behind).

    Fork it before any thread starts in this process (the render process forks it before
    its kernels' workers start). ``folder`` is where the temporary folder goes: put it on
    the file system of the run's scratch folder, so :meth:`Loaded.move_into` is a rename.
    :meth:`wait_for_one_process` tells when the load is down to one process (the half of
    the tables loaded beside is done): the render step starts its kernels then.
    ``check(params)`` runs in the child before the load (:func:`load_and_store`); its error
    is raised by :meth:`result`.
    """

    def __init__(self, params: Params, folder: Path, *, fork: bool | None = None,
                 check: Callable[[Params], None] | None = None) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=".loading-", dir=folder))
        except OSError as exc:
            raise report_storage_error(exc, folder) from exc
        # one byte on this pipe: the tables loaded beside are done (its end of file: every
        # process that could write it ended); no pipe when the load runs in this process
        forks = can_fork() if fork is None else fork
        self._one_process, write = os.pipe() if forks else (None, None)
        self._call = ForkedCall(load_and_store, params, self.tmp,
                                None if write is None else functools.partial(_say_done, write),
                                check, what="Loading the data", fork=forks)
        if write is not None:
            os.close(write)  # the children hold it: this process never writes it

    def wait_for_one_process(self, timeout: float | None = None) -> bool:
        """Wait until the load runs in one process: the loading child's own child (which
        loads half of the tables beside it) is done, or the loading child ended, or there
        is no child (the load then runs in this process, in :meth:`result`). True when so,
        False when ``timeout`` seconds passed first."""
        if self._one_process is None:
            return True
        return bool(select.select([self._one_process], [], [], timeout)[0])

    def __enter__(self) -> LoadingChild:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def process(self) -> Any:
        """The child process (None when the work runs in this process)."""
        return self._call.process

    def result(self) -> Loaded:
        """Wait for the child; the stored data, or the child's error raised here. The
        checksums the child computed are kept here (the manifest does not read the input
        files again)."""
        loaded = self._call.result()
        checksums.remember(loaded.digests)
        return loaded

    def close(self) -> None:
        """Stop the child if it still runs; remove its temporary folder and what is left
        in it."""
        self._call.stop()
        if self._one_process is not None:
            with contextlib.suppress(OSError):
                os.close(self._one_process)
            self._one_process = None
        shutil.rmtree(self.tmp, ignore_errors=True)


def _say_done(fd: int) -> None:
    """Write the byte :meth:`LoadingChild.wait_for_one_process` waits for (in a child)."""
    with contextlib.suppress(OSError):
        os.write(fd, b"1")
