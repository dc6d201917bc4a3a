"""Days since the last user / executive touch, matched a chunk of touches at a time
(issue 22), are what the whole-table version gave.

``playbook.analyses.relationships._days_since_contact`` matched every touch at once: at
100,000 accounts (2.9M touches) its arrays per touch held about 180 MB at notebook 05's
memory peak. It now reads :data:`~playbook.analyses.relationships.TOUCH_CHUNK` touches at a
time and keeps each kind's latest date per account. The previous version is kept here as
the reference and compared exactly on the small demo and on hand cases (missing IDs and
dates, ties, unknown contacts, empty tables, one account, IDs listed twice), with chunks
of a few rows so that the maximum runs over several chunks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import relationships as rel
from playbook.analyses.account_state import active_accounts, date_column
from playbook.membership import positions


def reference_days(touches: pd.DataFrame, people: pd.DataFrame, as_of: pd.Timestamp,
                   ids: pd.Index) -> pd.DataFrame:
    """The previous ``_days_since_contact`` (every touch at once)."""
    touches = touches.reset_index(drop=True)
    date = date_column(touches, "date")
    code, contacts = pd.factorize(people["contact_id"].astype(str))
    listed = code >= 0
    contact = positions(touches["contact_id"].astype(str), contacts)
    account, accounts = pd.factorize(touches["account_id"])
    use = ((date <= as_of).to_numpy(dtype=bool) & touches["contact_id"].notna().to_numpy()
           & (contact >= 0) & (account >= 0))
    account, contact = account[use], contact[use]
    when = date.to_numpy(dtype="datetime64[ns]")[use].view(np.int64)
    where = positions(ids, accounts)
    day = np.datetime64(as_of.to_datetime64(), "ns").view(np.int64)
    never = np.iinfo(np.int64).min
    out = {}
    for kind in ("user", "exec"):
        of_kind = np.bincount(code[listed], weights=people[f"is_{kind}"].to_numpy(
            dtype=float)[listed], minlength=len(contacts)) > 0
        flag = of_kind[contact]
        last = np.full(len(accounts) + 1, never)
        latest = pd.Series(when[flag]).groupby(account[flag]).max()
        last[latest.index.to_numpy()] = latest.to_numpy()
        last_of = last[where]
        seen = last_of > never
        days = np.full(len(ids), np.nan)
        days[seen] = (day - last_of[seen]) // pd.Timedelta(days=1).value
        out[kind] = days
    return pd.DataFrame(out, index=ids)


AS_OF = pd.Timestamp("2026-06-30")


def hand_people() -> pd.DataFrame:
    return rel._classify_contacts(pd.DataFrame({
        "contact_id": ["C1", "C2", "C3", "C4", "C2", None],
        "account_id": ["A1", "A1", "A2", "A3", "A1", "A3"],
        "role": ["user", "executive", "champion", "user", "user", "user"],
        "seniority": [None, "vp", None, None, None, None],
        "relationship_strength": ["strong"] * 6,
    }))


def hand_touches() -> pd.DataFrame:
    """Ties (two touches on one day), a touch after the as-of date, unknown and missing
    contacts, a missing account and date, a contact both user and executive (C2), and an
    account's latest touch not its last row."""
    frame = pd.DataFrame({
        "account_id": pd.Series(["A1", "A1", "A1", "A2", "A2", "A3", "A3", None, "A1", "A4",
                                 "A2", "A1", "A1"], dtype="str"),
        "contact_id": pd.Series(["C1", "C2", "C1", "C3", "C3", "C4", "C9", "C1", None, "C1",
                                 "C3", "C2", "C2"], dtype="str"),
        "date": pd.to_datetime(["2026-06-01", "2026-05-01", "2026-06-01", "2026-07-02",
                                "2026-03-15", "2026-06-30", "2026-06-29", "2026-06-10",
                                "2026-06-20", "2026-06-25", None, "2026-06-29",
                                "2026-04-01"]),
    })
    return frame.set_axis(np.arange(13)[::-1] * 3)  # not 0, 1, ...: positions count


@pytest.mark.parametrize("chunk", [1, 2, 5, 500_000])
@pytest.mark.parametrize("ids", [["A1", "A2", "A3", "A5"], ["A3"], ["A1", "A1", "A2"], []])
def test_by_hand_the_chunks_give_the_whole_table_s_days(monkeypatch, chunk, ids):
    monkeypatch.setattr(rel, "TOUCH_CHUNK", chunk)
    index = pd.Index(ids, dtype="str", name="account_id")
    got = rel._days_since_contact(hand_touches(), hand_people(), AS_OF, index)
    want = reference_days(hand_touches(), hand_people(), AS_OF, index)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_the_hand_answers_written_out(monkeypatch):
    monkeypatch.setattr(rel, "TOUCH_CHUNK", 3)
    index = pd.Index(["A1", "A2", "A3", "A4", "A5"], dtype="str")
    got = rel._days_since_contact(hand_touches(), hand_people(), AS_OF, index)
    # A1: user C1 on 06-01 (29 days), C2 (user and executive) on 06-29 (1 day);
    # A2: the 07-02 touch is after the as-of date, the undated one never counts;
    # A3: C4 on the as-of date (0 days), C9 is no listed contact; A4: C1 is a user; A5: none
    assert got["user"].tolist()[:4] == [1.0, 107.0, 0.0, 5.0]
    assert got["exec"].tolist()[0] == 1.0
    assert got["exec"].isna().tolist() == [False, True, True, True, True]
    assert np.isnan(got.at["A5", "user"])


def test_no_touches_and_no_contacts(monkeypatch):
    monkeypatch.setattr(rel, "TOUCH_CHUNK", 2)
    index = pd.Index(["A1", "A2"], dtype="str")
    empty = hand_touches().iloc[:0]
    for touches, people in ((empty, hand_people()), (hand_touches(), hand_people().iloc[:0])):
        got = rel._days_since_contact(touches, people, AS_OF, index)
        pd.testing.assert_frame_equal(got, reference_days(touches, people, AS_OF, index),
                                      check_exact=True)
        assert got.isna().all().all()


def test_a_blank_account_id_among_the_accounts(monkeypatch):
    monkeypatch.setattr(rel, "TOUCH_CHUNK", 4)
    index = pd.Index(["A1", None, "A3"], dtype="str")
    touches = hand_touches()
    got = rel._days_since_contact(touches, hand_people(), AS_OF, index)
    pd.testing.assert_frame_equal(got, reference_days(touches, hand_people(), AS_OF, index),
                                  check_exact=True)
    assert got.iloc[1].isna().all()


@pytest.mark.parametrize("chunk", [997, 500_000])
def test_on_the_demo(small_demo_run, monkeypatch, chunk):
    params, data = small_demo_run
    monkeypatch.setattr(rel, "TOUCH_CHUNK", chunk)
    as_of = pd.Timestamp(params.as_of)
    people = rel._classify_contacts(data["contacts"])
    ids = active_accounts(data["accounts"], as_of).index
    touches = data["touches"]
    assert len(touches) > 3 * chunk or chunk > len(touches)
    got = rel._days_since_contact(touches, people, as_of, ids)
    want = reference_days(touches, people, as_of, ids)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["user"].notna().sum() > len(ids) / 2 and got["exec"].notna().any()
