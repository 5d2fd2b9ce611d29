"""`/questions` — the question bank, filtered by chapter, difficulty and tag.

A plain GET form, so filtering works without JavaScript; with htmx the form swaps only the list
(`_question_list.html`) and pushes the URL, so the filtered view stays linkable.
"""

from fastapi import APIRouter, Request

from peprep.web.query import Param, int_between, one_of, read_params
from peprep.web.templating import is_htmx_fragment, render, site_of

router = APIRouter()


@router.get("/questions")
async def question_bank(request: Request):
    site = site_of(request)
    chosen = read_params(request, [
        Param("chapter", "章节 id，如 " + "、".join(site.chapters), one_of(list(site.chapters), "章节")),
        Param("difficulty", "难度 1、2 或 3", int_between(1, 3)),
        Param("tag", "题目标签"),
    ])
    shown = [
        q for q in site.content.questions()
        if chosen.get("chapter") in (None, q.id.split(".", 1)[0])
        and chosen.get("difficulty") in (None, q.difficulty)
        and ("tag" not in chosen or chosen["tag"] in q.tags)
    ]
    name = "_question_list.html" if is_htmx_fragment(request) else "questions.html"
    response = render(request, name, questions=shown, chosen=chosen)
    response.headers["Vary"] = "HX-Request"
    return response
