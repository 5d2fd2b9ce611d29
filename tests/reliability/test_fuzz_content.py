"""Property-based fuzzing of the content loader: random YAML and Markdown mutations of a fixture tree give a
valid load or a clean `ContentError` whose problems name a file and line — never another exception."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_kit import FIXTURE_CONTENT, count

from peprep.content.loader import ContentError, load_content

EXAMPLES = int(os.environ.get("PEPREP_FUZZ_EXAMPLES", "120"))  # 800 ran clean once; CI keeps it short
FILES = sorted(str(p.relative_to(FIXTURE_CONTENT)) for p in FIXTURE_CONTENT.rglob("*.yaml"))

YAML_BITS = [
    ":", "- ", "? ", "&a ", "*a", "*nope", "!!python/object/apply:os.system ['echo pwned']", "!!binary aGk=",
    "!!set {a, b}", "!!omap [a: 1]", "{", "}", "[", "]", "|", ">-", "%YAML 1.1", "---", "...", "@", "`", "\t", "#",
    "\x00", "\ufeff", "\u2028", "\x85", "'", '"', "\\", "~", "null", "yes", "no", "0x1F", "1e309", "-.inf", ".nan",
    "2001-02-03", "12:30:00", "<<: *a", "id:", "kp: [", "位置编码", "$\\frac{1}{", "\\(", "```", "<script>x</script>",
    "[](javascript:x)", "$$", "x" * 300, "??", ":::", "&a [*a]", "? [a, b]\n: c", "{[1]: 2}", "{? {a: 1}: b}",
]
TEXT = st.lists(st.sampled_from(YAML_BITS) | st.text(max_size=12), min_size=1, max_size=6).map("".join)
SCALARS = st.sampled_from(["[]", "{}", "null", "~", "1e309", "-1", "true", "'", '"unterminated', "&x [1]", "*x",
                           "!!str", "[1, [2, [3]]]", "|\n  多行\n", "2026-12-04", "0o17", "'<script>'", "- a\n- b"])


@st.composite
def mutation(draw):
    kind = draw(st.sampled_from(["delete-line", "duplicate-line", "insert", "replace-value", "truncate", "indent",
                                 "bytes", "empty", "remove-file", "alias-bomb", "deep-nesting"]))
    return kind, draw(st.sampled_from(FILES)), draw(st.integers(0, 10_000)), draw(TEXT), draw(SCALARS)


def apply(root: Path, kind: str, name: str, at: int, text: str, scalar: str) -> None:
    file = root / name
    if kind == "remove-file":
        file.unlink()
        return
    if kind == "bytes":
        data = file.read_bytes()
        cut = at % (len(data) + 1)
        file.write_bytes(data[:cut] + bytes([0xFF, 0xFE, 0xC0, at % 256]) + data[cut:])
        return
    if kind == "empty":
        file.write_text("")
        return
    if kind == "alias-bomb":  # a few levels of "billion laughs": must stay cheap, or be refused
        bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(5))
        file.write_text(bomb + file.read_text(encoding="utf-8", errors="replace"), encoding="utf-8")
        return
    if kind == "deep-nesting":
        depth = 200 + at % 3000
        file.write_text("x: " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
        return
    lines = file.read_text(encoding="utf-8", errors="surrogateescape").splitlines(keepends=True) or [""]
    i = at % len(lines)
    if kind == "delete-line":
        del lines[i]
    elif kind == "duplicate-line":
        lines.insert(i, lines[i])
    elif kind == "insert":
        lines.insert(i, text + "\n")
    elif kind == "replace-value":
        head, sep, _ = lines[i].partition(": ")
        lines[i] = f"{head}{sep or ': '}{scalar}\n"
    elif kind == "truncate":
        lines = lines[:i] + [lines[i][: at % (len(lines[i]) + 1)]]
    elif kind == "indent":
        lines[i] = (" " * (1 + at % 5) + lines[i]) if at % 2 else lines[i].lstrip()
    file.write_text("".join(lines), encoding="utf-8", errors="surrogateescape")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutations=st.lists(mutation(), min_size=1, max_size=3))
def test_mutated_content_loads_or_fails_cleanly(tmp_path_factory, mutations):
    root = tmp_path_factory.mktemp("fuzz") / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    for m in mutations:
        if (root / m[1]).exists():
            apply(root, *m)
    count("content fuzzing: mutated trees (hypothesis)")
    try:
        content = load_content(root)
    except ContentError as exc:
        assert exc.problems, "a ContentError lists its problems"
        for problem in exc.problems:
            assert problem.line >= 1 and str(problem.file).startswith(str(root)), problem
        return
    assert content.chapters is not None


@pytest.mark.parametrize("text", [
    "x: &a [*a]\n",  # an alias inside its own anchor: a cycle
    "? [a, b]\n: c\n",  # a list as a mapping key
    "{[1]: 2}\n",
    "? {a: 1}\n: b\n",
    "- !!python/object/apply:os.system ['touch /tmp/peprep-pwned']\n",
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "x: " + "[" * 5000 + "]" * 5000 + "\n",
    "\ufeff- id: x\n",
    "- id: a\n  id: b\n",  # duplicate key
])
def test_known_hostile_yaml_is_a_clean_content_error(tmp_path, text):
    import time

    root = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, root)
    (root / "glossary.yaml").write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ContentError):
        load_content(root)
    assert time.perf_counter() - started < 5, "expanding aliases must not take the loader down"
    assert not Path("/tmp/peprep-pwned").exists()
    count("content fuzzing: known hostile YAML")
