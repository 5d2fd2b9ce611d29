"""`/drills` and `/drills/{name}` — the coding drills: statement, the checks, the skeleton, and the
reference solution hidden until asked (the same reveal button as answers; noscript.css shows it).

Everything comes from `peprep.drills` catalog and solution files as text: no torch on the server.
"""

from fastapi import APIRouter, Request

from peprep.drills import DRILLS, get_drill, skeleton_source, solution_source
from peprep.web.errors import not_found
from peprep.web.query import read_params
from peprep.web.templating import render

router = APIRouter()


@router.get("/drills")
async def drill_list(request: Request):
    read_params(request, [])
    return render(request, "drills.html", drills=DRILLS)


@router.get("/drills/{name}")
async def drill_page(request: Request, name: str):
    read_params(request, [])
    drill = get_drill(name)
    if drill is None:
        raise not_found("练习", name)
    skeleton = skeleton_source(drill, started=None)
    return render(request, "drill.html", drill=drill, skeleton=skeleton, solution=solution_source(drill))
