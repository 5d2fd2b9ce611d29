"""One module per drill family; each exposes PROPERTIES: {check id: function(candidate)}, run in order.

These modules import torch and the reference encodings; only the checker's subprocess (and tests)
import them.
"""

from __future__ import annotations

from importlib import import_module
from typing import Callable


def properties(checker: str) -> dict[str, Callable]:
    """The PROPERTIES of `peprep.drills.checks.<checker>`."""
    return import_module(f"peprep.drills.checks.{checker}").PROPERTIES
