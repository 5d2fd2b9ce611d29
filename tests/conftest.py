"""A small, valid content tree that each rule test breaks in exactly one place."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

FILES = {
    "content/references.yaml": """\
        vaswani2017:
          title: Attention Is All You Need
          authors: [Ashish Vaswani]
          year: 2017
          arxiv: "1706.03762"
        """,
    "content/glossary.yaml": """\
        - zh: 位置编码
          en: Positional Encoding
          aliases: [PE]
          banned: [位置嵌入码]
        - zh: 旋转位置编码
          en: Rotary Position Embedding
          aliases: [RoPE]
          banned: [绳索]
        """,
    "content/chapters/01-why/chapter.yaml": """\
        id: why
        title: 为什么需要位置编码
        order: 1
        summary: 自注意力对顺序是置换等变的。
        """,
    "content/chapters/01-why/knowledge.yaml": """\
        - id: why.equivariance
          title: 置换等变（permutation equivariance）
          body: |
            对置换矩阵 $P$ 有 $\\mathrm{Attn}(PX)=P\\,\\mathrm{Attn}(X)$，所以需要位置编码（PE）。
          refs: [vaswani2017]
          verified_by: [tests/claims/test_fixture.py::test_equivariance]
        - id: why.rope-map
          title: 旋转位置编码（RoPE）在地图中的位置
          body: |
            RoPE 旋转 query 和 key。
        """,
    "content/chapters/01-why/questions.yaml": """\
        - id: why.q.need-pe
          question: 为什么需要位置编码？
          answer: |
            因为 $\\mathrm{Attn}(PX)=P\\,\\mathrm{Attn}(X)$：打乱输入只会打乱输出。
          kp: [why.equivariance]
          basis: direct
          difficulty: 1
          key_points: [置换等变, 需要 PE]
          followups:
            - id: rope
              question: RoPE 如何注入位置？
              answer: RoPE 旋转 query 和 key。
              kp: [why.rope-map]
              basis: direct
        - id: why.q.second
          question: 第二个问题？
          answer: 位置编码打破置换等变。
          kp: [why.equivariance]
          basis: derived
          derivation: 由 why.equivariance 直接推出。
          difficulty: 2
          key_points: [一, 二]
          followups:
            - ref: why.q.need-pe.rope
        """,
    "tests/claims/test_fixture.py": """\
        def test_equivariance():
            assert True
        """,
}


class ContentTree:
    """A temporary repository with content/ and tests/ that tests edit in place."""

    def __init__(self, root: Path):
        self.root = root
        for name, text in FILES.items():
            self.write(name, textwrap.dedent(text))

    @property
    def content(self) -> Path:
        return self.root / "content"

    def path(self, name: str) -> Path:
        return self.root / name

    def write(self, name: str, text: str) -> None:
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def replace(self, name: str, old: str, new: str) -> int:
        """Replace `old` (must occur) and return the 1-based line where it was."""
        text = self.path(name).read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        line = text[: text.index(old)].count("\n") + 1
        self.write(name, text.replace(old, new, 1))
        return line


@pytest.fixture
def tree(tmp_path: Path) -> ContentTree:
    return ContentTree(tmp_path)


@pytest.fixture(scope="session", autouse=True)
def _progress_db_outside_home(tmp_path_factory):
    """The practice pages and commands write progress (default: the user's data directory). Point every
    test, and every server a test starts, at a throwaway file instead."""
    patch = pytest.MonkeyPatch()
    patch.setenv("PEPREP_DB", str(tmp_path_factory.mktemp("progress") / "progress.sqlite3"))
    yield
    patch.undo()
