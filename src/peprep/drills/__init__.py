"""Coding drills: write a positional-encoding function by hand, then check it against the reference.

    peprep drill list                 the drills (`catalog.DRILLS`)
    peprep drill start NAME           writes a skeleton with the signature and the statement (`skeleton`)
    peprep drill check FILE           runs it on fresh random inputs and edge cases in a subprocess
                                      with a time limit, and says in Chinese which property failed,
                                      on the smallest input, and which known bug it looks like (`check`)

The catalog and the skeletons are plain text (no torch); the checks run only in the subprocess.
"""

from peprep.drills.catalog import DRILLS, Check, Drill, drill_names, get_drill
from peprep.drills.check import CheckResult, DrillError, Report, check_file
from peprep.drills.skeleton import skeleton_source, solution_path, solution_source

__all__ = [
    "DRILLS", "Check", "CheckResult", "Drill", "DrillError", "Report", "check_file", "drill_names",
    "get_drill", "skeleton_source", "solution_path", "solution_source",
]
