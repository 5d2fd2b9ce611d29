"""The web app: `create_app()` loads the content once, builds the search index, and wires one view
module per page (`peprep.web.views.*`) behind the guard middleware (`peprep.web.guard`).

Routes:
    /                        home: chapters with counts
    /chapters/{id}           a chapter's knowledge points in order
    /kp/{id}                 one knowledge point and the questions that cite it
    /questions               question bank (?chapter=&difficulty=&tag=)
    /questions/{id}          one question, answer and 追问 revealed on request
    /glossary                术语表 (中英对照)
    /search                  full-text search (?q=&kind=)
    /figures/{file}          files under content/figures/ only
    /review                  spaced repetition (FSRS), one card at a time      (peprep.practice)
    /mock, /mock/{id}        timed mock interview and its scorecard
    /progress                per-chapter progress, forecast, retention, weakest KPs
    /print                   the whole handbook for printing (`peprep export pdf` prints it)
    /drills, /drills/{name}  coding drills: statement, checks, skeleton, solution on request   (peprep.drills)
    /exports/...             the three downloads on the home page (Anki, Markdown, PDF), with progress
    /static/...              CSS, JS and the vendored KaTeX and htmx

torch is never imported here: code listings are read from source files (`source_listing`).
"""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from peprep.content.loader import default_content_dir, load_content
from peprep.web import errors
from peprep.web.guard import Guard
from peprep.web.practice_state import PracticeState
from peprep.web.site import Site
from peprep.web.templating import HERE, make_templates
from peprep.web.views import (chapter, drills, exports, figures, glossary, handbook, home, kp, mock, progress,
                             question, questions, review, search)


def create_app(content_dir: Path | None = None, db_path: Path | None = None, *,
               remote_host: str | None = None) -> FastAPI:
    """`db_path`: the progress database (default: `peprep.practice.store.default_db_path()`).
    `remote_host`: the non-loopback address `peprep serve --allow-remote` binds, which the guard then accepts."""
    content = load_content(Path(content_dir) if content_dir else default_content_dir())
    site = Site.build(content)
    templates = make_templates()

    def warm() -> None:
        site.warm()
        for name in templates.env.list_templates():
            templates.get_template(name)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # After start-up, not before: the server answers at once, caches fill in the background.
        threading.Thread(target=warm, name="peprep-warm", daemon=True).start()
        yield

    app = FastAPI(title="peprep", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.site = site
    app.state.templates = templates
    app.state.practice = PracticeState(content, db_path)
    errors.install(app, templates)
    for view in (home, chapter, kp, questions, question, glossary, search, figures, handbook, exports,
                 review, mock, progress, drills):
        app.include_router(view.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(Guard, remote_host=remote_host)
    return app
