"""A problem found in the content: where it is, which rule it breaks, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    file: Path
    line: int
    rule: str
    message: str
    fix: str = ""

    def format(self, relative_to: Path | None = None) -> str:
        file = self.file
        if relative_to is not None:
            try:
                file = self.file.resolve().relative_to(relative_to.resolve())
            except ValueError:
                pass
        text = f"{file}:{self.line}: [{self.rule}] {self.message}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text

    def to_json(self) -> dict:
        return {"file": str(self.file), "line": self.line, "rule": self.rule, "message": self.message, "fix": self.fix}
