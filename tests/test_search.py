"""Tests for peprep.search: the tokenizer, a table of queries over a fixture tree, and the real content."""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from peprep.content import load_content
from peprep.content.schema import Chapter, ChapterMeta, Content, GlossaryTerm, KnowledgePoint
from peprep.search import (
    _BREAK,
    MAX_QUERY_CHARS,
    AliasTable,
    QueryError,
    SearchIndex,
    Term,
    bigrams,
    column_text,
    index_tokens,
    make_snippet,
    match_expression,
    parse_query,
    phrase_tokens,
    plain_text,
)

FIXTURE = Path(__file__).parent / "fixtures" / "search"


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex.build(load_content(FIXTURE))


def ids(hits) -> list[str]:
    return [hit.id for hit in hits]


# ---------------------------------------------------------------- tokenizer


def test_bigrams_chain_overlapping_pairs_and_keep_a_single_char():
    assert bigrams("旋转矩阵") == ["旋转", "转矩", "矩阵"]
    assert bigrams("外推") == ["外推"]
    assert bigrams("外") == ["外"]


def test_phrase_tokens_mix_lowercased_words_and_cjk_bigrams_in_order():
    assert phrase_tokens("RoPE的长程衰减") == ["rope", "的长", "长程", "程衰", "衰减"]
    assert phrase_tokens("Rotary Position-Embedding") == ["rotary", "position", "embedding"]


def test_fullwidth_letters_fold_to_ascii_words():
    assert phrase_tokens("ＲｏＰＥ") == ["rope"]


def test_punctuation_between_cjk_runs_breaks_the_chain():
    # Without the break, 旋转，矩阵 would read as 旋转 矩阵 in a row (half of the chain of 旋转矩阵).
    assert phrase_tokens("旋转，矩阵") == ["旋转", _BREAK, "矩阵"]
    assert phrase_tokens("旋转 RoPE 矩阵") == ["旋转", "rope", "矩阵"]


def test_index_tokens_append_the_unigrams_after_a_break():
    assert index_tokens("外推 OK") == ["外推", "ok", _BREAK, "外", "推"]
    # A one-character run is its own unigram already and adds nothing to the tail.
    assert index_tokens("k 的 值域") == ["k", "的", _BREAK, "值域", _BREAK, "值", "域"]


def test_fields_in_one_column_are_kept_apart():
    # "foo bar" as a phrase must not match the end of one field and the start of the next.
    assert column_text(["Foo", "bar", "  "]) == f"foo {_BREAK} bar"


def test_index_tokens_of_ascii_only_text_have_no_unigram_tail():
    assert index_tokens("NEAR(a, b)") == ["near", "a", "b"]


def test_parse_query_makes_each_cjk_run_a_phrase_of_its_bigrams():
    assert parse_query("旋转矩阵", AliasTable([])) == [Term((("旋转", "转矩", "矩阵"),), ("旋转矩阵",))]


def test_parse_query_splits_runs_at_de_and_lowercases_words():
    terms = parse_query("RoPE的衰减", AliasTable([]))
    assert [t.phrases for t in terms] == [(("rope",),), (("衰减",),)]


def test_parse_query_reads_math_as_the_index_does():
    """A pasted title with TeX asks for the symbols the index stores, not for `dots` or `theta` commands."""
    words = [t.literals[0] for t in parse_query(r"从 $\{0,\dots,L-1\}$ 里抽", AliasTable([]))]
    assert words == ["从", "0", "l", "1", "里抽"]  # without the pass: "dots" too, which no document holds


def test_parse_query_expands_a_glossary_name_to_all_names_of_its_term():
    aliases = AliasTable([["旋转位置编码", "Rotary Position Embedding", "RoPE"]])
    terms = parse_query("rope 衰减", aliases)
    assert set(terms[0].phrases) == {
        ("旋转", "转位", "位置", "置编", "编码"),
        ("rotary", "position", "embedding"),
        ("rope",),
    }
    assert terms[1].phrases == (("衰减",),)


def test_alias_names_match_whole_words_only():
    aliases = AliasTable([["位置编码", "PE"]])
    assert aliases.find("rope") == []
    assert [names for _, _, names in aliases.find("pe 是什么")] == [("位置编码", "PE")]


def test_longest_glossary_name_wins():
    aliases = AliasTable([["位置编码", "PE"], ["旋转位置编码", "RoPE"]])
    assert [names for _, _, names in aliases.find("旋转位置编码")] == [("旋转位置编码", "RoPE")]


def test_match_expression_quotes_every_token():
    expression = match_expression([Term((('a"b',), ("c", "d")), ())])
    assert expression == '(("a""b") OR ("c" + "d"))'


@pytest.mark.parametrize("query", ['RoPE" OR *', "NEAR(外推, 2)", "title:外推 -x ^y", "a AND (b OR NOT c)"])
def test_user_text_never_reaches_fts_syntax(query):
    expression = match_expression(parse_query(query, AliasTable([])))
    outside_quotes = re.sub(r'"(?:[^"]|"")*"', "", expression)
    assert set(outside_quotes) <= set("()+ ANDOR")
    assert re.sub(r"\b(AND|OR)\b", "", outside_quotes).strip("()+ ") == ""


def test_plain_text_strips_markdown_and_math_delimiters():
    markdown = "## 标题\n- **粗体** 与 `code` 与 $x^2$ 与 [链接](http://x.org)\n$$\\mathrm{Attn}(PX)$$"
    assert plain_text(markdown) == "标题 粗体 与 code 与 x^2 与 链接 Attn(PX)"


def test_plain_text_shows_common_latex_operators_as_symbols_and_keeps_greek_names():
    latex = r"$X\in\mathbb{R}^{T\times d}$, $\{0,\dots,T-1\}\to\theta_i$, $\left(\infty\right)$"
    assert plain_text(latex) == "X∈ℝ^{T× d}, {0,…,T-1}→\\theta_i, (∞)"


def test_snippet_windows_around_the_first_match_and_marks_it():
    text = "甲" * 200 + "外推" + "乙" * 200
    snippet = make_snippet([text], parse_query("外推", AliasTable([])))
    # 120 characters, a third of them before the match, ellipses where text was cut
    assert snippet == "…" + "甲" * 40 + "<mark>外推</mark>" + "乙" * 78 + "…"
    assert make_snippet(["外推在开头"], parse_query("外推", AliasTable([]))) == "<mark>外推</mark>在开头"


def test_snippet_window_does_not_open_inside_a_word():
    text = "x" * 30 + " " + "abcdefghij" * 3 + " 外推"
    snippet = make_snippet([text], parse_query("外推", AliasTable([])), width=20)
    assert snippet == "… <mark>外推</mark>"


def test_adjacent_marks_merge():
    assert make_snippet(["先置换等变再说"], parse_query("置换 等变", AliasTable([]))) == "先<mark>置换等变</mark>再说"


def test_snippet_escapes_before_marking():
    snippet = make_snippet(["a <b>mark</b> & x"], parse_query("mark", AliasTable([])))
    assert snippet == "a &lt;b&gt;<mark>mark</mark>&lt;/b&gt; &amp; x"


def test_snippet_prefers_the_field_matching_most_terms():
    fields = ["只有 RoPE", "RoPE 与 衰减 都在这里", "衰减"]
    snippet = make_snippet(fields, parse_query("RoPE 衰减", AliasTable([])))
    assert snippet == "<mark>RoPE</mark> 与 <mark>衰减</mark> 都在这里"


# ---------------------------------------------------------------- the query table (fixture content)

# query, kinds, expected first hit, ids that must be among the hits, ids that must not be
TABLE = [
    ("外推", {"kp"}, None, {"extrapolation.position-interpolation", "extrapolation.alibi"}, set()),
    ("外推", None, "term-extrapolation", {"extrapolation.q.train-short"}, set()),
    ("旋转", {"kp"}, None, {"rope.definition", "rope.matrix-order"}, set()),
    ("旋转矩阵", None, "rope.definition", set(), {"rope.matrix-order"}),
    ("矩阵旋转", None, "rope.matrix-order", set(), {"rope.definition"}),
    ("RoPE 衰减", None, "rope.long-term-decay", set(), {"extrapolation.alibi"}),
    ("RoPE衰减", None, "rope.long-term-decay", set(), {"extrapolation.alibi"}),
    ("RoPE的衰减", None, "rope.long-term-decay", set(), {"extrapolation.alibi"}),
    ("衰减", None, None, {"rope.long-term-decay", "extrapolation.alibi"}, set()),
    # English names reach an item that only says 旋转位置编码 ...
    ("rotary", {"kp"}, None, {"rope.definition"}, {"rope.matrix-order"}),
    ("Rotary Position Embedding", {"kp"}, None, {"rope.definition"}, set()),
    # ... and the Chinese name reaches a question that only says RoPE.
    ("旋转位置编码", {"question"}, "rope.q.why-qk", set(), {"extrapolation.q.train-short"}),
    ("ALIBI", None, "extrapolation.alibi", set(), set()),
    ("alibi", None, "extrapolation.alibi", set(), set()),
    ("Position Interpolation", {"kp"}, "extrapolation.position-interpolation", set(), set()),
    ("位置插值", {"kp"}, "extrapolation.position-interpolation", set(), set()),
    ("hermitian", None, "rope.q.why-qk", set(), set()),  # a follow-up two levels deep
    ("script", None, "rope.escaping", set(), set()),
    ("插", None, "extrapolation.position-interpolation", set(), set()),  # one character: a unigram
    # every indexed field is searchable: formula, aliases, misconception, key points, 追问, note
    ("odot", None, "rope.definition", set(), set()),
    ("elementwise", None, "rope.matrix-order", set(), set()),
    ("单调", None, "rope.long-term-decay", set(), set()),
    ("振荡", None, "rope.long-term-decay", set(), set()),
    ("打分", None, "rope.q.why-qk", set(), set()),
    ("复数", None, "rope.q.why-qk", set(), set()),
    ("query", None, "term-rotary-position-embedding", set(), set()),
]


@pytest.mark.parametrize(("query", "kinds", "top", "included", "excluded"), TABLE)
def test_query_table(index, query, kinds, top, included, excluded):
    found = ids(index.search(query, kinds=kinds))
    assert found, f"{query!r} found nothing"
    if top is not None:
        assert found[0] == top
    assert included <= set(found)
    assert not excluded & set(found)


def test_matrix_order_text_has_both_words_but_not_the_chain(index):
    # The 旋转矩阵 row above only means something if rope.matrix-order contains 旋转 and 矩阵.
    assert "rope.matrix-order" in ids(index.search("旋转")) and "rope.matrix-order" in ids(index.search("矩阵"))


def test_every_name_of_a_term_finds_the_same_items(index):
    results = [ids(index.search(q)) for q in ["旋转位置编码", "RoPE", "rotary", "Rotary Position Embedding"]]
    assert all(r == results[0] for r in results)
    assert {"rope.definition", "rope.q.why-qk", "term-rotary-position-embedding"} <= set(results[0])


def index_of_kps(*kps: tuple[str, str, str], glossary: list[list[str]] = ()) -> SearchIndex:
    """An index over KPs given as (id, title, body), and glossary terms given as [zh, en, *aliases]."""
    meta = ChapterMeta(id="x", title="x", order=1, summary="x")
    points = [KnowledgePoint(id=i, title=t, body=b) for i, t, b in kps]
    chapter = Chapter(meta=meta, folder=Path("."), knowledge_points=points, questions=[])
    terms = [GlossaryTerm(zh=zh, en=en, aliases=aliases) for zh, en, *aliases in glossary]
    return SearchIndex.build(Content(root=Path("."), chapters=[chapter], glossary=terms, references={}))


def test_a_title_match_outranks_a_body_match():
    index = index_of_kps(("x.in-body", "别的话题", "zeta 出现在正文里。"), ("x.in-title", "zeta 函数", "另一个段落。" * 20))
    assert ids(index.search("zeta")) == ["x.in-title", "x.in-body"]


def test_markdown_does_not_split_a_phrase_and_links_are_not_indexed():
    index = index_of_kps(("x.bold", "标题", "按 **旋转**矩阵 相乘，见 [论文](https://arxiv.org/abs/2104.09864)。"))
    hit = index.search("旋转矩阵")[0]
    assert hit.id == "x.bold" and "<mark>旋转矩阵</mark>" in hit.snippet
    assert index.search("arxiv") == []


def test_a_glossary_name_of_two_chinese_runs_expands():
    glossary = [["旋转 矩阵", "rotation matrix"]]
    index = index_of_kps(("x.a", "甲", "乙 旋转 矩阵 丙"), ("x.b", "丁", "rotation matrix"), glossary=glossary)
    assert {"x.a", "x.b"} <= set(ids(index.search("旋转 矩阵")))
    assert {"x.a", "x.b"} <= set(ids(index.search("Rotation Matrix")))


def test_case_does_not_matter(index):
    assert ids(index.search("rope")) == ids(index.search("ROPE")) == ids(index.search("RoPE")) != []


@pytest.mark.parametrize(
    ("query", "same_as"),
    [('外推"', "外推"), ("^旋转", "旋转"), ("-外推", "外推"), ("rope*", "rope"), ("(外推", "外推"),
     ("NEAR(外推", "near 外推"), ("外推 NOT", "外推 not"), ("ALiBi:外推", "alibi 外推"), ('"RoPE" OR', "rope or")],
)
def test_fts_syntax_characters_are_plain_text(index, query, same_as):
    assert ids(index.search(query)) == ids(index.search(same_as))


@pytest.mark.parametrize("query", ['"', "*", "NEAR(", ":", "-", "()", "^", '""*:-()'])
def test_a_query_of_syntax_characters_only_finds_nothing(index, query):
    assert index.search(query) == []


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_an_empty_query_finds_nothing(index, query):
    assert index.search(query) == []


def test_an_over_long_query_raises_a_clear_error(index):
    assert index.search("外" * MAX_QUERY_CHARS) == []
    with pytest.raises(QueryError, match="at most 200"):
        index.search("外" * (MAX_QUERY_CHARS + 1))


def test_the_longest_query_of_distinct_terms_runs(index):
    query = " ".join(chr(0x4E00 + i) for i in range(100))[:MAX_QUERY_CHARS]
    assert index.search(query) == []


def test_bad_arguments_raise_query_error(index):
    with pytest.raises(QueryError, match="unknown kind"):
        index.search("外推", kinds={"kp", "video"})
    with pytest.raises(QueryError, match="limit"):
        index.search("外推", limit=0)


def test_kinds_and_limit_filter_the_hits(index):
    assert {h.kind for h in index.search("外推", kinds={"kp", "question"})} == {"kp", "question"}
    assert ids(index.search("外推", kinds={"glossary"})) == ["term-extrapolation"]
    assert index.search("外推", kinds=set()) == []
    assert ids(index.search("外推", kinds=["glossary"])) == ["term-extrapolation"]  # any iterable
    assert len(index.search("外推", limit=2)) == 2


def test_hits_carry_url_title_chapter_and_descending_scores(index):
    hits = {h.id: h for h in index.search("外推")}
    term = hits["term-extrapolation"]
    assert (term.kind, term.title, term.chapter) == ("glossary", "外推 (Extrapolation)", None)
    assert term.url == "/glossary#term-extrapolation"
    kp = hits["extrapolation.position-interpolation"]
    assert (kp.title, kp.chapter) == ("位置插值（Position Interpolation）", "extrapolation")
    assert kp.url == "/kp/extrapolation.position-interpolation"
    question = hits["extrapolation.q.train-short"]
    assert (question.url, question.chapter) == ("/questions/extrapolation.q.train-short", "extrapolation")
    scores = [h.score for h in index.search("外推")]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_snippets_escape_html_in_content(index):
    snippet = index.search("script")[0].snippet
    assert "<script" not in snippet and "&lt;<mark>script</mark>&gt;" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


def test_snippet_marks_the_match_in_a_deep_follow_up(index):
    assert index.search("hermitian")[0].snippet == "取 <mark>Hermitian</mark> 内积的实部即可。"


def test_snippet_marks_the_alias_that_matched(index):
    hit = next(h for h in index.search("rotary") if h.id == "rope.definition")
    assert "<mark>旋转位置编码</mark>" in hit.snippet


def test_did_you_mean_offers_a_close_name_only_on_a_miss(index):
    assert index.suggest("rotray") == "rotary"
    assert index.suggest("旋转位置编吗") == "旋转位置编码"
    assert index.suggest("Extrapolatoin") == "Extrapolation"
    assert index.suggest("alibii") == "ALiBi"  # a part of a KP title
    assert index.suggest("RoPE") is None  # it has hits
    assert index.suggest("qqqqzz") is None
    assert index.suggest("permutaton") is None  # not "PE", though PE is inside it
    assert index.suggest("   ") is None


def test_concurrent_searches_from_a_thread_pool_match_serial_ones(index):
    queries = [row[0] for row in TABLE] * 20
    serial = [index.search(q) for q in queries]
    with ThreadPoolExecutor(max_workers=16) as pool:
        parallel = list(pool.map(index.search, queries))
    assert parallel == serial


def test_importing_search_stays_light():
    heavy = "('torch', 'pydantic', 'rapidfuzz', 'numpy')"
    code = f"import sys, peprep.search; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------- the real content


@pytest.fixture(scope="module")
def real():
    content = load_content()
    return content, SearchIndex.build(content)


def test_the_first_kp_is_found_first_by_its_title(real):
    content, index = real
    first = content.knowledge_points()[0]
    assert ids(index.search(first.title[:MAX_QUERY_CHARS], kinds={"kp"}))[0] == first.id


def test_every_item_is_found_by_its_own_title(real):
    content, index = real
    wanted = [(kp.title, kp.id, "kp") for kp in content.knowledge_points()]
    wanted += [(q.question, q.id, "question") for q in content.questions()]
    wanted += [(t.zh, t.anchor, "glossary") for t in content.glossary]
    assert wanted
    for title, item_id, kind in wanted:
        if len(title) <= MAX_QUERY_CHARS:
            assert item_id in ids(index.search(title, limit=10_000, kinds={kind})), title
