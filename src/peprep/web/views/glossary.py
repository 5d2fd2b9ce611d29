"""`/glossary` — 术语表: canonical Chinese term, English term, aliases, renderings to avoid, note."""

from fastapi import APIRouter, Request

from peprep.web.query import read_params
from peprep.web.templating import render

router = APIRouter()


@router.get("/glossary")
async def glossary(request: Request):
    read_params(request, [])
    return render(request, "glossary.html")
