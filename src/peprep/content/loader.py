"""Load `content/` into the models of `peprep.content.schema`, collecting every structural problem.

Layout (design.md):
    content/references.yaml          key -> reference (plus content/references/*.yaml)
    content/glossary.yaml            list of terms (plus content/glossary/*.yaml)
    content/chapters/NN-slug/chapter.yaml      id, title, order, summary
    content/chapters/NN-slug/knowledge*.yaml   list of knowledge points (several files allowed)
    content/chapters/NN-slug/questions*.yaml   list of questions with their follow-ups
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from peprep.content.problems import Problem
from peprep.content.schema import (
    Asked,
    Chapter,
    ChapterMeta,
    Content,
    FollowUp,
    FollowUpRef,
    GlossaryTerm,
    KnowledgePoint,
    Located,
    Question,
    Reference,
)
from peprep.content.yaml_source import SourceDoc, YamlSyntaxError, read_yaml

M = TypeVar("M", bound=BaseModel)


class ContentError(Exception):
    """The content could not be loaded; `problems` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        lines = "\n".join(p.format() for p in self.problems[:20])
        more = f"\n… and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the content:\n{lines}{more}")


def default_content_dir() -> Path:
    """`$PEPREP_CONTENT`, else the repository's `content/` (the package is installed editable)."""
    if env := os.environ.get("PEPREP_CONTENT"):
        return Path(env)
    return Path(__file__).resolve().parents[3] / "content"


def load_content(root: Path | None = None) -> Content:
    """Load the content, raising `ContentError` listing every structural problem."""
    content, problems = read_content(root or default_content_dir())
    if problems:
        raise ContentError(problems)
    return content


def read_content(root: Path) -> tuple[Content, list[Problem]]:
    """Load what can be loaded; return it with the structural problems found on the way."""
    problems: list[Problem] = []
    if not root.is_dir():
        problems.append(Problem(root, 1, "layout", "content folder not found", "pass --content DIR or set PEPREP_CONTENT"))
        return Content(root=root, chapters=[], glossary=[], references={}), problems

    references: dict[str, Reference] = {}
    for file in _with_fragments(root, "references"):
        for key, ref in _load_references(file, problems).items():
            if key in references:
                problems.append(Problem(ref.file, ref.line(), "id-unique",
                                        f"reference key '{key}' is already defined at {references[key].where()}",
                                        "keep one entry; cite it from every chapter"))
            references.setdefault(key, ref)
    glossary = [term for file in _with_fragments(root, "glossary") for term in _load_list(file, GlossaryTerm, problems)]
    chapters = [
        chapter
        for folder in sorted(p for p in (root / "chapters").glob("*") if p.is_dir())
        if (chapter := _load_chapter(folder, problems)) is not None
    ]
    chapters.sort(key=lambda c: (c.meta.order, c.id))
    return Content(root=root, chapters=chapters, glossary=glossary, references=references), problems


def _with_fragments(root: Path, name: str) -> list[Path]:
    """`name.yaml` plus `name/*.yaml`: chapters add their own terms and papers in a file of their own."""
    return [root / f"{name}.yaml", *sorted((root / name).glob("*.yaml"))]


def _read(file: Path, problems: list[Problem]) -> SourceDoc | None:
    try:
        return read_yaml(file)
    except FileNotFoundError:
        problems.append(Problem(file, 1, "layout", "file is missing", "create it (see content/README.md)"))
    except YamlSyntaxError as exc:
        problems.append(Problem(file, exc.line, "yaml", exc.message, "fix the YAML syntax at this line"))
    except UnicodeDecodeError as exc:
        problems.append(Problem(file, 1, "yaml", f"not UTF-8: {exc}", "save the file as UTF-8"))
    # Found by fuzzing (tests/reliability/test_fuzz_content.py): what else a damaged file raises.
    except yaml.reader.ReaderError as exc:
        problems.append(Problem(file, _line_at(file, exc.position), "yaml",
                                f"character {exc.character!r} is not allowed in YAML ({exc.reason})",
                                "delete it (usually a control character pasted from elsewhere)"))
    except yaml.YAMLError as exc:
        problems.append(Problem(file, 1, "yaml", f"YAML error: {exc}", "fix the YAML syntax"))
    except RecursionError:
        problems.append(Problem(file, 1, "yaml", "nested too deeply, or an alias (*name) refers to its own anchor",
                                "flatten the structure; content files need no anchors or aliases"))
    except TypeError as exc:  # a list or mapping used as a mapping key: `? [a, b]` or `{[1]: 2}`
        problems.append(Problem(file, 1, "yaml", f"a mapping key must be a plain value ({exc})",
                                "use a string as the key"))
    except OSError as exc:
        problems.append(Problem(file, 1, "layout", f"cannot read the file: {exc.strerror or exc}",
                                "make it a readable file"))
    return None


def _line_at(file: Path, position: int) -> int:
    """1-based line of a character offset of the file's text (for errors that only give the offset)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return 1
    return text.count("\n", 0, max(0, position)) + 1


def _load_references(file: Path, problems: list[Problem]) -> dict[str, Reference]:
    doc = _read(file, problems)
    if doc is None:
        return {}
    if not isinstance(doc.data, dict):
        problems.append(Problem(file, 1, "schema", "expected a mapping of reference key -> reference", ""))
        return {}
    out = {}
    for key, raw in doc.data.items():
        if (ref := _validate(Reference, raw, doc, (key,), problems)) is not None:
            out[str(key)] = ref
    return out


def _load_list(file: Path, model: type[M], problems: list[Problem], required: bool = True) -> list[M]:
    if not required and not file.exists():
        return []
    doc = _read(file, problems)
    if doc is None or doc.data is None:
        return []
    if not isinstance(doc.data, list):
        problems.append(Problem(file, 1, "schema", f"expected a list of {model.__name__} items", "start each item with '- '"))
        return []
    items = (_validate(model, raw, doc, (i,), problems) for i, raw in enumerate(doc.data))
    return [item for item in items if item is not None]


def _load_chapter(folder: Path, problems: list[Problem]) -> Chapter | None:
    doc = _read(folder / "chapter.yaml", problems)
    meta = _validate(ChapterMeta, doc.data, doc, (), problems) if doc else None
    if meta is None:
        return None
    kps = [kp for f in sorted(folder.glob("knowledge*.yaml")) for kp in _load_list(f, KnowledgePoint, problems)]
    questions = [q for f in sorted(folder.glob("questions*.yaml")) for q in _load_list(f, Question, problems)]
    for question in questions:
        _assign_full_ids(question, question.id)
    return Chapter(meta=meta, folder=folder, knowledge_points=kps, questions=questions)


def _assign_full_ids(item: Asked, full_id: str) -> None:
    item._full_id = full_id
    for follow in item.inline_followups():
        _assign_full_ids(follow, f"{full_id}.{follow.id}")


def _validate(model: type[M], raw: Any, doc: SourceDoc, base: tuple, problems: list[Problem]) -> M | None:
    try:
        item = model.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if not _is_union_tag(x))
            problems.append(Problem(doc.file, doc.line_of(base + loc), "schema", _describe(err, loc), _fix(err)))
        return None
    _attach_locations(item, doc, base)
    return item


def _is_union_tag(part) -> bool:
    # pydantic puts the union member's name into `loc` (e.g. 'FollowUp'); it is not a YAML key.
    return isinstance(part, str) and part[:1].isupper()


def _describe(err: dict, loc: tuple) -> str:
    where = ".".join(str(x) for x in loc) or "item"
    if err["type"] == "extra_forbidden":
        return f"unknown key '{loc[-1]}'"
    if err["type"] == "missing":
        return f"missing required key '{where}'"
    return f"{where}: {err['msg']}"


def _fix(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "remove the key or correct its spelling (see content/README.md for the allowed keys)"
    if err["type"] == "missing":
        return "add the key"
    return "correct the value"


def _attach_locations(item: Any, doc: SourceDoc, path: tuple) -> None:
    """Give every Located model (and nested one) its file, line and per-field lines."""
    if isinstance(item, Located):
        names = type(item).model_fields
        fields = {name: doc.lines[(*path, name)] for name in names if (*path, name) in doc.lines}
        texts = {name: doc.text_lines[(*path, name)] for name in names if (*path, name) in doc.text_lines}
        item.locate(doc.file, doc.line_of(path), fields, texts)
        for name in type(item).model_fields:
            value = getattr(item, name)
            if isinstance(value, Located):
                _attach_locations(value, doc, (*path, name))
            elif isinstance(value, list):
                for i, sub in enumerate(value):
                    if isinstance(sub, Located):
                        _attach_locations(sub, doc, (*path, name, i))


__all__ = ["ContentError", "default_content_dir", "load_content", "read_content", "FollowUp", "FollowUpRef", "Question"]
