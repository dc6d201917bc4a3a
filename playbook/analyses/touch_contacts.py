"""Each touch's contact, matched once for a run: the contacts' IDs and the touches' as codes.

Two sections read a touch's contact: the renewal model's features (days since a user or an
executive contact at each decision's cut-off: :mod:`playbook.analyses.drivers.features`)
and the relationship flags (:mod:`playbook.analyses.relationships`), each with its own
definition of a user and an executive contact. Both first match every touch's
``contact_id`` to the contacts table's, which at 1,000,000 accounts (28.7M touches, 5.7M
contact rows) took about 7 s each time (hashing the IDs: ``bench/results.md``, stop 44).
:func:`touch_contact_codes` does it once for the run's stored tables (kept per read-only
touches table and computed once across the run's kernels,
:func:`playbook.read_only.kept_result`); each section then applies its own definitions to
the codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playbook.membership import positions_in_slices
from playbook.read_only import kept_result

__all__ = ["touch_contact_codes"]

#: Touches matched at a time (:func:`playbook.membership.positions_in_slices`): the
#: positions of a slice, not of all 28.7M touches, are held at once (int64, 8 bytes each).
TOUCH_CHUNK = 1_000_000


def _text(values: pd.Series) -> pd.Series:
    """``values`` as text (``astype("string")``), unchanged when they are text already
    (a string column is not copied to another string type)."""
    return values if isinstance(values.dtype, pd.StringDtype) else values.astype("string")


def _codes(touches: pd.DataFrame, contacts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """:func:`touch_contact_codes`, computed."""
    code, ids = pd.factorize(_text(contacts["contact_id"]))
    touch_code = np.full(len(touches), -1, dtype=np.int32)
    for start, found in positions_in_slices(_text(touches["contact_id"]), ids, TOUCH_CHUNK):
        touch_code[start:start + len(found)] = found
    code = code.astype(np.int32)
    code.flags.writeable = touch_code.flags.writeable = False
    return code, touch_code


def touch_contact_codes(touches: pd.DataFrame, contacts: pd.DataFrame
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``(contact_code, touch_code)``: per row of ``contacts``, its ``contact_id``'s
    position among the table's distinct IDs in order of first appearance (-1 when blank);
    per touch (in ``touches`` order), the same code of its ``contact_id`` (-1 when blank or
    no contact row's). IDs compare as text. Both int32, for reading only (made read-only
    where computed; a kernel's copy read back from the run's pickle is not): for the run's
    stored tables they are computed once for all its kernels (about 137 MB at 1,000,000
    accounts, read back in a fraction of a second)."""
    return kept_result(touches, ("touch_contact_codes",), lambda: _codes(touches, contacts),
                       copy=False, also=(contacts,), across_kernels=True)
