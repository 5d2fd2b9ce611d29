"""The `peprep` command: a thin face over the library (parse -> call -> render with rich).

Each module registers its commands on the one Typer app; importing them here is what wires them in.
Command docstrings are the `--help` text and end with an `Example:` (tests/test_readme.py checks).
"""

from peprep.cli import content  # noqa: F401  (registers serve, check, stats, search)
from peprep.cli import practice  # noqa: F401  (registers review, mock, progress)
from peprep.cli import export  # noqa: F401  (registers export anki|markdown|pdf)
from peprep.cli import drill  # noqa: F401  (registers drill list|show|start|check|solution)
from peprep.cli import lab  # noqa: F401  (registers lab list|run)
from peprep.cli import bench  # noqa: F401  (registers bench)
from peprep.cli.app import app

__all__ = ["app"]
