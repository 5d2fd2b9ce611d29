"""`peprep check`: load the content, then run every rule; each problem names file:line, rule and fix."""

from __future__ import annotations

from pathlib import Path

from peprep.content.loader import read_content
from peprep.content.problems import Problem
from peprep.content.rules import RULES


def check_content(root: Path, only: set[str] | None = None) -> list[Problem]:
    """All problems in the content at `root`, structural ones first, then each rule's, sorted by place."""
    content, problems = read_content(root)
    for rule in RULES:
        if only is None or rule.name in only:
            problems.extend(rule.check(content))
    return sorted(set(problems), key=lambda p: (str(p.file), p.line, p.rule, p.message))
