"""reference-known: every `refs` key of a KP names an entry of references.yaml."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import process

from peprep.content.problems import Problem
from peprep.content.rules import rule
from peprep.content.schema import Content


@rule("reference-known", "every `refs` key is defined in references.yaml")
def check_reference_known(content: Content) -> Iterable[Problem]:
    keys = list(content.references)
    for kp in content.knowledge_points():
        for key in kp.refs:
            if key not in content.references:
                close = process.extractOne(key, keys) if keys else None
                hint = f"did you mean '{close[0]}'? " if close and close[1] > 70 else ""
                yield Problem(kp.file, kp.line("refs"), "reference-known", f"unknown reference key '{key}' in {kp.id}",
                              f"{hint}add '{key}' to content/references.yaml or correct the key")
