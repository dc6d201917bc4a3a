"""The kinds of each touch's contact kept per touches table (issue 22, stop 33).

Notebook 03 asks for the relationship flags on two dates (the as-of date and a year
before); each call matched all 2.9 million touches' contact IDs to the contacts again
(about 0.35 CPU s at 100,000 accounts), though which contact a touch names does not depend
on the date. ``_touch_kinds`` now gives each touch its contact's kinds once per read-only
touches table (and contacts table). The previous ``_days_since_contact`` is the reference
(``reference_days`` of ``tests/test_contact_days_chunked.py``): the same days at every date,
with the kinds kept or not, and a changed contacts table is not mistaken for the first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import relationships as rel
from playbook.analyses.account_state import active_accounts
from playbook.read_only import mark_read_only
from tests.test_contact_days_chunked import AS_OF, hand_people, hand_touches, reference_days

DATES = [pd.Timestamp("2026-03-31"), AS_OF, pd.Timestamp("2026-06-15")]


def _contacts() -> pd.DataFrame:
    return pd.DataFrame({
        "contact_id": ["C1", "C2", "C3", "C4", "C2", None],
        "account_id": ["A1", "A1", "A2", "A3", "A1", "A3"],
        "role": ["user", "executive", "champion", "user", "user", "user"],
        "seniority": [None, "vp", None, None, None, None],
        "relationship_strength": ["strong"] * 6,
    })


@pytest.mark.parametrize("chunk", [1, 4, 500_000])
def test_kept_kinds_give_the_reference_days_at_every_date(monkeypatch, chunk):
    monkeypatch.setattr(rel, "TOUCH_CHUNK", chunk)
    touches, contacts = mark_read_only(hand_touches()), mark_read_only(_contacts())
    people = rel._classify_contacts(contacts)
    pd.testing.assert_frame_equal(people, hand_people())
    index = pd.Index(["A1", "A2", "A3", "A4", "A5"], dtype="str")
    calls = []
    real = rel._touch_kinds
    monkeypatch.setattr(rel, "_touch_kinds", lambda *a: calls.append(1) or real(*a))
    for day in DATES:
        got = rel._days_since_contact(touches, people, day, index, contacts=contacts)
        pd.testing.assert_frame_equal(got, reference_days(touches, people, day, index),
                                      check_exact=True)
    assert len(calls) == 1  # the kinds made once for the three dates
    # another contacts table (C4 now an executive): the kinds are made again
    other = _contacts()
    other.loc[3, "seniority"] = "vp"
    other = mark_read_only(other)
    people2 = rel._classify_contacts(other)
    got = rel._days_since_contact(touches, people2, AS_OF, index, contacts=other)
    pd.testing.assert_frame_equal(got, reference_days(touches, people2, AS_OF, index),
                                  check_exact=True)
    assert len(calls) == 2
    assert got.at["A3", "exec"] == 0.0


def test_touch_kinds_by_hand():
    kinds = rel._touch_kinds(hand_touches(), hand_people())
    # C1 user, C2 user (one row) and executive (another), C3 user (champion), C4 user;
    # C9 unknown and a blank contact: -1
    assert kinds.dtype == np.int8
    assert kinds.tolist() == [1, 3, 1, 1, 1, 1, -1, 1, -1, 1, 1, 3, 3]


def test_the_demo_flags_on_two_dates_kept_or_not(small_demo_run):
    """relationship_flags of read-only tables (kinds kept) on two dates equal those of
    plain copies (computed each time)."""
    params, data = small_demo_run
    as_of = pd.Timestamp(params.as_of)
    t = data.tables
    kw = dict(exec_days=60, user_days=30, renewal_horizon_days=90, strong_exec_enterprise=2,
              strong_exec_smb=1, enterprise_segments=("Enterprise",), usage_drop_share=0.2,
              strong_adoption_depth=0.6, triggers=t["triggers"], champion_days=90)
    marked = [mark_read_only(t[n].copy()) for n in ("accounts", "contacts", "touches")]
    plain = [t[n].copy() for n in ("accounts", "contacts", "touches")]
    for day in (as_of, as_of - pd.DateOffset(years=1)):
        got = rel.relationship_flags(*marked, t["usage"], as_of=day, **kw)
        want = rel.relationship_flags(*plain, t["usage"], as_of=day, **kw)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        people = rel._classify_contacts(plain[1])
        ids = active_accounts(plain[0], day).index
        pd.testing.assert_frame_equal(
            got[["days_since_user_contact", "days_since_exec_contact"]].set_axis(
                ["user", "exec"], axis=1),
            reference_days(plain[2], people, day, ids), check_exact=True, check_names=False)
