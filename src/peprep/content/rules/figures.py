"""figure-exists: every `figure` of a KP is a file inside content/figures/."""

from __future__ import annotations

from collections.abc import Iterable

from peprep.content.problems import Problem
from peprep.content.rules import rule
from peprep.content.schema import Content


@rule("figure-exists", "every `figure` is a file under content/figures/")
def check_figure_exists(content: Content) -> Iterable[Problem]:
    figures = (content.root / "figures").resolve()
    for kp in content.knowledge_points():
        if kp.figure is None:
            continue
        path = (figures / kp.figure).resolve()
        if not path.is_relative_to(figures) or not path.is_file():
            yield Problem(kp.file, kp.line("figure"), "figure-exists",
                          f"figure '{kp.figure}' of {kp.id} is not a file under content/figures/",
                          "regenerate the figures (.venv/bin/python experiments/make_figures.py) or correct the name")
