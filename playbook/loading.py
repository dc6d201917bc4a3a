"""The client's data loaded, validated and stored for the kernels by a child process.

Loading and validating holds several times the tables' size at its peak (raw text, the
checks' copies, DuckDB's buffers), and a process does not give all of that back once it is
done: at 100,000 accounts the render process kept about 220 MB beyond its imports after
storing the tables, at 1,000,000 accounts a few GB, for the whole time the kernels ran
beside it. :class:`LoadingChild` does the work in a forked child instead, which stores the
run's cache entry (:func:`playbook.cache.store`) in a folder of its own and exits; the render
process only moves the finished entry into the run's scratch folder (:meth:`Loaded.move_into`).

A failure in the child reaches the caller as the same exception (its class, message and
attributes: a :class:`~playbook.errors.DataError` still names the file, column and rows),
raised by :meth:`LoadingChild.result`. Where a child cannot be forked (no ``fork`` start
method, or a daemonic process such as a Dask worker, which may not start children) the
work runs in this process, with the same result.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playbook import cache
from playbook.config import Params
from playbook.errors import RenderError
from playbook.loader import load_client
from playbook.render_publish import report_storage_error


@dataclass(frozen=True)
class Loaded:
    """A run's data, loaded and stored: the cache ``entry`` (a folder under a temporary
    folder of its own), the seconds loading and validating took (``load_seconds``) and the
    seconds storing took (``store_seconds``)."""

    entry: Path
    load_seconds: float
    store_seconds: float

    def move_into(self, folder: Path) -> Path:
        """Move the entry into ``folder`` (created if missing; same file system: a rename)
        and remove its temporary folder; returns the entry's new path."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / self.entry.name
        shutil.move(str(self.entry), str(target))
        shutil.rmtree(self.entry.parent, ignore_errors=True)
        return target


class ChildTraceback(Exception):
    """The traceback of an unexpected error in the loading child, as text (the cause of
    the error :meth:`LoadingChild.result` raises)."""


def load_and_store(params: Params, folder: Path) -> Loaded:
    """Load and validate the client's data (:func:`playbook.loader.load_client`) and store
    it as a cache entry under ``folder`` (:func:`playbook.cache.store`)."""
    tick = time.perf_counter()
    data = load_client(params)
    loaded = time.perf_counter()
    entry = cache.store(params, data, folder)
    return Loaded(entry, round(loaded - tick, 2), round(time.perf_counter() - loaded, 2))


def can_fork() -> bool:
    """True when this process may fork a loading child (Linux's ``fork`` start method, and
    not a daemonic process)."""
    return ("fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon)


class LoadingChild:
    """:func:`load_and_store` of ``params`` run in a forked child (or here, see the module);
    a context manager that removes what the child left unless :meth:`result` was taken.

    Fork it before any thread starts in this process (the render process forks it before
    its kernels' workers start): the child runs only this module's code and the loader's.
    ``folder`` is where the temporary folder goes: put it on the file system of the run's
    scratch folder, so :meth:`Loaded.move_into` is a rename.
    """

    def __init__(self, params: Params, folder: Path, *, fork: bool | None = None) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=".loading-", dir=folder))
        except OSError as exc:
            raise report_storage_error(exc, folder) from exc
        self._outcome: tuple[str, Any] | None = None
        self._taken = False
        self._process = None
        self._params: Params | None = None
        if not (can_fork() if fork is None else fork):
            self._params = params  # loaded here when the result is asked for
            return
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_child_main, args=(params, self.tmp, send),
                                        name="playbook-loader", daemon=False)
        self._process.start()
        send.close()

    def __enter__(self) -> LoadingChild:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def result(self) -> Loaded:
        """Wait for the child; the stored data, or the child's error raised here."""
        if self._outcome is None and self._process is None:
            self._outcome = _outcome_of(self._params, self.tmp)
        if self._outcome is None:
            try:
                self._outcome = self._receive.recv()
            except EOFError:
                self._process.join()
                self._outcome = ("lost", self._process.exitcode)
            self._process.join()
        kind, value = self._outcome
        if kind == "ok":
            self._taken = True
            return value
        if kind == "lost":
            raise RenderError(
                f"Loading the data stopped: its process ended with exit code {value} "
                "(a negative code is the signal that killed it, e.g. -9 when the machine "
                "ran out of memory).",
                fix="Run `make report` again; if it stops again, free memory or run it on a "
                    "machine with more.")
        raise _rebuilt(value)

    def close(self) -> None:
        """Stop the child if it still runs; remove its folder unless the result was taken
        (the caller then owns the entry and removes the rest with
        :meth:`Loaded.move_into`)."""
        if self._process is not None and self._process.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._process.pid, signal.SIGTERM)
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        if not self._taken:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _outcome_of(params: Params, folder: Path) -> tuple[str, Any]:
    """``("ok", Loaded)`` or ``("error", the error as bytes)``."""
    try:
        return "ok", load_and_store(params, folder)
    except Exception as exc:  # noqa: BLE001 - carried to the parent and raised there
        return "error", _portable(exc)


def _child_main(params: Params, folder: Path, send: Any) -> None:
    """The child: load, store, send the outcome, exit at once (no clean-up of state that
    is the parent's, e.g. atexit handlers it inherited)."""
    code = 0
    try:
        send.send(_outcome_of(params, folder))
    except BaseException:  # noqa: BLE001 - e.g. the parent went away
        code = 1
    finally:
        send.close()
        os._exit(code)


def _portable(exc: BaseException) -> bytes:
    """``exc`` as bytes :func:`_rebuilt` turns back into the same exception: its class,
    arguments and attributes (which pickling an exception alone may lose: an exception
    built from keyword arguments or from other objects cannot always be built again from
    its ``args``), with the traceback's text for an unexpected error."""
    text = "".join(traceback.format_exception(exc))
    try:
        return pickle.dumps((type(exc), exc.args, dict(vars(exc)), text))
    except Exception:  # noqa: BLE001 - an attribute that does not pickle
        return pickle.dumps((RenderError, (f"Loading the data failed: {exc}",),
                             {"message": f"Loading the data failed: {exc}", "fix": None},
                             text))


def _rebuilt(blob: bytes) -> BaseException:
    """The exception :func:`_portable` carried (written by this run's own child)."""
    kind, args, state, text = pickle.loads(blob)  # noqa: S301 - from our own child process
    exc = kind.__new__(kind)
    BaseException.__init__(exc, *args)
    exc.__dict__.update(state)
    exc.__cause__ = ChildTraceback(text)
    return exc
