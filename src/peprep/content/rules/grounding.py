"""grounding-formula and grounding-term: an answer says nothing its cited KPs (or its derivation) do not.

This is the promise to the user: every answer can be found in, or derived from, the knowledge points.
Formulas are compared with whitespace removed; a technical term is a glossary term (any of its names)
or an English word outside math and code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from peprep.content.markup import normalize_tex, split_markup
from peprep.content.problems import Problem
from peprep.content.rules import rule
from peprep.content.rules.locations import line_in_field
from peprep.content.schema import Asked, Content, GlossaryTerm, walk_asked

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")
_CJK = re.compile(r"[\u3400-\u9fff]")
# Plain English that carries no technical claim; everything else in an answer must be grounded.
COMMON_WORDS = frozenset(
    "a an the and or but nor of to in on at by for from with without as is are was were be been "
    "it its this that these those not no yes vs via per if then else so than e g i etc ok "
    "we you they he she one two all any each only also just very more most less same".split()
)


def _sources(content: Content, item: Asked) -> str:
    kps = content.kp_index()
    return "\n".join([*(kps[k].text() for k in item.kp if k in kps), item.derivation or ""])


@rule("grounding-formula", "every formula in an answer appears in a cited KP or in the derivation")
def check_grounding_formula(content: Content) -> Iterable[Problem]:
    for question in content.questions():
        for item in walk_asked(question):
            haystack = normalize_tex(_sources(content, item))
            for formula in split_markup(item.answer).formulas:
                if normalize_tex(formula.tex) not in haystack:
                    yield Problem(
                        item.file, line_in_field(item, "answer", item.answer, formula.offset), "grounding-formula",
                        f"formula ${formula.tex.strip()}$ in the answer of {item.full_id} is in none of its cited KPs "
                        f"({', '.join(item.kp)}) nor in its derivation",
                        "cite the KP that states it, add it to a cited KP, or show in `derivation` how it follows",
                    )


@rule("grounding-term", "every glossary term and English technical word in an answer appears in a cited KP or the derivation")
def check_grounding_term(content: Content) -> Iterable[Problem]:
    glossary = content.glossary
    for question in content.questions():
        for item in walk_asked(question):
            sources = _sources(content, item)
            prose = split_markup(item.answer).prose
            missing = [t.zh for t in glossary if _mentions(t, prose) and not _mentions(t, sources)]
            covered = {n.lower() for t in glossary if _mentions(t, prose) for n in t.names()}
            for word in dict.fromkeys(_WORD.findall(prose)):
                if len(word) < 2 or word.lower() in COMMON_WORDS or word.lower() in covered:
                    continue
                if not _has_word(sources, word) and word not in missing:
                    missing.append(word)
            for term in missing:
                yield Problem(
                    item.file, item.line("answer"), "grounding-term",
                    f"the answer of {item.full_id} uses '{term}', which none of its cited KPs ({', '.join(item.kp)}) "
                    f"nor its derivation mentions",
                    f"cite the KP that explains '{term}', or say in `derivation` where it comes from",
                )


def _mentions(term: GlossaryTerm, text: str) -> bool:
    return any(_has_name(name, text) for name in term.names())


def _has_name(name: str, text: str) -> bool:
    if _CJK.search(name):
        return name in text
    return _has_word(text, name)


def _has_word(text: str, word: str) -> bool:
    return _word_pattern(word).search(text) is not None


@lru_cache(maxsize=4096)
def _word_pattern(word: str) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])", re.I)
