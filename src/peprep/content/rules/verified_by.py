"""verified-by: every `verified_by` entry names a test file under tests/ and a test in it."""

from __future__ import annotations

from collections.abc import Iterable

from peprep.content.problems import Problem
from peprep.content.python_source import find_definition, split_test_id
from peprep.content.rules import rule
from peprep.content.schema import Content


@rule("verified-by", "every `verified_by` names an existing test (tests/…py::test_name)")
def check_verified_by(content: Content) -> Iterable[Problem]:
    repo = content.root.parent
    for kp in content.knowledge_points():
        for node_id in kp.verified_by:
            path, name = split_test_id(node_id)
            where = (kp.file, kp.line("verified_by"), "verified-by")
            if not path.startswith("tests/") or not path.endswith(".py") or not name:
                yield Problem(*where, f"'{node_id}' in {kp.id} is not a pytest node id under tests/",
                              "write it as tests/claims/test_x.py::test_name")
            elif not (repo / path).is_file():
                yield Problem(*where, f"test file '{path}' named by {kp.id} does not exist", "create the test or fix the path")
            elif not name.split(".")[-1].startswith("test") or find_definition(repo / path, name) is None:
                yield Problem(*where, f"'{path}' has no test '{name}' (named by {kp.id})",
                              "write the test, or correct the name (pytest collects functions named test_*)")
