"""Each touch's contact matched once for a run (issue 22, stop 44).

The renewal model's touch features and the relationship flags both matched every touch's
``contact_id`` to the contacts table (about 7 s each at 1,000,000 accounts). They now read
the same codes (:func:`playbook.analyses.touch_contacts.touch_contact_codes`), computed
once across the run's kernels: here two "kernels" are two sets of frames marked with the
same run folder, as each kernel reads the stored tables afresh.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook import membership
from playbook.analyses import relationships as rel
from playbook.analyses import touch_contacts as tc
from playbook.analyses.drivers import features
from playbook.read_only import mark_read_only


def _contacts() -> pd.DataFrame:
    return pd.DataFrame({
        "contact_id": pd.array(["C1", "C2", None, "C2", "C3"], dtype="string"),
        "account_id": ["A1", "A1", "A2", "A1", "A2"],
        "role": ["user", "executive", "executive", "user", "champion"],
        "seniority": [None, "vp", "vp", None, None],
        "relationship_strength": ["strong"] * 5,
    })


def _touches() -> pd.DataFrame:
    return pd.DataFrame({
        "contact_id": pd.array(["C2", None, "C9", "C1", "C3", "C2"], dtype="string"),
        "account_id": ["A1", "A1", "A2", "A1", "A2", "A1"],
        "date": pd.to_datetime(["2026-01-05", "2026-02-01", "2026-03-01", "2026-04-01",
                                "2026-05-01", "2026-06-01"]),
    })


@pytest.mark.parametrize("chunk", [1, 4, 1_000_000])
def test_codes_name_each_contact_row_and_each_touch_s_contact(monkeypatch, chunk):
    monkeypatch.setattr(tc, "TOUCH_CHUNK", chunk)
    contact, touch = tc.touch_contact_codes(_touches(), _contacts())
    # by hand: C1 -> 0, C2 -> 1, C3 -> 2 in order of first appearance; a blank row -1;
    # a touch without a contact, or of C9 (no contact row), -1
    assert contact.tolist() == [0, 1, -1, 1, 2]
    assert touch.tolist() == [1, -1, -1, 0, 2, 1]
    assert contact.dtype == touch.dtype == np.int32 and not touch.flags.writeable


def test_the_run_matches_touches_to_contacts_once_for_both_sections(monkeypatch, tmp_path):
    calls = []
    real = membership.positions_in_slices

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(tc, "positions_in_slices", counted)

    def kernel():  # a kernel's own read of the run's stored tables
        return (mark_read_only(_touches(), shared_as=(tmp_path, "touches")),
                mark_read_only(_contacts(), shared_as=(tmp_path, "contacts")))

    touches, contacts = kernel()
    unused, by_kind = features._touch_records(touches, contacts, exec_by_seniority=True)
    assert calls == [1] and unused == 2  # the blank contact and C9
    # a touch is a user contact when the first row of its contact is (C2's first row is
    # an executive): touches 3 (C1) and 4 (C3, a champion); an executive one by seniority
    assert by_kind["days_since_user_contact"].order.tolist() == [3, 4]
    assert sorted(by_kind["days_since_exec_contact"].order.tolist()) == [0, 5]
    touches, contacts = kernel()  # another kernel: the relationship flags' kinds
    kinds = rel._touch_kinds(touches, rel._classify_contacts(contacts), contacts)
    assert calls == [1]  # read back, not matched again
    # relationships: a touch is of a kind when any row of its contact is; C2 has an
    # executive row (vp) and a user row, but a row that is an executive is not a user
    user, execu = rel._KIND_BITS["user"], rel._KIND_BITS["exec"]
    assert kinds.tolist() == [user | execu, -1, -1, user, user, user | execu]
