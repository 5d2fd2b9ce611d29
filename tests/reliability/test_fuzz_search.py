"""Property-based fuzzing of search: any query string gives hits, [] or a `QueryError` — never an SQLite
error or a crash — and on the web a 200 or 400 page that stays inert."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_kit import FIXTURE_CONTENT, assert_inert, assert_no_trace, count

from peprep.content.loader import load_content
from peprep.search import MAX_QUERY_CHARS, QueryError, SearchIndex, make_snippet, parse_query

EXAMPLES = int(os.environ.get("PEPREP_FUZZ_EXAMPLES", "150"))
FTS_BITS = ['"', "'", "*", "^", ":", "(", ")", "{", "}", "-", "+", "AND", "OR", "NOT", "NEAR(", "NEAR/2", "kind:",
            "title:", "docs", "rank", "MATCH", "\\", "%", "_", ";", "--", "/*", "\x00", "\u3000", "·", "、", "位置",
            "编码", "外推", "RoPE", "rope", "旋转位置编码", "ALiBi", "e^{i\\theta}", "$x$", "<mark>", "</mark>", "&amp;",
            "ｒｏｐｅ", "ﬁ", "İ", "ß", "\u0301", "😀", "\u200b", "\ufeff", "Ⅻ", "①", "½"]
QUERY = st.lists(st.sampled_from(FTS_BITS) | st.text(max_size=6), max_size=12).map(" ".join) | st.text(max_size=40)


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex.build(load_content(FIXTURE_CONTENT))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=QUERY, kinds=st.sampled_from([None, {"kp"}, {"question", "glossary"}]))
def test_any_query_gives_hits_or_a_query_error(index, query, kinds):
    count("search fuzzing: queries (hypothesis)")
    try:
        hits = index.search(query, limit=5, kinds=kinds)
    except QueryError:
        return
    for hit in hits:
        assert hit.url.startswith("/") and "<script" not in hit.snippet
    index.suggest(query)  # did-you-mean never crashes either
    terms = parse_query(query, index._aliases)
    make_snippet(["位置编码 RoPE " + query], terms)


@pytest.mark.parametrize("query", ["\ud800", "a\udfff", "x" * (MAX_QUERY_CHARS + 1), "NEAR(" * 50, '"' * 201,
                                   "*" * 100, " ".join(["OR"] * 60), "\x00" * 10, "编码" * 100])
def test_hostile_queries(index, query):
    try:
        index.search(query)
    except QueryError:
        pass
    count("search fuzzing: hostile queries")


@settings(max_examples=max(20, EXAMPLES // 4), deadline=None, suppress_health_check=list(HealthCheck))
@given(query=QUERY)
def test_search_page_never_fails(client, query):
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/search", params={"q": query}, headers=headers)
        assert_no_trace(response)
        assert response.status_code in (200, 400, 414)
        assert_inert(response.text, f"search {query!r}")
    count("search fuzzing: web queries (hypothesis)", 2)
