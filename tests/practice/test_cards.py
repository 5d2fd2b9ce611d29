"""Cards follow content ids: every question and inline follow-up is a card, keyed by its full id."""

from __future__ import annotations

from peprep.practice.cards import fsrs_card_id


def test_every_question_and_followup_is_a_card_in_bank_order(tree_bank):
    assert list(tree_bank.items) == ["why.q.need-pe", "why.q.need-pe.rope", "why.q.second"]


def test_followups_know_their_root_parent_depth_and_inherit_difficulty(tree_bank):
    follow = tree_bank["why.q.need-pe.rope"]
    assert (follow.question_id, follow.parent, follow.depth, follow.is_followup) == \
        ("why.q.need-pe", "why.q.need-pe", 1, True)
    assert follow.difficulty == tree_bank["why.q.need-pe"].difficulty == 1
    assert follow.key_points == () and follow.kp == ("why.rope-map",)
    assert [i.id for i in tree_bank.chain("why.q.need-pe.rope")] == ["why.q.need-pe", "why.q.need-pe.rope"]


def test_inline_and_ref_followups_are_where_the_interviewer_can_go_next(tree_bank):
    assert tree_bank["why.q.need-pe"].followups == ("why.q.need-pe.rope",)
    assert tree_bank["why.q.second"].followups == ("why.q.need-pe.rope",)  # `ref:` points at the shared one


def test_bank_knows_chapter_and_kp_titles(tree_bank):
    assert tree_bank.chapter_titles == {"why": "为什么需要位置编码"}
    assert tree_bank.kp_titles["why.rope-map"] == "旋转位置编码（RoPE）在地图中的位置"


def test_fsrs_card_id_is_stable_distinct_and_json_safe():
    assert fsrs_card_id("rope.q.why-rotate-qk") == 265933349372185  # pinned: exports and other machines agree
    assert fsrs_card_id("rope.q.why-rotate-qk") != fsrs_card_id("rope.q.why-rotate-qk.why-not-v")
    assert 0 < fsrs_card_id("x.q.y") < 2**53


def test_select_filters_by_chapter_tag_difficulty_and_followups(chain_bank):
    assert [i.id for i in chain_bank.select(chapters=["b"])] == ["b.q.easy", "b.q.hard"]
    assert [i.id for i in chain_bank.select(difficulties=[3], followups=False)] == ["a.q.hard", "b.q.hard"]
    assert [i.id for i in chain_bank.select(difficulties=[3])] == ["a.q.hard", "a.q.hard.f", "b.q.hard"]
    assert chain_bank.select(tags=["none"]) == []
