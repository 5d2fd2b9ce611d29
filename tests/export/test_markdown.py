"""The Markdown handbook: everything is there, math is kept, and every internal link lands.

Links are checked the way a renderer sees them: each file is rendered by markdown-it (CommonMark, like
GitHub's parser) and every relative href must name a file of the handbook and an anchor in it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from peprep.export.markdown import export_markdown
from peprep.export.output import HANDBOOK_MARKER, ExportError


def rendered(folder: Path) -> dict[str, HTMLParser]:
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    return {p.relative_to(folder).as_posix(): HTMLParser(md.render(p.read_text(encoding="utf-8")))
            for p in folder.glob("*.md")}


@pytest.fixture
def handbook(export_tree, tmp_path) -> Path:
    return export_markdown(export_tree.load(), tmp_path / "handbook").path


def test_files_of_the_handbook(handbook):
    names = sorted(p.relative_to(handbook).as_posix() for p in handbook.rglob("*") if p.is_file())
    assert names == [HANDBOOK_MARKER, "01-why.md", "02-rope.md", "README.md", "figures/rope-rotation.png",
                     "glossary.md", "references.md"]


def test_chapters_hold_kps_then_questions_answers_and_followups(handbook):
    text = (handbook / "01-why.md").read_text(encoding="utf-8")
    order = ["## 知识点", "1.1 自注意力的置换等变性", "**常见误区**：自注意力是置换不变的。", "## 面试题",
             "Q1.1 Transformer 为什么需要位置编码？", "★☆☆ 基础", "**答案**", "**要点**", "- 置换等变",
             "追问：是置换不变吗？", "不是，是等变。", "追问：怎么证明"]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    assert "#### " in text and "##### " in text  # 追问 of a 追问 sits one level deeper


def test_math_and_code_are_kept_as_written(handbook):
    rope = (handbook / "02-rope.md").read_text(encoding="utf-8")
    assert r"$\theta_i = 10000^{-2i/d}$" in rope
    assert "$$\nR_{\\Theta,m}\\,x = x \\odot \\cos m\\theta" in rope  # `formula:` as display math
    assert "```python\ndef rotate_half(x):" in rope
    why = (handbook / "01-why.md").read_text(encoding="utf-8")
    assert r"\frac{XW_Q (XW_K)^\top}{\sqrt{d}}" in why


def test_every_internal_link_and_image_resolves(handbook):
    pages = rendered(handbook)
    anchors = {name: {a.attributes.get("name") for a in page.css("a[name]")} for name, page in pages.items()}
    checked = 0
    for name, page in pages.items():
        for node, attr in [*((a, "href") for a in page.css("a[href]")), *((i, "src") for i in page.css("img"))]:
            url = urlsplit(node.attributes[attr])
            if url.scheme:
                continue
            target = unquote(url.path) or name
            assert (handbook / target).is_file(), f"{name}: {node.attributes[attr]} names no file"
            if url.fragment:
                assert url.fragment in anchors[target], f"{name}: #{url.fragment} is not an anchor in {target}"
            checked += 1
    assert checked > 30


def test_questions_link_to_their_kps_and_ref_followups_across_files(handbook):
    rope = (handbook / "02-rope.md").read_text(encoding="utf-8")
    assert "(#rope.definition)" in rope  # same file
    assert "[why.q.need-pe.invariant](01-why.md#why.q.need-pe.invariant)" in rope  # a `ref:` 追问
    why = (handbook / "01-why.md").read_text(encoding="utf-8")
    assert '<a name="why.q.need-pe.invariant"></a>' in why


def test_index_glossary_and_references(handbook, export_tree):
    index = (handbook / "README.md").read_text(encoding="utf-8")
    from peprep.export.version import content_version

    assert content_version(export_tree.content).digest in index
    assert "[旋转位置编码 RoPE](02-rope.md)" in index
    glossary = (handbook / "glossary.md").read_text(encoding="utf-8")
    assert r"竖线 \| 也要" in glossary and '<a name="term-rotary-position-embedding"></a>' in glossary
    references = (handbook / "references.md").read_text(encoding="utf-8")
    assert "[arXiv:2104.09864](https://arxiv.org/abs/2104.09864)" in references


def test_re_export_replaces_its_own_folder_but_never_a_foreign_one(export_tree, tmp_path, handbook):
    (handbook / "stale.md").write_text("old", encoding="utf-8")
    export_markdown(export_tree.load(), handbook)
    assert not (handbook / "stale.md").exists() and (handbook / "README.md").exists()
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(ExportError, match="not empty"):
        export_markdown(export_tree.load(), foreign)
    assert [p.name for p in foreign.iterdir()] == ["mine.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_html_in_content_is_inert_but_math_and_code_keep_their_angle_brackets(tree, tmp_path):
    # `tree` is the small valid content tree of tests/conftest.py; put hostile HTML in a body and an answer.
    knowledge = "content/chapters/01-why/knowledge.yaml"
    tree.replace(knowledge, "RoPE 旋转 query 和 key。",
                 "RoPE 旋转 query 和 key。<script>alert(1)</script> 当 $i<j$ 时，`a<b` 成立。")
    tree.replace("content/chapters/01-why/questions.yaml", "answer: RoPE 旋转 query 和 key。",
                 "answer: 'RoPE 旋转 query 和 key。<img src=x onerror=alert(1)>'")
    from peprep.content import load_content

    export_markdown(load_content(tree.content), tmp_path / "book")
    text = (tmp_path / "book" / "01-why.md").read_text(encoding="utf-8")
    assert "<script" not in text and "<img" not in text
    assert "&lt;script>alert(1)&lt;/script>" in text and "&lt;img src=x" in text
    assert "$i<j$" in text and "`a<b`" in text
    html = MarkdownIt("commonmark").render(text)
    assert HTMLParser(html).css("script, img[onerror]") == []
