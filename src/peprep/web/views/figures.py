"""`/figures/{file}` — the figures a KP cites, served from `content/figures/` and nowhere else."""

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from peprep.web.errors import not_found
from peprep.web.query import read_params
from peprep.web.templating import site_of

router = APIRouter()

MEDIA_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".webp": "image/webp", ".gif": "image/gif"}


@router.get("/figures/{name:path}")
async def figure(request: Request, name: str):
    read_params(request, [])
    folder = (site_of(request).content.root / "figures").resolve()
    file = (folder / name).resolve()
    # resolve() follows `..` and symlinks, so this also refuses a link pointing out of the folder.
    if not file.is_relative_to(folder) or not file.is_file() or file.suffix.lower() not in MEDIA_TYPES:
        raise not_found("图", name)
    return FileResponse(file, media_type=MEDIA_TYPES[file.suffix.lower()])
