"""One exception hierarchy (issue 17): every exception class the playbook defines lives in
``playbook/errors.py`` and derives from :class:`~playbook.errors.PlaybookError`, so a caller
catches one base class and every error carries a fix."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from playbook import errors
from playbook.errors import GeneratedTextError, PlaybookError
from playbook.exhibits import ExhibitBook

PACKAGE = Path(__file__).resolve().parents[1] / "playbook"


def modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__main__":  # running it is the command itself
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_exception_class_is_defined_in_errors_py():
    outside = set()
    for name in modules():
        for value in vars(importlib.import_module(name)).values():
            if (isinstance(value, type) and issubclass(value, BaseException)
                    and value.__module__.startswith("playbook")
                    and value.__module__ != errors.__name__):
                outside.add(f"{value.__module__}.{value.__qualname__}")
    assert not outside, f"exception classes outside playbook/errors.py: {sorted(outside)}"


def test_every_error_class_derives_from_playbook_error():
    classes = [v for v in vars(errors).values()
               if isinstance(v, type) and issubclass(v, BaseException)
               and v.__module__ == errors.__name__]
    assert len(classes) > 10
    assert all(issubclass(c, PlaybookError) for c in classes), classes


def test_nan_in_an_exhibit_title_is_a_generated_text_error_with_a_fix():
    with pytest.raises(GeneratedTextError) as caught:
        ExhibitBook().html("<p>x</p>", title="Churn is nan", subtitle="", source="", n=1)
    assert "exhibit title contains 'nan'" in str(caught.value)
    assert caught.value.fix
