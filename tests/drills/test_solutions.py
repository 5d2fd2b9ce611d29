"""Every reference solution passes its own drill's check, on two different random draws."""

from __future__ import annotations

import pytest

from peprep.drills import DRILLS, check_file, solution_path


@pytest.mark.parametrize("seed", [0, 12345])
@pytest.mark.parametrize("drill", DRILLS, ids=lambda d: d.name)
def test_reference_solution_passes(drill, seed):
    report = check_file(solution_path(drill), drill_name=drill.name, seed=seed, in_process=True)
    assert report.passed, [(r.id, r.detail) for r in report.failures()]
    assert all(r.status == "pass" for r in report.results)
