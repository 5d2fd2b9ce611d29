"""The `peprep` command: a thin face over the library (parse -> call -> render with rich).

Each module registers its commands on the one Typer app; importing them here is what wires them in.
Command docstrings are the `--help` text and end with an `Example:` (tests/test_readme.py checks).
"""

from peprep.cli import content  # noqa: F401  (registers serve, check, stats, search)
from peprep.cli.app import app

__all__ = ["app"]
