"""code-symbol: every `code` symbol of a KP is defined in peprep.encodings (checked without importing torch)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from peprep.content.problems import Problem
from peprep.content.python_source import encodings_symbol_file, find_definition
from peprep.content.rules import rule
from peprep.content.schema import Content

PACKAGE_DIR = Path(__file__).resolve().parents[2]


@rule("code-symbol", "every `code` symbol is defined in peprep.encodings")
def check_code_symbol(content: Content) -> Iterable[Problem]:
    for kp in content.knowledge_points():
        for symbol in kp.code:
            located = encodings_symbol_file(symbol, PACKAGE_DIR)
            if located is None or find_definition(*located) is None:
                yield Problem(kp.file, kp.line("code"), "code-symbol",
                              f"'{symbol}' (code of {kp.id}) is not defined in peprep.encodings",
                              "write it as peprep.encodings.<module>.<name> for a function or class that exists")
