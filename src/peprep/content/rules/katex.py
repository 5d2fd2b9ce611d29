"""katex: every formula in the content renders with KaTeX — the same vendored copy the web app ships.

All formulas go to one `node` process (a few hundred formulas take well under a second).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from peprep.content.markup import split_markup
from peprep.content.problems import Problem
from peprep.content.rules import rule
from peprep.content.rules.locations import line_in_field
from peprep.content.schema import Content, Located, walk_asked

PACKAGE_DIR = Path(__file__).resolve().parents[2]
KATEX_JS = PACKAGE_DIR / "web" / "static" / "vendor" / "katex-0.19.1" / "katex.min.js"
RENDER_JS = PACKAGE_DIR / "content" / "katex_render.js"

Site = tuple[Path, int]


@rule("katex", "every formula renders with KaTeX (run with node)")
def check_katex(content: Content) -> Iterable[Problem]:
    formulas = collect_formulas(content)
    if not formulas:
        return
    node = shutil.which("node")
    if node is None or not KATEX_JS.is_file():
        missing = "node" if node is None else str(KATEX_JS)
        yield Problem(content.root, 1, "katex", f"cannot render formulas: {missing} not found",
                      "install Node.js (apt-get install nodejs) / restore the vendored KaTeX")
        return
    keys = list(formulas)
    run = subprocess.run([node, str(RENDER_JS), str(KATEX_JS)], input=json.dumps(keys), capture_output=True,
                         text=True, timeout=120)
    if run.returncode != 0:
        yield Problem(content.root, 1, "katex", f"node failed: {run.stderr.strip()[:300]}", "check the Node.js install")
        return
    for index, message in json.loads(run.stdout):
        tex, _ = keys[index]
        for file, line in formulas[keys[index]]:
            yield Problem(file, line, "katex", f"KaTeX cannot render ${tex.strip()}$: {message}",
                          "fix the LaTeX (KaTeX supports a subset: https://katex.org/docs/supported)")


def collect_formulas(content: Content) -> dict[tuple[str, bool], list[Site]]:
    """(tex, display) -> every place it is written."""
    out: dict[tuple[str, bool], list[Site]] = {}

    def add_text(item: Located, field: str, text: str | None) -> None:
        for formula in split_markup(text or "").formulas:
            site = (item.file, line_in_field(item, field, text, formula.offset))
            out.setdefault((formula.tex, formula.display), []).append(site)

    for chapter in content.chapters:
        add_text(chapter.meta, "summary", chapter.meta.summary)
        for kp in chapter.knowledge_points:
            for field in ("title", "body"):
                add_text(kp, field, getattr(kp, field))
            if kp.formula:
                out.setdefault((kp.formula, True), []).append((kp.file, kp.line("formula")))
            if kp.misconception:
                add_text(kp.misconception, "wrong", kp.misconception.wrong)
                add_text(kp.misconception, "why", kp.misconception.why)
        for question in chapter.questions:
            for item in walk_asked(question):
                for field in ("question", "answer", "derivation"):
                    add_text(item, field, getattr(item, field))
                for point in getattr(item, "key_points", []):
                    add_text(item, "key_points", point)
    for term in content.glossary:
        add_text(term, "note", term.note)
    return out
