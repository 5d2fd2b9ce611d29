"""The checker's rules: one function per rule, each `(Content) -> Iterable[Problem]`.

A rule checks meaning; structure (keys, types) is checked by the schema while loading.
`RULES` is the registry `peprep check` runs, in this order; `peprep check --rules` lists it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from peprep.content.problems import Problem
from peprep.content.schema import Content


@dataclass(frozen=True)
class Rule:
    name: str
    summary: str
    check: Callable[[Content], Iterable[Problem]]


RULES: list[Rule] = []


def rule(name: str, summary: str):
    """Register a rule function under `name`."""

    def register(fn: Callable[[Content], Iterable[Problem]]):
        RULES.append(Rule(name, summary, fn))
        return fn

    return register


# Importing the modules registers their rules (order = the order problems are reported in).
from peprep.content.rules import (  # noqa: E402,F401
    ids,
    references,
    citations,
    grounding,
    followups,
    verified_by,
    code_symbol,
    figures,
    banned,
    control_chars,
    bare_math,
    katex,
)

STRUCTURAL_RULES = {
    "layout": "the content folder and the files every chapter needs exist",
    "yaml": "every file is valid UTF-8 YAML without duplicate keys",
    "schema": "required keys present, no unknown keys, values of the right type",
}
