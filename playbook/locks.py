"""Nothing lost, nothing leaked: one run per client at a time, inside the reports folder.

:func:`client_lock` holds an exclusive lock on ``reports/<client>/.lock`` for the whole run.
A second run for the same client is refused at once with the holder's pid and start time;
runs for different clients take different locks and never touch each other's folders. The
lock is an ``flock``: the kernel releases it when the holding process dies, so a killed run
leaves no stale lock behind.

While holding the lock, the run also tidies what a killed run may have left in the client's
folder: staging folders (``<period>.staging-<pid>``) are removed, and a previous report
moved aside for publishing (``<period>.previous-<pid>``) is put back if the run died before
the new one replaced it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from playbook import paths
from playbook.errors import RunInProgressError, UnsafePathError
from playbook.storage import writing

LOCK_NAME = ".lock"
_LEFTOVER = re.compile(r"^(?P<name>.+)\.(?P<kind>staging|previous)-\d+$")


def inside(path: Path, root: Path) -> Path:
    """Return ``path`` if it lies inside ``root`` (after resolving ``..``), else raise
    :class:`UnsafePathError`. A second line of defence behind the CLIENT and PERIOD checks."""
    resolved, base = Path(os.path.abspath(path)), Path(os.path.abspath(root))
    if resolved == base or base not in resolved.parents:
        raise UnsafePathError(
            f"{path} is outside {root}; the playbook only writes reports under {root}.",
            fix="Use a plain client name (letters, digits, '-', '_') and a period such as "
            "2026-Q3.")
    return resolved


def report_dir(client: str, period_label: str) -> Path:
    """``reports/<client>/<period>/``, checked to lie inside the reports folder."""
    return inside(paths.report_dir(client, period_label), paths.reports_dir() / client)


@contextlib.contextmanager
def client_lock(client: str) -> Iterator[Path]:
    """Hold the client's run lock; raise :class:`RunInProgressError` if another run has it."""
    folder = inside(paths.reports_dir() / client, paths.reports_dir())
    lock_path = folder / LOCK_NAME
    with writing(lock_path, "the client's run lock"):
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
    try:
        _acquire(handle)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise RunInProgressError(
            f"A report for client '{client}' is already being produced ({holder}); two runs "
            "for one client at once are refused so that neither overwrites the other.",
            fix=f"Wait for that run to finish, then run again. If no run is going on, "
            f"{lock_path} is held by a stuck process: stop it.") from None
    try:
        started = dt.datetime.now().isoformat(sep=" ", timespec="seconds")
        with contextlib.suppress(OSError):  # who holds it: a courtesy (a full disk refuses)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}, started {started}\n")
            handle.flush()
        recover_leftovers(folder)
        yield lock_path
    finally:
        with contextlib.suppress(OSError):
            handle.seek(0)
            handle.truncate()
        _release(handle)
        handle.close()


def recover_leftovers(folder: Path) -> list[str]:
    """Tidy a client's folder after a killed run (call only while holding its lock).

    Returns what was done, one line per folder.
    """
    done = []
    for entry in sorted(folder.iterdir()):
        match = _LEFTOVER.match(entry.name)
        if not match or not entry.is_dir():
            continue
        target = folder / match["name"]
        if match["kind"] == "previous" and not target.exists():
            os.replace(entry, target)
            done.append(f"restored {target.name} from {entry.name}")
        else:
            shutil.rmtree(entry, ignore_errors=True)
            done.append(f"removed {entry.name}")
    return done


try:  # POSIX: flock, released by the kernel when the process dies
    import fcntl

    def _acquire(handle) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _release(handle) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _acquire(handle) -> None:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            raise BlockingIOError(str(exc)) from None

    def _release(handle) -> None:
        with contextlib.suppress(OSError):
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
