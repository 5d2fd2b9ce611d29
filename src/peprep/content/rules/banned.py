"""banned-rendering: machine-translation renderings the glossary bans appear nowhere in the content."""

from __future__ import annotations

from collections.abc import Iterable

from peprep.content.problems import Problem
from peprep.content.rules import rule
from peprep.content.schema import Content


@rule("banned-rendering", "no glossary-banned rendering (变压器, 代币, 绳索, …) appears in the content")
def check_banned_rendering(content: Content) -> Iterable[Problem]:
    banned = {word: term for term in content.glossary for word in term.banned}
    glossary_files = {term.file.resolve() for term in content.glossary}
    for file in sorted(content.root.rglob("*.yaml")):
        if file.resolve() in glossary_files:
            continue  # the glossary lists the banned words on purpose
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            for word, term in banned.items():
                if word in line:
                    yield Problem(file, number, "banned-rendering",
                                  f"'{word}' is a banned rendering of {term.en}",
                                  f"write '{term.zh}'" + (f" ({term.note})" if term.note else ""))
