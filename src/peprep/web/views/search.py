"""`/search?q=&kind=` — full-text search (peprep.search) with kind badges, snippets and did-you-mean.

With htmx the search box on this page asks for `_search_results.html` only, as the user types.
"""

import asyncio

from fastapi import APIRouter, Request

from peprep.search import KINDS, QueryError
from peprep.web.query import Param, one_of, read_params
from peprep.web.templating import is_htmx_fragment, render, site_of

router = APIRouter()

KIND_LABELS = {"kp": "知识点", "question": "面试题", "glossary": "术语"}
RESULT_LIMIT = 20  # the best 20; the kind filter narrows further


@router.get("/search")
async def search(request: Request):
    chosen = read_params(request, [
        Param("q", "搜索词，最多 200 个字符"),
        Param("kind", "结果类型：" + "、".join(sorted(KINDS)), one_of(sorted(KINDS), "结果类型")),
    ])
    query = str(chosen.get("q", ""))
    kind = chosen.get("kind")
    hits, suggestion, problem = [], None, None
    if query:
        site = site_of(request)
        # Right after start-up the index may still be building: wait for it off the event loop.
        index = site.search_index() if site.index_ready else await asyncio.to_thread(site.search_index)
        try:
            hits = index.search(query, limit=RESULT_LIMIT, kinds={kind} if kind else None)
            suggestion = None if hits else index.suggest(query)
        except QueryError as exc:
            problem = str(exc)
    fragment = is_htmx_fragment(request)
    # A live-search fragment is always swapped in (htmx skips 4xx), so it reports problems with 200.
    status = 400 if problem and not fragment else 200
    response = render(
        request, "_search_results.html" if fragment else "search.html", status=status, query=query, kind=kind,
        hits=hits, suggestion=suggestion, problem=problem, kind_labels=KIND_LABELS, limit=RESULT_LIMIT,
    )
    response.headers["Vary"] = "HX-Request"
    return response
