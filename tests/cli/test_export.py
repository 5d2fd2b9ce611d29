"""`peprep export …`: what it prints, its exit codes, and that a failure leaves no file behind."""

from __future__ import annotations

import zipfile

from typer.testing import CliRunner

from peprep.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_anki_writes_the_deck_and_says_where_and_how_big(tree, tmp_path):
    out = tmp_path / "deck.apkg"
    result = run("export", "anki", str(out), "--content", str(tree.content))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output and "KiB" in result.output and "2 notes" in result.output
    assert "collection.anki2" in zipfile.ZipFile(out).namelist()


def test_anki_unknown_chapter_names_the_known_ones(tree, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = run("export", "anki", str(out / "deck.apkg"), "--chapter", "nope", "--content", str(tree.content))
    assert result.exit_code == 1
    assert "unknown chapter(s): nope" in result.output and "fix: use one of: why" in result.output
    assert list(out.iterdir()) == []


def test_unwritable_output_path_says_so_and_leaves_nothing(tree, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    blocker = out / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = run("export", "anki", str(blocker / "deck.apkg"), "--content", str(tree.content))
    assert result.exit_code == 1 and "is a file, not a folder" in result.output and "fix:" in result.output
    result = run("export", "markdown", str(out / "missing" / "book"), "--content", str(tree.content))
    assert result.exit_code == 1 and "does not exist" in result.output and "mkdir -p" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["a-file"]


def test_markdown_writes_the_handbook(tree, tmp_path):
    result = run("export", "markdown", str(tmp_path / "book"), "--content", str(tree.content))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "book" / "01-why.md").is_file() and "wrote" in result.output


def test_broken_content_points_at_peprep_check(tree, tmp_path):
    tree.replace("content/chapters/01-why/knowledge.yaml", "  title: 置换等变", "  titel: 置换等变")
    result = run("export", "markdown", str(tmp_path / "book"), "--content", str(tree.content))
    assert result.exit_code == 1 and "peprep check" in result.output
