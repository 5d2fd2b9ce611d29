"""The PDF handbook, printed by Debian's Chromium from the app's /print view.

pdftotext proves the text came through (Chinese, formulas typeset rather than raw TeX, no U+FFFD);
pdftoppm rasterises page 1 (the cover) so it can be looked at: the file is kept under the test's
tmp folder and its path printed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from peprep.export.output import ExportError
from peprep.export.pdf import count_pages, export_pdf, find_chromium, print_page, serving
from peprep.export.version import content_version

pytestmark = pytest.mark.browser

needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None or shutil.which("pdftotext") is None,
                                    reason="needs Debian's chromium and poppler-utils (bin/setup installs them)")


@pytest.fixture(scope="module")
def printed(module_export_tree) -> tuple[Path, str, Path]:
    """One print shared by the tests below."""
    tree = module_export_tree
    result = export_pdf(tree.load(), tree.content.parent / "handbook.pdf")
    text = subprocess.run(["pdftotext", "-layout", str(result.path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return result.path, text, tree.content


@needs_chromium
def test_text_has_cover_contents_chapters_answers_and_captions(printed):
    pdf, text, content = printed
    version = content_version(content)
    for expected in ["位置编码面试通关", f"内容版本 {version.digest}", "目录", "第 1 章 为什么需要位置编码",
                     "第 2 章 旋转位置编码 RoPE", "Q1.1 Transformer 为什么需要位置编码？", "不是，是等变。",
                     "把 P 代入 softmax", "图 2.1", "术语表", "参考文献", "RoFormer"]:
        assert expected in text, expected


@needs_chromium
def test_formulas_are_typeset_not_raw_tex_and_no_replacement_glyphs(printed):
    _, text, _ = printed
    for raw in [r"\frac", r"\mathrm", r"\langle", r"\theta", "$"]:
        assert raw not in text, f"raw TeX {raw!r} in the PDF"
    assert "\ufffd" not in text
    assert "softmax" in text and "⟨" in text and "θ" in text  # KaTeX output, as text


@needs_chromium
def test_each_chapter_starts_a_page(printed):
    pdf, _, _ = printed
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout.split("\f")
    starts = [i for i, page in enumerate(pages) if page.lstrip().startswith("第 ")]
    assert len(starts) == 2 and starts[0] >= 2  # after the cover and the contents
    assert count_pages(pdf) == len([p for p in pages if p.strip()])


@needs_chromium
def test_page_one_rasterises(printed):
    pdf, _, _ = printed
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", "60", "-png", str(pdf), str(pdf.with_suffix(""))], check=True)
    (png,) = pdf.parent.glob("handbook-*1.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    print(f"page 1: {png}")


@needs_chromium
def test_the_print_view_asks_nothing_outside_loopback(export_tree, tmp_path):
    with serving(export_tree.load()) as base:
        requested = print_page(f"{base}/print", tmp_path / "p.pdf", find_chromium())
    assert requested and all(url.startswith(base + "/") for url in requested)
    assert any("katex" in url for url in requested) and any("/figures/" in url for url in requested)


def test_missing_chromium_names_the_fix_and_writes_nothing(export_tree, tmp_path, monkeypatch):
    monkeypatch.setenv("PEPREP_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(ExportError, match="not an executable") as error:
        export_pdf(export_tree.load(), tmp_path / "out.pdf")
    assert "apt-get install chromium" in error.value.fix
    monkeypatch.delenv("PEPREP_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExportError, match="Chromium was not found"):
        export_pdf(export_tree.load(), tmp_path / "out.pdf")
    assert not list(tmp_path.glob("*.pdf")) and not list(tmp_path.glob(".out.pdf*"))
