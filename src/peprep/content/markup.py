"""Find the math and the code in Markdown text, and the prose left when both are removed.

The grounding rules compare formulas with formulas and words with words, so they need the three
apart: `$…$` / `$$…$$` math (not `\\$`, not inside code), inline `code` and fenced code blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
_INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.S)
# $$…$$ first (display), then $…$ (inline); a $ escaped as \$ is a dollar sign, not math.
_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\s)(.+?)(?<![\\\s])\$(?!\d)", re.S)


@dataclass(frozen=True)
class Formula:
    tex: str
    display: bool
    offset: int  # character offset in the original text, for line numbers


@dataclass(frozen=True)
class Markup:
    prose: str            # the text with math and code replaced by spaces (offsets preserved)
    formulas: list[Formula]
    code: list[str]


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


def split_markup(text: str) -> Markup:
    code = [m.group(0) for m in _FENCE.finditer(text)]
    without_code = _FENCE.sub(_blank, text)
    code += [m.group(2) for m in _INLINE_CODE.finditer(without_code)]
    without_code = _INLINE_CODE.sub(_blank, without_code)
    formulas = [
        Formula(tex=(m.group(1) if m.group(1) is not None else m.group(2)), display=m.group(1) is not None, offset=m.start())
        for m in _MATH.finditer(without_code)
    ]
    prose = _MATH.sub(_blank, without_code)
    return Markup(prose=prose, formulas=formulas, code=code)


def normalize_tex(tex: str) -> str:
    """Whitespace never changes a formula's meaning in TeX math; ignore it when comparing."""
    return re.sub(r"\s+", "", tex)


def line_offset(text: str, offset: int) -> int:
    """0-based count of lines before `offset` in `text`."""
    return text.count("\n", 0, offset)
