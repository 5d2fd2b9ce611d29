"""`/exports/…` — the three downloads on the home page (Anki deck, Markdown handbook, PDF handbook).

    POST /exports/{kind}        start an export (kind: anki, markdown, pdf); answers its status
    GET  /exports/{job}         the status: progress while it runs, then the path and size (or the error)
    GET  /exports/{job}/file    the finished file, as a download

With htmx the status is a fragment that replaces itself every second until the export ends; without
JavaScript the form posts, and the status page refreshes itself. POSTs pass the guard's same-origin
check (CSRF). Files are only ever served from a finished job's own record, never from a user path.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse

from peprep.web.errors import PageError
from peprep.web.export_jobs import KINDS, ExportJobs, Job
from peprep.web.query import read_params
from peprep.web.templating import is_htmx_fragment, render, site_of

router = APIRouter()
_registry_lock = threading.Lock()


def jobs_of(request: Request) -> ExportJobs:
    with _registry_lock:
        jobs = getattr(request.app.state, "export_jobs", None)
        if jobs is None:
            jobs = request.app.state.export_jobs = ExportJobs(site_of(request).content)
        return jobs


def job_or_404(request: Request, job_id: str) -> Job:
    job = jobs_of(request).get(job_id)
    if job is None:
        raise PageError(404, f"没有编号为「{job_id}」的导出任务（服务重启后任务记录会清空）。")
    return job


def status(request: Request, job: Job, code: int = 200):
    name = "_export_status.html" if is_htmx_fragment(request) else "export.html"
    return render(request, name, code, job=job, kinds=KINDS)


@router.post("/exports/{kind}")
def start_export(request: Request, kind: str):
    read_params(request, [])
    if kind not in KINDS:
        raise PageError(404, f"没有「{kind}」这种导出；可选：{'、'.join(KINDS)}。")
    job = jobs_of(request).start(kind)
    if is_htmx_fragment(request):
        return status(request, job, 202)
    return RedirectResponse(f"/exports/{job.id}", status_code=303)


@router.get("/exports/{job_id}")
def export_status(request: Request, job_id: str):
    read_params(request, [])
    return status(request, job_or_404(request, job_id))


@router.get("/exports/{job_id}/file")
def export_file(request: Request, job_id: str):
    read_params(request, [])
    job = job_or_404(request, job_id)
    if job.download is None or not job.download.is_file():
        raise PageError(404, "这个导出还没有完成，或文件已被移走。")
    return FileResponse(job.download, filename=job.download.name)
