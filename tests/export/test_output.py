"""Atomic writes: the target is either the old file or the complete new one, never a fragment."""

from __future__ import annotations

import os

import pytest

from peprep.export.output import ExportError, atomic_file, atomic_folder, human_size


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "deck.apkg"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_file(target) as temporary:
            temporary.write_bytes(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["deck.apkg"]


def test_a_finished_write_replaces_the_target(tmp_path):
    target = tmp_path / "deck.apkg"
    target.write_bytes(b"old")
    with atomic_file(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".deck.apkg.")
        temporary.write_bytes(b"new")
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["deck.apkg"]


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(ExportError, match="is a folder"):
        with atomic_file(tmp_path):
            pass


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused_with_a_fix(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="cannot write to") as error:
            with atomic_file(locked / "deck.apkg"):
                pass
        assert "permissions" in error.value.fix
    finally:
        locked.chmod(0o700)


def test_a_failed_folder_export_leaves_the_old_folder(tmp_path):
    target = tmp_path / "book"
    with atomic_folder(target) as temporary:
        (temporary / ".peprep-handbook").write_text("")
        (temporary / "a.md").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_folder(target) as temporary:
            (temporary / "a.md").write_text("half")
            raise RuntimeError
    assert (target / "a.md").read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["book"]


def test_human_size():
    assert [human_size(n) for n in (512, 2048, 3 * 1024 * 1024)] == ["512 B", "2.0 KiB", "3.0 MiB"]
