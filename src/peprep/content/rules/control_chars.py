"""control-character: no tab, backspace or other control character hides in the content's text.

They are invisible in an editor and almost always an escape that ate a backslash on the way in — a
script that wrote "\theta" in a Python or shell string gets a tab and "heta", "\beta" a backspace and
"eta", "\frac" a form feed — and KaTeX renders the remains without complaint.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from peprep.content.problems import Problem
from peprep.content.rules import rule
from peprep.content.schema import Content

NAMES = {"\t": "a tab", "\b": "a backspace", "\f": "a form feed", "\v": "a vertical tab", "\r": "a carriage return"}


@rule("control-character", "no tab, backspace or other control character in the content's YAML")
def check_control_characters(content: Content) -> Iterable[Problem]:
    for file in sorted(content.root.rglob("*.yaml")):
        for number, line in enumerate(file.read_text(encoding="utf-8").split("\n"), start=1):
            for column, char in enumerate(line, start=1):
                if unicodedata.category(char) == "Cc":
                    what = NAMES.get(char, f"the control character U+{ord(char):04X}")
                    yield Problem(file, number, "control-character",
                                  f"{what} at column {column}: {line[max(0, column - 12):column + 8]!r}",
                                  "a lost backslash? write \\t, \\b, \\f as two characters ('\\theta', not a tab "
                                  "then 'heta'); indent with spaces")
                    break  # one problem per line is enough to find it
