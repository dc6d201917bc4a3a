"""A function run in a forked child process, its result or its error handed back.

The render process uses it to load and validate the data in a child that gives its memory
back when it exits (:mod:`playbook.loading`), and to write the slide deck and results.json
while it lays out the PDF (:mod:`playbook.render`). The child is a fork, so it starts at once with
everything this process imported (no second interpreter start) and takes its arguments as
they are (no pickling); only the result travels back, pickled through a pipe.

A failure in the child reaches the caller as the same exception (its class, message and
attributes: a :class:`~playbook.errors.DataError` still names the file, column and rows),
raised by :meth:`ForkedCall.result`, with the child's traceback as its cause. A child that
dies (killed, out of memory) is a :class:`~playbook.errors.RenderError` giving its exit
code. Where a child cannot be forked (no ``fork`` start method, or a daemonic process such
as a Dask worker, which may not start children) the function runs in this process when
the result is asked for, with the same result. Fork only where no other thread of this
process holds a lock the child would need: before the kernels' workers start, or after
they stopped.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable
from typing import Any

from playbook.errors import ChildTraceback, RenderError


def can_fork() -> bool:
    """True when this process may fork a child (Linux's ``fork`` start method, and not a
    daemonic process)."""
    return ("fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon)


def can_fork_safely() -> bool:
    """:func:`can_fork`, and this process runs no other thread: a forked child has only the
    thread that forked, so a lock another thread held would stay held in it for good."""
    return can_fork() and threading.active_count() == 1


class ForkedCall:
    """``function(*args)`` started in a forked child now (``fork=None``: when
    :func:`can_fork`; ``fork=False``: run here by :meth:`result`)."""

    def __init__(self, function: Callable[..., Any], *args: Any, what: str,
                 fork: bool | None = None) -> None:
        self.what = what  # "Loading the data", for the error when the child dies
        self._call = (function, args)
        self._outcome: tuple[str, Any] | None = None
        self.process: Any = None
        if not (can_fork() if fork is None else fork):
            return
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self.process = context.Process(target=_child_main, args=(function, args, send),
                                       name="playbook-forked", daemon=False)
        self.process.start()
        send.close()

    def result(self) -> Any:
        """Wait for the child; its result, or its error raised here."""
        if self._outcome is None and self.process is None:
            self._outcome = _outcome_of(*self._call)
        if self._outcome is None:
            try:
                self._outcome = self._receive.recv()
            except EOFError:
                self.process.join()
                self._outcome = ("lost", self.process.exitcode)
            self.process.join()
        kind, value = self._outcome
        if kind == "ok":
            return value
        if kind == "lost":
            raise RenderError(
                f"{self.what} stopped: its process ended with exit code {value} (a "
                "negative code is the signal that killed it, e.g. -9 when the machine ran "
                "out of memory).",
                fix="Run `make report` again; if it stops again, free memory or run it on a "
                    "machine with more.")
        raise _rebuilt(value)

    def stop(self) -> None:
        """Stop the child if it still runs (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is not None and self.process.is_alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            self.process.join(10)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()


def _outcome_of(function: Callable[..., Any], args: tuple) -> tuple[str, Any]:
    """``("ok", function(*args))`` or ``("error", the error as bytes)``."""
    try:
        return "ok", function(*args)
    except Exception as exc:  # noqa: BLE001 - carried to the parent and raised there
        return "error", _portable(exc)


def _child_main(function: Callable[..., Any], args: tuple, send: Any) -> None:
    """The child: call, send the outcome, exit at once (no clean-up of state that is the
    parent's, e.g. atexit handlers it inherited)."""
    code = 0
    try:
        send.send(_outcome_of(function, args))
    except BaseException:  # noqa: BLE001 - e.g. the parent went away
        code = 1
    finally:
        send.close()
        os._exit(code)


def _portable(exc: BaseException) -> bytes:
    """``exc`` as bytes :func:`_rebuilt` turns back into the same exception: its class,
    arguments and attributes (which pickling an exception alone may lose: an exception
    built from keyword arguments or from other objects cannot always be built again from
    its ``args``), with the traceback's text."""
    text = "".join(traceback.format_exception(exc))
    try:
        return pickle.dumps((type(exc), exc.args, dict(vars(exc)), text))
    except Exception:  # noqa: BLE001 - an attribute that does not pickle
        message = f"{type(exc).__name__}: {exc}"
        return pickle.dumps((RenderError, (message,), {"message": message, "fix": None},
                             text))


def _rebuilt(blob: bytes) -> BaseException:
    """The exception :func:`_portable` carried (written by this run's own child)."""
    kind, args, state, text = pickle.loads(blob)  # noqa: S301 - from our own child process
    exc = kind.__new__(kind)
    BaseException.__init__(exc, *args)
    exc.__dict__.update(state)
    exc.__cause__ = ChildTraceback(text)
    return exc
