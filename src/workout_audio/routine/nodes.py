"""Routine file -> plain Python: read safely, every field's line recorded for messages."""

from __future__ import annotations

from pathlib import Path

import yaml

from .messages import Problems, Where, show

__all__ = ["parse_yaml", "read_text"]

_MAX_FILE_BYTES = 1_000_000
_MAX_NODES = 10_000  # far above any real routine; stops alias bombs before they expand
_MAX_DEPTH = 50
_TAG = "tag:yaml.org,2002:"


def read_text(path: Path, problems: Problems) -> str:
    """The file's text; unreadable, too big or not UTF-8 stops the reading with a problem."""
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        problems.fail((), f"cannot read the file: {exc.strerror or exc}")
    if len(data) > _MAX_FILE_BYTES:
        problems.fail((), f"file is too big for a routine (over {_MAX_FILE_BYTES} bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.fail((), f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8", line)


def parse_yaml(text: str, problems: Problems) -> dict[str, object]:
    """YAML text -> plain dict, recording the line of every field in ``problems.lines``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or exc.context or "unreadable"
        if exc.context and detail.startswith("but "):
            detail = f"{exc.context} {detail}"
        if detail == "found unexpected end of stream" and exc.context_mark:
            mark = exc.context_mark  # the end of the file says nothing: point at the quote
            detail = "a quote opened on this line is never closed"
        line = mark.line + 1 if mark else None
        plain = _indentation_mistake(text, line, exc.problem or "") if line else None
        problems.fail((), f"not valid YAML: {plain or detail}", line)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        problems.fail((), f"not valid YAML: character U+{exc.character:04X} is not allowed", line)
    except yaml.YAMLError as exc:
        problems.fail((), f"not valid YAML: {exc}")
    except RecursionError:
        problems.fail((), "not valid YAML: nested too deeply")
    if root is None:
        problems.fail((), "the file is empty; a routine needs at least 'name' and 'blocks'")
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        message = f"the top level must be a mapping with 'name' and 'blocks', got {kind}"
        problems.fail((), message, _line(root))
    problems.lines[()] = _line(root)
    try:
        return _Converter(problems).mapping(root, (), 0)
    except _Refused as exc:
        problems.fail(exc.where, exc.message, exc.line)


class _Refused(Exception):
    """The document cannot be read safely any further."""

    def __init__(self, node: yaml.Node, where: Where, message: str) -> None:
        super().__init__(message)
        self.line = _line(node)
        self.where = where
        self.message = message


class _Converter:
    """Turns composed YAML nodes into plain Python, counting every node it visits.

    Only YAML's plain types are accepted, so nothing is ever constructed from a tag, and
    an alias that expands without end is refused instead of filling memory.
    """

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.visited = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def value(self, node: yaml.Node, where: Where, depth: int) -> object:
        self.visit(node, where, depth)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, where, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _TAG + "seq":
                raise _Refused(node, where, _tag_refusal(node.tag))
            items = []
            for index, item in enumerate(node.value):
                item_where = (*where, index)
                self.problems.lines[item_where] = _line(item)
                items.append(self.value(item, item_where, depth + 1))
            return items
        assert isinstance(node, yaml.ScalarNode)
        return self.scalar(node, where)

    def visit(self, node: yaml.Node, where: Where, depth: int) -> None:
        self.visited += 1
        if self.visited > _MAX_NODES:
            message = f"more than {_MAX_NODES} values: is an alias (*name) expanding without end?"
            raise _Refused(node, (), message)
        if depth > _MAX_DEPTH:
            message = f"nested more than {_MAX_DEPTH} levels deep: is an alias inside itself?"
            raise _Refused(node, (), message)

    def mapping(self, node: yaml.MappingNode, where: Where, depth: int) -> dict[str, object]:
        if node.tag != _TAG + "map":
            raise _Refused(node, where, _tag_refusal(node.tag))
        result: dict[str, object] = {}
        # Merged keys (<<: *defaults) go first so the mapping's own keys override them.
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self.visit(key_node, where, depth)
                for key, value in self.merge(value_node, where, depth).items():
                    result.setdefault(key, value)
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                continue
            self.visit(key_node, where, depth)
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Refused(key_node, where, "a key must be plain text, not a list or mapping")
            key = str(key_node.value)
            line = _line(key_node)
            if key in first_lines:
                message = f"duplicate key {show(key)} (first at line {first_lines[key]})"
                self.problems.add((*where, key), message, line)
                continue
            first_lines[key] = line
            key_where = (*where, key)
            self.problems.lines[key_where] = line
            result[key] = self.value(value_node, key_where, depth + 1)
        return result

    def merge(self, node: yaml.Node, where: Where, depth: int) -> dict[str, object]:
        self.visit(node, where, depth)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, where, depth + 1)
        merged: dict[str, object] = {}
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.visit(item, where, depth + 1)
                if not isinstance(item, yaml.MappingNode):
                    break
                for key, value in self.mapping(item, where, depth + 2).items():
                    merged.setdefault(key, value)
            else:
                return merged
        raise _Refused(node, where, "'<<' must merge a mapping or a list of mappings")

    def scalar(self, node: yaml.ScalarNode, where: Where) -> object:
        text = str(node.value)
        tag = node.tag
        # Read as YAML 1.2 (what editors use): yes/no/on/off and 1:30 stay text.
        if tag in (_TAG + "str", _TAG + "timestamp"):
            return text
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return text.lower() == "true" if text.lower() in ("true", "false") else text
        if tag in (_TAG + "int", _TAG + "float"):
            if ":" in text:
                return text
            try:
                if tag == _TAG + "int":
                    return self.constructor.construct_yaml_int(node)
                return self.constructor.construct_yaml_float(node)
            except ValueError:
                raise _Refused(node, where, f"{show(text)} is not a number") from None
        raise _Refused(node, where, _tag_refusal(tag))


def _indentation_mistake(text: str, line: int, problem: str) -> str | None:
    """PyYAML's words for the usual indentation mistakes, said plainly; None for others."""
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    here = lines[line - 1]
    indent = len(here) - len(here.lstrip(" "))
    if here[indent:].startswith("\t") or "'\\t'" in problem:
        return "a tab indents this line; YAML indents with spaces only"
    before = next(
        (
            earlier
            for earlier in reversed(lines[: line - 1])
            if earlier.strip() and not _is_comment(earlier)
        ),
        None,
    )
    if before is None:
        return None
    # Where the line before it puts its key: after its indentation and any "- ".
    stripped = before.lstrip(" ")
    key_column = len(before) - len(stripped)
    while stripped.startswith("- "):
        key_column += 2 + len(stripped[2:]) - len(stripped[2:].lstrip(" "))
        stripped = stripped[2:].lstrip(" ")
    if problem == "mapping values are not allowed here" and indent > key_column:
        return (
            "this line is indented more than the one before it; line its key up with "
            "the key above it, or indent it under a key that ends with ':'"
        )
    if problem.startswith("expected <block end>") and indent < key_column:
        return (
            "this line is indented less than the one before it, but not as far back as "
            "any key above it: line it up with the key it belongs with"
        )
    return None


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _tag_refusal(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag
    return f"YAML tag {shown} is not allowed (only text, numbers, lists and mappings)"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
