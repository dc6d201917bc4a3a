"""File checksums: the one SHA-256 the loader, the data cache, the manifest and the appendix
all record, so their figures for the same file always agree.

A process hashes a file once: the digest is kept with the file's identity and state
(:func:`file_state`: device, inode, size, modification and change times in nanoseconds), so
asking again for an unchanged file costs a ``stat`` (a 5 GB event log takes about 7 s to
hash), and a changed file is hashed again.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

#: Digests computed by this process, by the file's :func:`file_state`.
_DIGESTS: dict[tuple[int, int, int, int, int], str] = {}


def file_state(path: Path) -> tuple[int, int, int, int, int]:
    """(device, inode, size in bytes, modification and change times in ns) of a file: two
    equal states are the same file, unchanged."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks (once per process while the file
    is unchanged: :func:`file_state`)."""
    state = file_state(path)
    if state not in _DIGESTS:
        with Path(path).open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        if file_state(path) == state:  # not written to while it was read
            _DIGESTS[state] = digest
        return digest
    return _DIGESTS[state]


def known_digests() -> dict[tuple[int, int, int, int, int], str]:
    """The digests this process has computed, by file state: for a child process to hand
    them to its parent (:func:`remember`), which then does not read those files again."""
    return dict(_DIGESTS)


def remember(digests: dict[tuple[int, int, int, int, int], str]) -> None:
    """Keep digests another process computed (:func:`known_digests`): a file whose state is
    unchanged since is not hashed again here."""
    _DIGESTS.update(digests)
