"""One test per rule of `peprep check`: the valid tree passes it; one edit breaks it at a known line."""

from __future__ import annotations

import pytest

from peprep.content.check import check_content
from peprep.content.rules import RULES

Q = "content/chapters/01-why/questions.yaml"
K = "content/chapters/01-why/knowledge.yaml"


def problems(tree, rule: str):
    return [p for p in check_content(tree.content) if p.rule == rule]


def assert_breaks(tree, rule: str, file: str, line: int, *words: str):
    found = problems(tree, rule)
    assert found, f"rule {rule} found nothing"
    assert any(p.file.resolve() == tree.path(file).resolve() and p.line == line for p in found), [p.format() for p in found]
    for word in words:
        assert any(word in p.message for p in found), [p.message for p in found]
    assert all(p.fix for p in found), "every problem says how to fix it"


def test_valid_tree_has_no_problems(tree):
    assert [p.format() for p in check_content(tree.content)] == []


def test_every_rule_is_tested_here():
    tested = {name[len("test_"):].replace("_", "-") for name in globals() if name.startswith("test_")}
    assert {r.name for r in RULES} <= tested


def test_schema(tree):
    line = tree.replace(K, "  refs: [vaswani2017]", "  refs: [vaswani2017]\n  verfied_by: []")
    assert_breaks(tree, "schema", K, line + 1, "unknown key 'verfied_by'")


def test_schema_missing_key_and_derived_without_derivation(tree):
    tree.replace(Q, "  derivation: 由 why.equivariance 直接推出。\n", "")
    found = problems(tree, "schema")
    assert any("derivation" in p.message for p in found)


def test_yaml(tree):
    line = tree.replace(K, "  title: 置换等变", "  title: [置换等变")
    found = [p for p in check_content(tree.content) if p.rule == "yaml"]
    assert found and found[0].file.name == "knowledge.yaml" and abs(found[0].line - line) <= 1


def test_id_format(tree):
    line = tree.replace(K, "- id: why.rope-map", "- id: rope.RopeMap")
    tree.replace(Q, "kp: [why.rope-map]", "kp: [rope.RopeMap]")
    assert_breaks(tree, "id-format", K, line, "rope.RopeMap")


def test_id_unique(tree):
    line = tree.replace(Q, "- id: why.q.second", "- id: why.q.need-pe")
    tree.replace(Q, "- ref: why.q.need-pe.rope", "- ref: why.q.need-pe")
    assert_breaks(tree, "id-unique", Q, line, "already used")


def test_kp_exists(tree):
    line = tree.replace(Q, "kp: [why.rope-map]", "kp: [why.rope-mapp]")
    assert_breaks(tree, "kp-exists", Q, line, "why.rope-mapp")
    assert "did you mean 'why.rope-map'" in problems(tree, "kp-exists")[0].fix


def test_grounding_formula(tree):
    line = tree.replace(Q, "打乱输入只会打乱输出。", "打乱输入只会打乱输出，且 $QK^\\top$ 不变。")
    assert_breaks(tree, "grounding-formula", Q, line, "QK^\\top")


def test_grounding_formula_ignores_whitespace(tree):
    tree.replace(Q, "因为 $\\mathrm{Attn}(PX)=P\\,\\mathrm{Attn}(X)$", "因为 $\\mathrm{Attn}(PX) = P\\,\\mathrm{Attn}(X)$")
    assert problems(tree, "grounding-formula") == []


def test_grounding_term(tree):
    line = tree.replace(Q, "answer: 位置编码打破置换等变。", "answer: 位置编码打破置换等变，ALiBi 也可以。")
    assert_breaks(tree, "grounding-term", Q, line, "ALiBi")


def test_grounding_term_glossary_alias_counts_as_present(tree):
    # The answer says 旋转位置编码; the cited KP only says RoPE — same glossary term, so grounded.
    tree.replace(Q, "answer: RoPE 旋转 query 和 key。", "answer: 旋转位置编码旋转 query 和 key。")
    assert problems(tree, "grounding-term") == []
    # A glossary term the cited KP does not mention under any name is reported by its Chinese name.
    tree.replace(Q, "answer: 位置编码打破置换等变。", "answer: 旋转位置编码打破置换等变。")
    assert any("旋转位置编码" in p.message for p in problems(tree, "grounding-term"))


def test_grounding_term_derivation_counts(tree):
    tree.replace(Q, "answer: 位置编码打破置换等变。", "answer: 位置编码打破置换等变，ALiBi 也可以。")
    tree.replace(Q, "derivation: 由 why.equivariance 直接推出。", "derivation: 由 why.equivariance 推出；ALiBi 同理。")
    assert problems(tree, "grounding-term") == []


def test_verified_by(tree):
    line = tree.replace(K, "test_fixture.py::test_equivariance", "test_fixture.py::test_missing")
    assert_breaks(tree, "verified-by", K, line, "test_missing")
    tree.replace(K, "test_fixture.py::test_missing", "test_gone.py::test_equivariance")
    assert_breaks(tree, "verified-by", K, line, "does not exist")


def test_verified_by_accepts_parametrized_and_class_tests(tree):
    tree.write("tests/claims/test_fixture.py", "class TestA:\n    def test_b(self):\n        pass\n")
    tree.replace(K, "test_fixture.py::test_equivariance", "test_fixture.py::TestA::test_b[float64]")
    assert problems(tree, "verified-by") == []


def test_katex(tree):
    line = tree.replace(K, "RoPE 旋转 query 和 key。", "RoPE 旋转 query 和 key：$\\frac{1}{$。")
    assert_breaks(tree, "katex", K, line, "KaTeX cannot render")


def test_banned_rendering(tree):
    line = tree.replace(K, "RoPE 旋转 query 和 key。", "绳索 旋转 query 和 key。")
    assert_breaks(tree, "banned-rendering", K, line, "绳索")


def test_control_character(tree):
    line = tree.replace(K, "RoPE 旋转 query 和 key。", "RoPE 旋转 query 和 key：$\\cos\theta$。")  # a lost backslash
    assert_breaks(tree, "control-character", K, line, "a tab at column")


def test_reference_known(tree):
    line = tree.replace(K, "refs: [vaswani2017]", "refs: [vaswani2071]")
    assert_breaks(tree, "reference-known", K, line, "vaswani2071")


def test_followup_acyclic(tree):
    # why.q.need-pe.rope refers back to why.q.second, which refers to why.q.need-pe.rope.
    tree.replace(Q, "      basis: direct\n", "      basis: direct\n      followups:\n        - ref: why.q.second\n")
    found = problems(tree, "followup-acyclic")
    assert found and "loops" in found[0].message
    line = tree.replace(Q, "- ref: why.q.second", "- ref: why.q.nowhere")
    assert_breaks(tree, "followup-acyclic", Q, line, "why.q.nowhere")


def test_code_symbol(tree):
    tree.replace(K, "  refs: [vaswani2017]", "  refs: [vaswani2017]\n  code: peprep.encodings.attention.no_such_function")
    assert problems(tree, "code-symbol")
    tree.replace(K, "no_such_function", "scaled_dot_product_attention")
    assert problems(tree, "code-symbol") == []


def test_figure_exists(tree):
    line = tree.replace(K, "  refs: [vaswani2017]", "  figure: missing.png\n  refs: [vaswani2017]")
    assert_breaks(tree, "figure-exists", K, line, "missing.png")
    tree.replace(K, "figure: missing.png", "figure: ../../pyproject.toml")
    assert problems(tree, "figure-exists")
    tree.replace(K, "figure: ../../pyproject.toml", "figure: ok.png")
    tree.write("content/figures/ok.png", "png")
    assert problems(tree, "figure-exists") == []


def test_bare_math(tree):
    line = tree.replace(Q, "answer: 位置编码打破置换等变。", "answer: 位置编码打破置换等变，因为 b^{-2i/d} 随 i 变。")
    assert_breaks(tree, "bare-math", Q, line, "b^{")
    tree.replace(Q, "因为 b^{-2i/d} 随 i 变。", "因为 $b^{-2i/d}$ 随 `x^T` 变。")
    assert problems(tree, "bare-math") == []
