"""The Anki export: what the .apkg holds (read from its SQLite), and a real Anki collection importing
it twice (the `anki` package from PyPI, a test dependency): updates, additions, reviews kept."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import genanki
import pytest

from peprep.export.anki import DECK_ROOT, FIELDS, MODEL_ID, anki_math, build_package, export_anki, write_apkg
from peprep.export.handbook import Handbook, hashed_name
from peprep.export.output import ExportError

IDS = ["why.q.need-pe", "rope.q.why-qk", "rope.q.theta"]


def read_apkg(path: Path, folder: Path) -> tuple[sqlite3.Connection, dict[str, bytes]]:
    """The package's collection (as SQLite) and its media by name."""
    with zipfile.ZipFile(path) as archive:
        (folder / "collection.anki2").write_bytes(archive.read("collection.anki2"))
        names = json.loads(archive.read("media"))
        media = {name: archive.read(index) for index, name in names.items()}
    return sqlite3.connect(folder / "collection.anki2"), media


def notes_by_id(db: sqlite3.Connection) -> dict[str, dict]:
    rows = db.execute("select guid, mid, mod, tags, flds from notes").fetchall()
    out = {}
    for guid, mid, mod, tags, flds in rows:
        fields = dict(zip(FIELDS, flds.split("\x1f")))
        out[fields["Id"]] = {"guid": guid, "mid": mid, "mod": mod, "tags": tags.split(), **fields}
    return out


def test_one_note_per_question_keyed_by_its_id(export_tree, tmp_path):
    result = export_anki(export_tree.load(), tmp_path / "deck.apkg")
    db, media = read_apkg(result.path, tmp_path)
    notes = notes_by_id(db)
    assert sorted(notes) == sorted(IDS) and result.items == 3
    for question_id, note in notes.items():
        assert note["guid"] == genanki.guid_for(question_id) and note["mid"] == MODEL_ID


def test_sub_decks_per_chapter_and_tags_without_spaces(export_tree, tmp_path):
    db, _ = read_apkg(export_anki(export_tree.load(), tmp_path / "deck.apkg").path, tmp_path)
    decks = {d["name"] for d in json.loads(db.execute("select decks from col").fetchone()[0]).values()}
    assert {DECK_ROOT, f"{DECK_ROOT}::为什么需要位置编码", f"{DECK_ROOT}::旋转位置编码 RoPE"} <= decks
    card_decks = dict(db.execute("select n.flds, c.did from cards c join notes n on n.id = c.nid").fetchall())
    assert len(set(card_decks.values())) == 2  # the two chapters' questions sit in two sub-decks
    note = notes_by_id(db)["why.q.need-pe"]
    assert {"位置编码::难度::1", "位置编码::章节::why", "位置编码::主题::self_attention"} <= set(note["tags"])


def test_back_has_answer_key_points_followups_kps_and_math_for_mathjax(export_tree, tmp_path):
    db, _ = read_apkg(export_anki(export_tree.load(), tmp_path / "deck.apkg").path, tmp_path)
    note = notes_by_id(db)["why.q.need-pe"]
    assert r"\(\mathrm{Attn}(PX)=P\,\mathrm{Attn}(X)\)" in note["答案"] and "$" not in note["答案"]
    assert "置换等变" in note["要点"] and "需要注入顺序" in note["要点"]
    # 追问 chain, nested, each with its answer
    assert "是置换不变吗？" in note["追问"] and "不是，是等变。" in note["追问"] and note["追问"].count("<ol>") == 2
    assert "自注意力的置换等变性" in note["知识点"] and "why.permutation-equivariance" in note["知识点"]
    rope = notes_by_id(db)["rope.q.why-qk"]
    assert r'class="display">\[\langle R_m q, R_n k\rangle' in rope["答案"]
    assert "是置换不变吗？" in rope["追问"] and "why.q.need-pe.invariant" in rope["追问"]  # a `ref:` 追问
    assert r"\(v\)" in rope["要点"]


def test_card_css_and_templates_declare_chinese(export_tree, tmp_path):
    db, _ = read_apkg(export_anki(export_tree.load(), tmp_path / "deck.apkg").path, tmp_path)
    model = json.loads(db.execute("select models from col").fetchone()[0])[str(MODEL_ID)]
    assert "Noto Sans CJK SC" in model["css"]
    assert all('lang="zh-CN"' in t["qfmt"] and 'lang="zh-CN"' in t["afmt"] for t in model["tmpls"])
    assert [f["name"] for f in model["flds"]] == FIELDS


def test_fields_are_pinned():
    # Changing the field list makes Anki see a different note type and skip every update for users
    # who imported an earlier deck. Add a field only with a new MODEL_ID and a migration note.
    assert FIELDS == ["Id", "问题", "答案", "要点", "追问", "知识点", "图", "章节", "难度"]


def test_figures_are_media_with_content_hashed_names(export_tree, tmp_path):
    figure = export_tree.figure
    db, media = read_apkg(export_anki(export_tree.load(), tmp_path / "deck.apkg").path, tmp_path)
    name = hashed_name(figure)
    assert media == {name: figure.read_bytes()}
    assert f'<img src="{name}"' in notes_by_id(db)["rope.q.why-qk"]["图"]
    assert notes_by_id(db)["why.q.need-pe"]["图"] == ""


def test_fields_are_valid_html_for_genanki(export_tree, tmp_path):
    import warnings

    package, media, _ = build_package(Handbook.of(export_tree.load()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_apkg(package, media, tmp_path / "strict.apkg", timestamp=1_800_000_000)


def test_math_conversion_keeps_tex_escaped():
    html = '<p><span class="math math-inline">a&lt;b</span> 与 <span class="math math-display">x^2</span></p>'
    assert anki_math(html) == r'<p>\(a&lt;b\) 与 <span class="display">\[x^2\]</span></p>'


def test_same_content_same_bytes_and_an_edit_moves_the_time_forward(export_tree, tmp_path):
    first = export_anki(export_tree.load(), tmp_path / "a.apkg").path.read_bytes()
    again = export_anki(export_tree.load(), tmp_path / "b.apkg").path.read_bytes()
    assert first == again
    (tmp_path / "one").mkdir(), (tmp_path / "two").mkdir()
    before = notes_by_id(read_apkg(tmp_path / "a.apkg", tmp_path / "one")[0])["rope.q.theta"]["mod"]
    export_tree.replace("chapters/02-rope/questions.yaml", "是一个几何级数。", "是一个公比固定的几何级数。")
    db, _ = read_apkg(export_anki(export_tree.load(), tmp_path / "c.apkg").path, tmp_path / "two")
    assert notes_by_id(db)["rope.q.theta"]["mod"] > before


def test_chapter_option_and_unknown_chapter(export_tree, tmp_path):
    db, media = read_apkg(export_anki(export_tree.load(), tmp_path / "d.apkg", ["why"]).path, tmp_path)
    assert sorted(notes_by_id(db)) == ["why.q.need-pe"] and media == {}
    with pytest.raises(ExportError, match="unknown chapter.*nope") as error:
        export_anki(export_tree.load(), tmp_path / "e.apkg", ["nope"])
    assert "why, rope" in error.value.fix
    assert not (tmp_path / "e.apkg").exists() and list(tmp_path.glob(".e.apkg*")) == []


# --- a real Anki collection, imported twice ---------------------------------------------------------

NEW_QUESTION = """
- id: why.q.order-matters
  question: 打乱词序后输出会怎样？
  answer: 输出被同样打乱，即 $\\mathrm{Attn}(PX)=P\\,\\mathrm{Attn}(X)$。
  kp: [why.permutation-equivariance]
  basis: direct
  difficulty: 1
  key_points: [输出随输入置换, 等变]
"""


class AnkiCollection:
    """A throwaway Anki collection, importing as Anki's desktop import dialog does by default."""

    def __init__(self, path: Path):
        anki_collection = pytest.importorskip("anki.collection")
        self.module = anki_collection
        self.col = anki_collection.Collection(str(path))

    def import_package(self, apkg: Path) -> dict[str, int]:
        from anki.import_export_pb2 import ImportAnkiPackageUpdateCondition as Condition

        options = self.module.ImportAnkiPackageOptions(
            merge_notetypes=False, with_scheduling=False, with_deck_configs=False,
            update_notes=Condition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
            update_notetypes=Condition.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
        )
        request = self.module.ImportAnkiPackageRequest(package_path=str(apkg), options=options)
        log = self.col.import_anki_package(request).log
        return {"new": len(log.new), "updated": len(log.updated), "duplicate": len(log.duplicate),
                "conflicting": len(log.conflicting), "missing_notetype": len(log.missing_notetype)}

    def note(self, question_id: str):
        (note_id,) = self.col.find_notes(f'"Id:{question_id}"')
        return self.col.get_note(note_id)

    def review(self, question_id: str) -> int:
        from anki.scheduler_pb2 import CardAnswer

        card = self.note(question_id).cards()[0]
        card.start_timer()
        states = self.col._backend.get_scheduling_states(card.id)
        self.col.sched.answer_card(self.col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD))
        return card.id

    def schedule(self, card_id: int) -> tuple:
        card = self.col.get_card(card_id)
        return card.type, card.queue, card.due, card.ivl, card.reps, card.did

    def revlog(self) -> list[tuple]:
        return self.col.db.all("select id, cid, ease, ivl from revlog order by id")


@pytest.fixture
def anki(tmp_path):
    collection = AnkiCollection(tmp_path / "collection.anki2")
    yield collection
    collection.col.close()


def test_reimport_updates_edited_notes_adds_new_ones_and_keeps_reviews(anki, export_tree, tmp_path):
    assert anki.import_package(export_anki(export_tree.load(), tmp_path / "v1.apkg").path)["new"] == 3
    note_ids = {q: anki.note(q).id for q in IDS}
    reviewed = anki.review("rope.q.theta")
    schedule, history = anki.schedule(reviewed), anki.revlog()
    assert len(history) == 1

    export_tree.replace("chapters/02-rope/questions.yaml", "是一个几何级数。", "是公比为 $10000^{-2/d}$ 的几何级数。")
    export_tree.append("chapters/01-why/questions.yaml", NEW_QUESTION)
    log = anki.import_package(export_anki(export_tree.load(), tmp_path / "v2.apkg").path)

    # every old note is matched by GUID and, being newer, updated; only the new question is added
    assert log == {"new": 1, "updated": 3, "duplicate": 0, "conflicting": 0, "missing_notetype": 0}
    assert anki.col.note_count() == 4  # three updated in place + one new, no duplicates
    assert {q: anki.note(q).id for q in IDS} == note_ids
    assert r"\(10000^{-2/d}\)" in anki.note("rope.q.theta")["答案"]
    assert anki.note("why.q.order-matters")["问题"] == "打乱词序后输出会怎样？"
    assert anki.schedule(reviewed) == schedule and anki.revlog() == history


def test_without_a_newer_time_anki_skips_the_edit(anki, export_tree, tmp_path):
    """Why the package time follows the content version: the same edit with the old time is ignored."""
    book = Handbook.of(export_tree.load())
    anki.import_package(export_anki(export_tree.load(), tmp_path / "v1.apkg").path)
    export_tree.replace("chapters/02-rope/questions.yaml", "是一个几何级数。", "已改写的答案。")
    package, media, _ = build_package(Handbook.of(export_tree.load()))
    write_apkg(package, media, tmp_path / "stale.apkg", timestamp=book.version.time)
    anki.import_package(tmp_path / "stale.apkg")
    assert "已改写的答案" not in anki.note("rope.q.theta")["答案"]


def test_anki_renders_the_card_with_chinese_markup_and_mathjax_delimiters(anki, export_tree, tmp_path):
    anki.import_package(export_anki(export_tree.load(), tmp_path / "deck.apkg").path)
    card = anki.note("rope.q.why-qk").cards()[0]
    front, back = card.question(), card.answer()
    assert 'lang="zh-CN"' in front and "RoPE 为什么只作用在 q 和 k 上？" in front
    assert r"\(q^\top k\)" in back and "远程衰减是单调的吗？" in back and "fig-" in back
    assert "{{" not in back  # every template field resolved
