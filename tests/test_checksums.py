"""File checksums: hashed once per process while a file is unchanged, again once it changes."""

from __future__ import annotations

import hashlib
import os

from playbook import checksums


def test_a_file_is_hashed_once_while_unchanged_and_again_once_changed(tmp_path, monkeypatch):
    path = tmp_path / "accounts.csv"
    path.write_bytes(b"account_id\nA1\n")
    opened = []  # the files hashed, by name
    real = hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda handle, name: opened.append(
        os.path.basename(handle.name)) or real(handle, name))
    first = checksums.file_sha256(path)
    assert first == hashlib.sha256(b"account_id\nA1\n").hexdigest()
    assert checksums.file_sha256(path) == first and opened == ["accounts.csv"]
    # same size, new content: the modification time tells
    path.write_bytes(b"account_id\nB2\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert checksums.file_sha256(path) == hashlib.sha256(b"account_id\nB2\n").hexdigest()
    assert opened == ["accounts.csv", "accounts.csv"]
    # another file with the same bytes is another file (its own inode)
    other = tmp_path / "copy.csv"
    other.write_bytes(path.read_bytes())
    assert checksums.file_sha256(other) == checksums.file_sha256(path)
    assert opened.count("copy.csv") == 1
