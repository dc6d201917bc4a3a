"""``python -m playbook.demo``: the ``playbook demo`` command (:func:`playbook.cli.demo`,
its one definition), for a machine without the ``playbook`` script on its path."""

from __future__ import annotations

import sys

from playbook.cli import main

if __name__ == "__main__":
    main(["demo", *sys.argv[1:]], prog_name="playbook")
