"""Read YAML while remembering the line of every value, so that errors can say file:line.

PyYAML's composer keeps a start mark on every node; we construct plain Python values from the node
tree ourselves and record `path -> line` on the side, where a path is the tuple of keys and list
indices that leads to the value (the same shape as pydantic's error `loc`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


class YamlSyntaxError(ValueError):
    def __init__(self, file: Path, line: int, message: str):
        super().__init__(f"{file}:{line}: {message}")
        self.file, self.line, self.message = file, line, message


@dataclass
class SourceDoc:
    """A parsed YAML file: its value, and the 1-based line of every sub-value."""

    file: Path
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    # Where a string value's text begins: the line after the key for block scalars (`|`, `>`).
    text_lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Path_) -> int:
        """Line of the deepest known prefix of `path` (pydantic locs may point below a scalar)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


# libyaml's loader keeps the same line marks and parses about 10x faster (server start-up budget).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(file: Path) -> SourceDoc:
    text = file.read_text(encoding="utf-8")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Path_, int] = {}
        text_lines: dict[Path_, int] = {}
        data = None if node is None else _construct(loader, node, (), lines, text_lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(file, line, f"YAML syntax: {exc.problem or exc}") from None
    finally:
        loader.dispose()
    return SourceDoc(file, data, lines, text_lines)


def _construct(loader, node: yaml.Node, path: Path_, lines: dict, text_lines: dict, seen: set | None = None) -> Any:
    # An anchor/alias (&a / *a) makes the composer reuse one node in several places. Content never
    # needs that, and expanding nested aliases is exponential ("billion laughs"): refuse it.
    seen = set() if seen is None else seen
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        if id(node) in seen:
            raise yaml.MarkedYAMLError(problem="YAML anchors and aliases (&name / *name) are not allowed in content",
                                       problem_mark=node.start_mark)
        seen.add(id(node))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise yaml.MarkedYAMLError(
                    problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
                )
            out[key] = _construct(loader, value_node, (*path, key), lines, text_lines, seen)
            # A key's own line is where an unknown or duplicate key should be reported.
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, (*path, i), lines, text_lines, seen) for i, item in enumerate(node.value)]
    block = isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")
    text_lines[path] = node.start_mark.line + 1 + (1 if block else 0)
    return loader.construct_object(node, deep=True)
