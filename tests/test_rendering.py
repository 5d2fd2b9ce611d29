"""peprep.rendering: Markdown + math -> HTML with math kept verbatim for KaTeX and raw HTML disabled."""

import pytest
from selectolax.lexbor import LexborHTMLParser

from peprep.rendering import highlight_code, pygments_css, render_display_math, render_inline, render_markdown


def parse(html: str) -> LexborHTMLParser:
    return LexborHTMLParser(f"<body>{html}</body>")


def test_inline_math_is_kept_verbatim_and_escaped():
    out = render_markdown(r"设 $a<b$，且 $x_i^*$ 和 $\mathrm{Attn}(PX)=P\,\mathrm{Attn}(X)$。")
    tree = parse(out)
    assert [m.text() for m in tree.css("span.math.math-inline")] == [
        "a<b", "x_i^*", r"\mathrm{Attn}(PX)=P\,\mathrm{Attn}(X)"]
    assert "a&lt;b" in out
    assert "<em>" not in out  # the `_` and `*` inside math never became emphasis


def test_display_math_block_and_in_paragraph():
    out = render_markdown("前文\n\n$$\n\\frac{1}{2}\n$$\n\n段落里 $$x=1$$ 继续。")
    tree = parse(out)
    assert tree.css_first("div.math.math-display").text() == r"\frac{1}{2}"
    paragraph = tree.css("p")[-1]
    assert paragraph.css_first("span.math.math-display").text() == "x=1"  # a <div> may not sit in a <p>


def test_markdown_escapes_in_math_are_untouched():
    out = render_markdown(r"$\{a\}\_b \\ c$")
    assert parse(out).css_first(".math").text() == r"\{a\}\_b \\ c"


def test_dollar_before_digits_and_cjk_neighbours():
    tree = parse(render_markdown("第 $2i$ 维，基数 $10000$，即 $\\theta$的值"))
    assert [m.text() for m in tree.css(".math")] == ["2i", "10000", r"\theta"]


def test_raw_html_is_text():
    out = render_markdown('<script>alert(1)</script>\n\n行内 <b onclick="x">b</b>')
    assert "<script>" not in out and "<b " not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out


@pytest.mark.parametrize("link", ["javascript:alert(1)", "vbscript:x", "data:text/html;base64,PHNjcmlwdD4="])
def test_dangerous_links_are_not_links(link):
    assert "<a " not in render_markdown(f"[x]({link})")


def test_code_fence_is_highlighted_with_classes():
    tree = parse(render_markdown("```python\ntheta = 10000 ** (-2 * i / d)\n```"))
    block = tree.css_first("div.highlight pre")
    assert block.css("span.mi") and "theta = 10000" in block.text()
    assert not [n for n in block.css("span") if n.attributes.get("style")]


def test_unknown_fence_language_falls_back_to_text():
    tree = parse(render_markdown("```klingon\n<b>x</b>\n```"))
    assert tree.css_first("div.highlight pre").text().strip() == "<b>x</b>"


def test_inline_has_no_paragraph_and_keeps_math():
    out = render_inline("标题 $\\theta_i$ **粗**")
    assert not out.startswith("<p>")
    assert parse(out).css_first(".math-inline").text() == r"\theta_i" and "<strong>粗</strong>" in out


def test_display_formula_escapes():
    assert str(render_display_math(" a<b ")) == '<div class="math math-display">a&lt;b</div>'


def test_highlight_and_css_agree_on_the_class():
    assert str(highlight_code("x = 1")).startswith('<div class="highlight">')
    assert ".highlight .mi" in pygments_css()
