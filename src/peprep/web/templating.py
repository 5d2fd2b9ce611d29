"""Jinja2 set-up shared by every view: the templates folder, the Markdown/math filters, `render`."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

import peprep
from peprep import rendering
from peprep.web.site import DIFFICULTY_LABELS, Site

HERE = Path(__file__).parent
KATEX = "vendor/katex-0.19.1"
HTMX = "vendor/htmx-2.0.11"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    env = templates.env
    env.globals.update(
        md=rendering.render_markdown,
        md_inline=rendering.render_inline,
        math_display=rendering.render_display_math,
        highlight=rendering.highlight_code,
        difficulty_labels=DIFFICULTY_LABELS,
        katex_dir=KATEX,
        htmx_dir=HTMX,
        version=peprep.__version__,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates


def site_of(request: Request) -> Site:
    return request.app.state.site


def render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    context.setdefault("site", site_of(request))
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status)


def is_htmx_fragment(request: Request) -> bool:
    """An htmx swap wants only the fragment; a history restore wants the whole page."""
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-history-restore-request") != "true"
