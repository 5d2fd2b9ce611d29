"""Regenerate every figure the content cites: runs each experiments/figures/<chapter>.py in turn.

Usage: .venv/bin/python experiments/make_figures.py [chapter ...]
Each chapter script writes content/figures/<chapter>-*.png and is deterministic; figures are never
drawn by hand or edited after generation.
"""

from __future__ import annotations

import runpy
import sys
import time
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "figures"


def main(chapters: list[str]) -> None:
    scripts = sorted(SCRIPTS.glob("*.py"))
    unknown = set(chapters) - {s.stem for s in scripts}
    if unknown:
        sys.exit(f"no figure script for: {', '.join(sorted(unknown))} (have: {', '.join(s.stem for s in scripts)})")
    for script in scripts:
        if chapters and script.stem not in chapters:
            continue
        start = time.perf_counter()
        runpy.run_path(str(script), run_name="__main__")
        print(f"{script.stem}: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
