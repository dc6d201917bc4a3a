"""The form of an exhibit's key and id, shared by the exhibits (:mod:`playbook.exhibits`)
and the consultant's notes that refer to them (:mod:`playbook.notes`), which are read
before a run starts and so must not import the charts."""

from __future__ import annotations

import re

#: An exhibit key or id: letters, digits, ``_``, ``-`` and ``.`` (between notebook and key).
EXHIBIT_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
