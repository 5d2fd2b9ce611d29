"""`/kp/{id}` — one knowledge point alone, and every question or 追问 that cites it."""

from fastapi import APIRouter, Request

from peprep.web.errors import not_found
from peprep.web.query import read_params
from peprep.web.templating import render, site_of

router = APIRouter()


@router.get("/kp/{kp_id}")
async def knowledge_point(request: Request, kp_id: str):
    read_params(request, [])
    site = site_of(request)
    found = site.kps.get(kp_id)
    if found is None:
        raise not_found("知识点", kp_id)
    chapter = site.content.chapter_of(found.id)
    return render(request, "kp.html", kp=found, chapter=chapter, citations=site.cited_by.get(found.id, []))
