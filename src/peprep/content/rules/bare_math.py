"""bare-math: formulas are written as `$…$` math, not as TeX-ish plain text (`θ_i = base^{-2i/d}`).

Bare TeX shows up raw in the web app, the PDF and Anki, and is invisible to the grounding rules.
Titles are exempt: they are plain text everywhere (navigation, Anki links, search results).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from peprep.content.markup import split_markup
from peprep.content.problems import Problem
from peprep.content.rules import rule
from peprep.content.rules.locations import line_in_field
from peprep.content.schema import Content, Located, walk_asked

# A TeX command (\theta), a braced sub/superscript (x_{i}, b^{-2i/d}), or a superscript (2^13, QK^T).
BARE_TEX = re.compile(r"\\[A-Za-z]+|[\^_]\{|\^[0-9A-Za-z(]")


@rule("bare-math", "formulas in text are written as $…$ math, not as bare TeX (x^T, b^{-2i/d}, \\theta)")
def check_bare_math(content: Content) -> Iterable[Problem]:
    for chapter in content.chapters:
        for kp in chapter.knowledge_points:
            yield from _scan(kp, "body", kp.body)
            if kp.misconception:
                yield from _scan(kp.misconception, "wrong", kp.misconception.wrong)
                yield from _scan(kp.misconception, "why", kp.misconception.why)
        for question in chapter.questions:
            for item in walk_asked(question):
                for field in ("question", "answer", "derivation"):
                    yield from _scan(item, field, getattr(item, field))


def _scan(item: Located, field: str, text: str | None) -> Iterable[Problem]:
    if not text:
        return
    prose = split_markup(text).prose
    for match in BARE_TEX.finditer(prose):
        start = max(0, match.start() - 12)
        context = prose[start : match.end() + 12].strip()
        yield Problem(item.file, line_in_field(item, field, text, match.start()), "bare-math",
                      f"TeX outside math in {field}: “{context}”",
                      "wrap the formula in $…$ (or put code in `backticks`)")
