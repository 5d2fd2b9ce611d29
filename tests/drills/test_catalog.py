"""The catalog, the checks and the solutions describe the same drills; skeletons are valid stubs."""

from __future__ import annotations

import ast
from datetime import datetime, timezone

import pytest

from peprep.drills import DRILLS, get_drill, skeleton_source, solution_path
from peprep.drills.checks import properties
from peprep.drills.session import read_header

REQUIRED = {"sinusoidal", "learned-pe", "rope-interleaved", "rope-half", "rope-kv-cache", "alibi", "t5-bucket",
            "rope-scaling", "position-ids"}
START = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)


def test_the_required_drills_exist_with_unique_names():
    names = [d.name for d in DRILLS]
    assert len(names) == len(set(names))
    assert REQUIRED <= set(names)
    assert get_drill("no-such-drill") is None


@pytest.mark.parametrize("drill", DRILLS, ids=lambda d: d.name)
def test_every_check_has_a_property_and_every_property_a_check(drill):
    assert [c.id for c in drill.checks] == list(properties(drill.checker)), drill.name
    assert len(drill.checks) >= 3 and drill.statement and drill.kp and 1 <= drill.difficulty <= 3


@pytest.mark.parametrize("drill", DRILLS, ids=lambda d: d.name)
def test_solution_defines_every_entry_point(drill):
    tree = ast.parse(solution_path(drill).read_text(encoding="utf-8"))
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert set(drill.entry) <= defined


@pytest.mark.parametrize("drill", DRILLS, ids=lambda d: d.name)
def test_skeleton_has_header_statement_and_stubs_that_raise(drill, tmp_path):
    source = skeleton_source(drill, started=START)
    assert read_header(source) == (drill.name, START)
    assert drill.title in source
    namespace: dict = {}
    exec(compile(source, "skeleton.py", "exec"), namespace)  # valid Python; imports only torch
    for name in drill.entry:
        assert callable(namespace[name])
    first = namespace[drill.entry[0]]
    code = (first.__init__ if isinstance(first, type) else first).__code__
    n_args = code.co_argcount - (1 if isinstance(first, type) else 0)  # minus self
    with pytest.raises(NotImplementedError):
        first(*([None] * n_args))


def test_skeleton_keeps_docstrings_and_drops_bodies():
    source = skeleton_source(get_drill("rope-half"), started=START)
    assert "rotate_half" in source  # the docstring of apply_rope survives
    assert "inv_freq" not in source  # the body does not


def test_every_drill_cites_existing_knowledge_points():
    from peprep.content import default_content_dir, load_content

    kps = load_content(default_content_dir()).kp_index()
    for drill in DRILLS:
        missing = [k for k in drill.kp if k not in kps]
        assert not missing, (drill.name, missing)
