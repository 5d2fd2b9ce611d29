"""`/chapters/{id}` — a chapter's summary, then every knowledge point in order, in full."""

from fastapi import APIRouter, Request

from peprep.web.errors import not_found
from peprep.web.query import read_params
from peprep.web.templating import render, site_of

router = APIRouter()


@router.get("/chapters/{chapter_id}")
async def chapter(request: Request, chapter_id: str):
    read_params(request, [])
    site = site_of(request)
    found = site.chapters.get(chapter_id)
    if found is None:
        raise not_found("章节", chapter_id)
    return render(request, "chapter.html", chapter=found, counts=site.counts[found.id])
