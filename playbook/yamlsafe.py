"""The one way the playbook reads YAML: safe tags only, duplicate keys refused, bounded work.

PyYAML's ``safe_load`` already refuses Python tags, but it keeps the last of two equal keys
without a word, follows aliases that multiply a few lines into billions of values ("billion
laughs"), and recurses once per nesting level until Python's stack runs out. Every YAML file
the playbook reads (``playbook/defaults.yaml``, ``params/<client>.yaml``) goes through
:func:`load_yaml_file`, which turns each of these into a :class:`~playbook.errors.ParamsError`
naming the file, the line and the limit:

* a file larger than :data:`MAX_BYTES` is not read;
* mappings and lists nested deeper than :data:`MAX_DEPTH` levels stop the parse at the
  first level too deep (before Python's recursion limit is near);
* aliases (``*name``) may repeat a block, not multiply it: the values they add, once
  expanded, may not exceed :data:`MAX_ALIAS_VALUES`; an alias inside the block it names is
  refused;
* a key written twice in the same mapping, at any level, names both lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from playbook.errors import ParamsError

#: Largest YAML file read, in bytes (1 MiB; the shared defaults are about 10 KB).
MAX_BYTES = 1024 * 1024
#: Deepest nesting of mappings and lists (the params files use 5 levels).
MAX_DEPTH = 32
#: Most values that aliases may add to a file once expanded.
MAX_ALIAS_VALUES = 10_000

_MERGE_TAG = "tag:yaml.org,2002:merge"


def _line(node_or_event: Any) -> int:
    """1-based line where a node or event starts."""
    return node_or_event.start_mark.line + 1


class LimitedSafeLoader(yaml.SafeLoader):
    """A :class:`yaml.SafeLoader` that enforces the limits of this module.

    ``source`` is the file name used in error messages. Limits are checked while the
    document is composed, before values are built, so a hostile file fails fast.
    """

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.source = self.name = source  # ``name`` is what PyYAML's marks print
        self._depth = 0
        self._path: list[str] = []
        self._expanded: dict[int, int] = {}  # id(node) -> values it holds, aliases expanded
        self._alias_values = 0

    # ------------------------------------------------------------------ composing

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        """Compose one node, checking nesting depth, aliases and duplicate keys."""
        label = index.value if isinstance(index, ScalarNode) else (
            f"[{index}]" if isinstance(index, int) else None)
        if label is not None:
            self._path.append(str(label))
        try:
            if self.check_event(AliasEvent):
                return self._compose_alias(parent, index)
            nested = self.check_event(MappingStartEvent, SequenceStartEvent)
            if nested:
                self._enter(self.peek_event())
            try:
                node = super().compose_node(parent, index)
            finally:
                self._depth -= nested
            self._expanded[id(node)] = 1 + sum(self._expanded[id(c)] for c in _children(node))
            if isinstance(node, MappingNode):
                self._check_duplicate_keys(node)
            return node
        finally:
            if label is not None:
                self._path.pop()

    def _enter(self, event: Any) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ParamsError(
                f"{self.source}: mappings and lists nested more than {MAX_DEPTH} levels deep "
                f"(line {_line(event)}); no parameter needs more than a few.",
                fix="Check the brackets and indentation around that line; a parameters file "
                "nests a handful of levels (tables > accounts > codes > status > value).",
            )

    def _compose_alias(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        node = super().compose_node(parent, index)
        size = self._expanded.get(id(node))
        if size is None:
            raise ParamsError(
                f"{self.source}: alias *{event.anchor} on line {_line(event)} is inside the "
                "block it names, which would make the value endless.",
                fix=f"Remove *{event.anchor} there, or write the values out.",
            )
        self._alias_values += size
        if self._alias_values > MAX_ALIAS_VALUES:
            raise ParamsError(
                f"{self.source}: the aliases (*name) expand to more than "
                f"{MAX_ALIAS_VALUES:,} values (limit reached at *{event.anchor}, line "
                f"{_line(event)}); an alias may repeat a block, not multiply it.",
                fix="Write the values out instead of nesting aliases of aliases; a "
                "parameters file needs a few hundred values at most.",
            )
        return node

    def _check_duplicate_keys(self, node: MappingNode) -> None:
        """Refuse a key written twice in ``node`` (merge keys ``<<`` may be overridden)."""
        first: dict[Any, Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                continue
            key = self._key_value(key_node)
            if key in first:
                before = first[key]
                where = _dotted([*self._path, key_node.value])
                spelt = f" (as '{before.value}')" if before.value != key_node.value else ""
                raise ParamsError(
                    f"{self.source}: key '{where}' is set twice, on line {_line(before)}"
                    f"{spelt} and on line {_line(key_node)}; YAML would keep the second "
                    "silently.",
                    fix="Delete one of the two lines, or merge what they say into one.",
                )
            first[key] = key_node

    def _key_value(self, key_node: ScalarNode) -> Any:
        """The key as a value (so ``1`` and ``"1"`` differ, ``true`` and ``yes`` do not)."""
        try:
            value = self.construct_object(key_node)
            hash(value)
        except (yaml.YAMLError, TypeError):
            return (key_node.tag, key_node.value)
        return value


def _dotted(parts: list[str]) -> str:
    """``tables.accounts.codes`` / ``notebooks[2]``: a key path as the errors write it."""
    out = ""
    for part in parts:
        out += part if part.startswith("[") or not out else f".{part}"
    return out


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML ``text`` under the limits of this module; ``source`` names it in errors."""
    loader = None
    try:
        loader = LimitedSafeLoader(text, source)
        return loader.get_single_data()
    except yaml.reader.ReaderError as exc:  # raised before any mark exists
        line = text[: exc.position].count("\n") + 1
        raise ParamsError(
            f"{source} is not valid YAML at line {line}: character U+{exc.character:04X} "
            "is a control character, which YAML does not allow.",
            fix="Delete that character (or write it as an escape, e.g. \\u007f, inside "
            "double quotes).",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        said = " ".join(filter(None, [getattr(exc, "context", None),
                                      getattr(exc, "problem", None)])) or str(exc)
        raise ParamsError(
            f"{source} is not valid YAML{where}: {said}",
            fix="Check the indentation (spaces, not tabs) and quoting around that line.",
        ) from None
    except RecursionError:  # a nesting the depth limit did not catch (defensive)
        raise ParamsError(
            f"{source} is nested too deeply to be read.",
            fix=f"A parameters file nests a handful of levels (at most {MAX_DEPTH}).",
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_text_limited(path: Path, source: str | None = None) -> str:
    """The UTF-8 text of ``path``, refusing files over :data:`MAX_BYTES`.

    A missing file raises :class:`FileNotFoundError` (callers say what to create); any
    other unreadable file is a :class:`ParamsError`.
    """
    source = source or str(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ParamsError(f"{source} cannot be read: {exc.strerror or exc}.",
                          fix="Check that it is a file you may read.") from None
    if len(raw) > MAX_BYTES:
        raise ParamsError(
            f"{source} is larger than {MAX_BYTES // 1024:,} KiB, the limit for a YAML "
            "file; a parameters file is a few KB.",
            fix="Check that this is the right file; keep only the parameters in it.",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ParamsError(f"{source} is not UTF-8 text (line {line}, byte {exc.start + 1}).",
                          fix="Save it as UTF-8 in your editor.") from None


def load_yaml_file(path: Path, source: str | None = None) -> Any:
    """Read and parse one YAML file under the limits of this module."""
    source = source or str(path)
    return parse_yaml(read_text_limited(path, source), source)
