"""The loader turns content/ into models and reports every structural problem with file:line."""

from __future__ import annotations

import pytest

from peprep.content import ContentError, load_content
from peprep.content.loader import read_content

K = "content/chapters/01-why/knowledge.yaml"
Q = "content/chapters/01-why/questions.yaml"


def test_loads_the_fixture_tree_with_locations(tree):
    content = load_content(tree.content)
    assert [c.id for c in content.chapters] == ["why"]
    kp = content.kp_index()["why.equivariance"]
    assert kp.refs == ["vaswani2017"] and kp.where("id").endswith("knowledge.yaml:1")
    assert kp.line("body") == 3 and kp.text_line("body") == 4  # `body: |` text starts below the key
    follow = content.asked_index()["why.q.need-pe.rope"]
    assert follow.question == "RoPE 如何注入位置？" and follow.line("answer") == 12


def test_full_ids_of_follow_ups_join_the_parent_id(tree):
    content = load_content(tree.content)
    assert set(content.asked_index()) == {"why.q.need-pe", "why.q.need-pe.rope", "why.q.second"}


def test_unknown_key_is_reported_with_its_line(tree):
    line = tree.replace(Q, "  difficulty: 1", "  difficulty: 1\n  dificulty: 2")
    with pytest.raises(ContentError) as err:
        load_content(tree.content)
    (problem,) = err.value.problems
    assert (problem.line, problem.rule) == (line + 1, "schema") and "dificulty" in problem.message


def test_every_problem_is_collected_not_just_the_first(tree):
    tree.replace(Q, "  difficulty: 1", "  difficulty: 7")
    tree.replace(K, "  title: 置换等变（permutation equivariance）", "  titel: x")
    _, problems = read_content(tree.content)
    assert {p.file.name for p in problems} == {"questions.yaml", "knowledge.yaml"}
    assert len(problems) >= 3  # bad difficulty, unknown titel, missing title


def test_duplicate_key_is_an_error(tree):
    line = tree.replace(K, "  refs: [vaswani2017]", "  refs: [vaswani2017]\n  refs: []")
    _, problems = read_content(tree.content)
    assert [(p.rule, p.line) for p in problems] == [("yaml", line + 1)]


def test_wrong_top_level_shape(tree):
    tree.write(K, "id: why.x\n")
    _, problems = read_content(tree.content)
    assert problems[0].rule == "schema" and "list" in problems[0].message


def test_missing_content_folder(tmp_path):
    _, problems = read_content(tmp_path / "nowhere")
    assert problems[0].rule == "layout"


def test_missing_chapter_file(tree):
    tree.path("content/chapters/01-why/chapter.yaml").unlink()
    _, problems = read_content(tree.content)
    assert problems[0].rule == "layout" and problems[0].file.name == "chapter.yaml"


def test_not_utf8(tree):
    tree.path(K).write_bytes("- id: why.x\n  title: 位置".encode("gbk"))
    _, problems = read_content(tree.content)
    assert problems[0].rule == "yaml" and "UTF-8" in problems[0].message


def test_content_error_message_names_file_and_line(tree):
    tree.replace(Q, "  basis: direct\n  difficulty: 1", "  basis: maybe\n  difficulty: 1")
    with pytest.raises(ContentError, match=r"questions\.yaml:\d+: \[schema\] basis"):
        load_content(tree.content)


def test_real_content_loads():
    content = load_content()
    assert content.chapter("why") is not None
    assert all(kp.id.startswith(f"{c.id}.") for c in content.chapters for kp in c.knowledge_points)


def test_glossary_and_references_fragments_are_merged(tree):
    tree.write("content/references/rope.yaml", "su2021:\n  title: RoFormer\n  authors: [Jianlin Su]\n  year: 2021\n")
    tree.write("content/glossary/rope.yaml", "- zh: 外推\n  en: length extrapolation\n")
    content = load_content(tree.content)
    assert set(content.references) == {"vaswani2017", "su2021"}
    assert "外推" in [t.zh for t in content.glossary]


def test_a_reference_key_defined_twice_is_an_error(tree):
    tree.write("content/references/dup.yaml", "vaswani2017:\n  title: again\n  authors: [A]\n  year: 2017\n")
    _, problems = read_content(tree.content)
    assert [(p.rule, p.file.name, p.line) for p in problems] == [("id-unique", "dup.yaml", 1)]


def test_yaml_aliases_are_refused_so_alias_bombs_cannot_expand(tree):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    tree.write("content/references.yaml", bomb)
    _, problems = read_content(tree.content)
    assert [(p.rule, p.line) for p in problems] == [("yaml", 1)]  # the anchored node
    assert "aliases" in problems[0].message
