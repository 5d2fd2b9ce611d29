"""`/progress` — where the candidate stands: per chapter new / learning / mastered / due, the
forecast of due reviews, retention by day, the weakest knowledge points; `/progress/export` downloads
the same JSON as `peprep progress export`.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from peprep.practice.progress import progress_report
from peprep.practice.transfer import export_progress
from peprep.web.practice_state import practice_of
from peprep.web.query import read_params
from peprep.web.templating import render

router = APIRouter()
FORECAST_DAYS = 14
RETENTION_DAYS = 30


@router.get("/progress")
def progress_page(request: Request):
    read_params(request, [])
    practice = practice_of(request)
    store = practice.store
    report = progress_report(practice.bank, store, practice.now(), forecast_days=FORECAST_DAYS,
                             retention_days=RETENTION_DAYS)
    peak = max([n for _, n in report.forecast] + [1])
    response = render(request, "progress.html", report=report, totals=report.totals, peak=peak,
                      retention=report.retention, db_path=store.path,
                      mocks=store.list_mocks()[:5])
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/progress/export")
def export(request: Request):
    read_params(request, [])
    practice = practice_of(request)
    now = practice.now()
    body = json.dumps(export_progress(practice.store, now), ensure_ascii=False, indent=1) + "\n"
    name = f"peprep-progress-{now:%Y%m%d}.json"
    return Response(body, media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
