"""Writing files so that a failure leaves nothing half written, and says why in one message.

Every file the playbook writes during a run (report records, the data cache, a kept failed
notebook, the portfolio page, the data request, a scaffolded params file, the demo data)
is written to a temporary file in the same folder and renamed over its target with
:func:`os.replace` (atomic on one file system): a reader sees the old file or the new one,
never a part. When the disk is full, the quota is used up, or the folder is read-only or
not ours, the :class:`OSError` becomes a :class:`~playbook.errors.StorageError` that names
what could not be written, where, the space free on that disk (and, when known, the space
needed) and what to do; the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from playbook.errors import StorageError

#: What each errno means for the consultant, and what to do about it ({folder} is filled).
_CAUSES: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full",
                   "Free space on the disk that holds {folder} (e.g. delete old reports or "
                   "kept failures in reports/<client>/_failed/), then run again."),
    errno.EDQUOT: ("your disk quota is used up",
                   "Delete files you own on that disk or ask for a larger quota, then run "
                   "again."),
    errno.EFBIG: ("the file is larger than that file system allows",
                  "Write to another disk, then run again."),
    errno.EACCES: ("permission denied",
                   "Make {folder} writable for your user (check `ls -ld {folder}`), or "
                   "write elsewhere, then run again."),
    errno.EPERM: ("the operation is not permitted",
                  "Make {folder} writable for your user (check `ls -ld {folder}`), or write "
                  "elsewhere, then run again."),
    errno.EROFS: ("the file system is read-only",
                  "Remount that disk read-write or write elsewhere, then run again."),
}
#: Errors that mean "this cannot be written here" rather than a fault in what is written.
STORAGE_ERRNOS = frozenset(_CAUSES)
_ERRNO_IN_TEXT = re.compile(r"\[errno (\d+)\]", re.I)


def error_number(exc: OSError) -> int | None:
    """The errno of ``exc``, also when a library only put it in the text (pyarrow:
    ``Error writing bytes to file. Detail: [errno 28] No space left on device``)."""
    if exc.errno:
        return exc.errno
    found = _ERRNO_IN_TEXT.search(str(exc))
    return int(found.group(1)) if found else None


def human_bytes(size: float) -> str:
    """``1536`` -> ``1.5 KB``; decimal units, as ``df -H`` prints them."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(size) < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} TB"  # pragma: no cover - the loop returns


def free_space(path: Path) -> int | None:
    """Bytes free for this user on the disk that holds ``path`` (its nearest existing
    folder); None when it cannot be told."""
    folder = Path(path)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def storage_error(exc: OSError, path: Path, what: str, *, needed: int | None = None,
                  hint: str = "") -> StorageError:
    """The :class:`StorageError` for ``exc``, raised while writing ``what`` to ``path``.

    ``needed``: bytes the write needs, when known; ``hint``: a sentence added to the fix
    (where else to write, what was left as it was).
    """
    return _error(exc, f"Could not write {what} to {path}", Path(path).parent,
                  needed=needed, hint=hint)


def os_error(exc: OSError) -> StorageError:
    """A :class:`StorageError` for an :class:`OSError` no caller explained (the command
    line's last resort): the file the system named, the cause and what to do."""
    where = Path(exc.filename) if exc.filename else None
    head = f"A file operation failed on {where}" if where else "A file operation failed"
    return _error(exc, head, where.parent if where else Path.cwd())


def _error(exc: OSError, head: str, folder: Path, *, needed: int | None = None,
           hint: str = "") -> StorageError:
    number = error_number(exc)
    cause, fix = _CAUSES.get(number or -1, (
        exc.strerror or str(exc),
        "Check that {folder} exists and can be written, then run again."))
    space = []
    if number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        free = free_space(folder)
        space = [f"{human_bytes(free)} free on that disk" if free is not None else "",
                 f"this needs about {human_bytes(needed)}" if needed else ""]
    code = errno.errorcode.get(number or -1, "")
    message = " ".join(filter(None, [
        f"{head}: {cause}" + (f" ({code})." if code else "."),
        _sentence("; ".join(filter(None, space)))]))
    return StorageError(message, fix=" ".join(filter(None, [fix.format(folder=folder), hint])))


def _sentence(text: str) -> str:
    """``text`` with a capital first letter and a full stop ("" stays "")."""
    return text[:1].upper() + text[1:] + "." if text else ""


@contextlib.contextmanager
def writing(path: Path, what: str, *, needed: int | None = None, hint: str = "") -> Iterator[None]:
    """Turn an :class:`OSError` raised in the block into :func:`storage_error` for ``path``."""
    try:
        yield
    except OSError as exc:
        raise storage_error(exc, path, what, needed=needed, hint=hint) from exc


def temporary_name(path: Path) -> Path:
    """A hidden sibling of ``path`` to write before renaming: ``.<name>.tmp-<pid>``."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def write_bytes(path: Path, data: bytes, what: str, *, hint: str = "") -> Path:
    """Write ``data`` to ``path`` atomically (temporary sibling, fsync, rename).

    Raises :class:`StorageError` (and removes the temporary file) when it cannot.
    """
    path = Path(path)
    tmp = temporary_name(path)
    with writing(path, what, needed=len(data), hint=hint), _removed_on_error(tmp):
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    return path


def write_text(path: Path, text: str, what: str, *, hint: str = "") -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`write_bytes`)."""
    return write_bytes(path, text.encode("utf-8"), what, hint=hint)


def copy_file(source: Path, path: Path, what: str, *, hint: str = "") -> Path:
    """Copy ``source`` to ``path`` atomically, with its times and mode (as ``copy2``)."""
    path = Path(path)
    tmp = temporary_name(path)
    size = Path(source).stat().st_size
    with writing(path, what, needed=size, hint=hint), _removed_on_error(tmp):
        shutil.copyfile(source, tmp)
        shutil.copystat(source, tmp)
        os.replace(tmp, path)
    return path


@contextlib.contextmanager
def atomic_path(path: Path, what: str, *, hint: str = "") -> Iterator[Path]:
    """A temporary sibling of ``path`` for a library to write (``book.save(tmp)``); renamed
    to ``path`` when the block succeeds, removed when it fails."""
    path = Path(path)
    tmp = temporary_name(path)
    with writing(path, what, hint=hint), _removed_on_error(tmp):
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)


@contextlib.contextmanager
def _removed_on_error(tmp: Path) -> Iterator[None]:
    """Remove ``tmp`` (a file or a folder) when the block raises anything."""
    try:
        yield
    except BaseException:
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
