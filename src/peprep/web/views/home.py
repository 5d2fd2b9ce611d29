"""`/` — the chapters in order with their counts, and the way into the question bank and glossary."""

from fastapi import APIRouter, Request

from peprep.web.query import read_params
from peprep.web.templating import render, site_of

router = APIRouter()


@router.get("/")
async def home(request: Request):
    read_params(request, [])
    site = site_of(request)
    totals = {what: site.total(what) for what in ("kps", "questions", "followups")}
    return render(request, "home.html", totals=totals)
