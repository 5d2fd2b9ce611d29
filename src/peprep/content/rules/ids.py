"""id-format and id-unique: ids are well formed, carry their chapter's prefix, and are never used twice."""

from __future__ import annotations

import re
from collections.abc import Iterable

from peprep.content.problems import Problem
from peprep.content.rules import rule
from peprep.content.schema import ID_PATTERN, Content, walk_asked


@rule("id-format", "ids are dotted lowercase slugs: KP `<chapter>.<slug>`, question `<chapter>.q.<slug>`")
def check_id_format(content: Content) -> Iterable[Problem]:
    for chapter in content.chapters:
        for kp in chapter.knowledge_points:
            parts = kp.id.split(".")
            if not ID_PATTERN.match(kp.id) or parts[0] != chapter.id or parts[1] == "q":
                yield Problem(
                    kp.file, kp.line("id"), "id-format",
                    f"knowledge point id '{kp.id}' is not of the form '{chapter.id}.<slug>'",
                    f"rename it, e.g. '{chapter.id}.{_slugify(parts[-1])}' (lowercase a-z, 0-9, '-', dots between parts)",
                )
        for q in chapter.questions:
            if not re.fullmatch(rf"{re.escape(chapter.id)}\.q\.[a-z0-9][a-z0-9-]*", q.id):
                yield Problem(
                    q.file, q.line("id"), "id-format",
                    f"question id '{q.id}' is not of the form '{chapter.id}.q.<slug>'",
                    f"rename it, e.g. '{chapter.id}.q.{_slugify(q.id.split('.')[-1])}'",
                )
    for key, ref in content.references.items():
        if not re.fullmatch(r"[a-z][a-z0-9-]*", key):
            yield Problem(ref.file, ref.line(), "id-format", f"reference key '{key}' is not a lowercase slug",
                          "use author + year, e.g. 'vaswani2017'")


@rule("id-unique", "no id (chapter, KP, question, follow-up, glossary term, replaced id) is used twice")
def check_id_unique(content: Content) -> Iterable[Problem]:
    seen: dict[str, str] = {}

    def claim(item_id: str, where: str, file, line) -> Iterable[Problem]:
        if item_id in seen:
            yield Problem(file, line, "id-unique", f"id '{item_id}' is already used at {seen[item_id]}",
                          "give one of them a new id (ids are never reused)")
        else:
            seen[item_id] = where

    chapter_ids: dict[str, str] = {}
    for chapter in content.chapters:
        meta = chapter.meta
        if chapter.id in chapter_ids:
            yield Problem(meta.file, meta.line("id"), "id-unique",
                          f"chapter id '{chapter.id}' is already used at {chapter_ids[chapter.id]}", "rename one chapter")
        chapter_ids.setdefault(chapter.id, meta.where("id"))
        for kp in chapter.knowledge_points:
            yield from claim(kp.id, kp.where("id"), kp.file, kp.line("id"))
        for q in chapter.questions:
            for item in walk_asked(q):
                yield from claim(item.full_id, item.where("id"), item.file, item.line("id"))
    for item in content.knowledge_points() + content.questions():
        if item.replaces and item.replaces in seen:
            yield Problem(item.file, item.line("replaces"), "id-unique",
                          f"'{item.id}' replaces '{item.replaces}', which still exists at {seen[item.replaces]}",
                          "delete the replaced item: a replaced id is retired")
    names: dict[str, str] = {}
    for term in content.glossary:
        for name in (term.zh, term.en.lower()):
            if name in names:
                yield Problem(term.file, term.line(), "id-unique", f"glossary term '{name}' is already defined at {names[name]}",
                              "merge the two entries")
            names.setdefault(name, term.where())


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "name"
