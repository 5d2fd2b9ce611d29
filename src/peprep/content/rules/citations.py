"""kp-exists: every question and follow-up cites knowledge points that exist."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import process

from peprep.content.problems import Problem
from peprep.content.rules import rule
from peprep.content.schema import Content, walk_asked


@rule("kp-exists", "every question and follow-up cites existing KPs in `kp`")
def check_kp_exists(content: Content) -> Iterable[Problem]:
    kps = content.kp_index()
    for question in content.questions():
        for item in walk_asked(question):
            for kp_id in item.kp:
                if kp_id not in kps:
                    close = process.extractOne(kp_id, list(kps)) if kps else None
                    hint = f"did you mean '{close[0]}'? " if close and close[1] > 70 else ""
                    yield Problem(item.file, item.line("kp"), "kp-exists",
                                  f"{item.full_id} cites unknown knowledge point '{kp_id}'",
                                  f"{hint}cite an existing KP id or write the KP first")
