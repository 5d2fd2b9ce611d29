"""The content version: same content, same stamp; an edit changes the digest and moves the time on."""

from __future__ import annotations

from peprep.export.handbook import DIFFICULTY_LABELS
from peprep.export.version import content_version


def test_unchanged_content_has_one_version(export_tree):
    assert content_version(export_tree.content) == content_version(export_tree.content)


def test_an_edit_changes_the_digest_and_the_time_grows(export_tree):
    before = content_version(export_tree.content)
    export_tree.append("glossary.yaml", "- zh: 外推\n  en: Extrapolation\n")
    after = content_version(export_tree.content)
    assert after.digest != before.digest and after.time > before.time


def test_hidden_files_are_not_content(export_tree):
    before = content_version(export_tree.content)
    (export_tree.content / ".DS_Store").write_bytes(b"junk")
    assert content_version(export_tree.content).digest == before.digest


def test_difficulty_labels_are_the_web_apps():
    from peprep.web.site import DIFFICULTY_LABELS as WEB

    assert DIFFICULTY_LABELS == WEB
