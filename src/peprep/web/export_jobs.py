"""Exports started from the home page: each runs in a background thread and reports its progress.

The web page polls a job's status (htmx, `GET /exports/{id}`) until it ends with the file's path and
size, or with the error's message and fix. Where files go: `$PEPREP_EXPORT_DIR`, else `~/peprep-exports`
(created on first use). Jobs live in memory; only the newest MAX_JOBS are kept.
"""

from __future__ import annotations

import os
import secrets
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from peprep.content.schema import Content
from peprep.export.output import ExportError, ExportResult, atomic_file, human_size

MAX_JOBS = 20
KINDS = {"anki": "Anki 卡组（.apkg）", "markdown": "Markdown 手册（.zip）", "pdf": "PDF 手册"}
UNITS = {"notes": "张卡片", "questions": "道题", "pages": "页"}


def export_dir() -> Path:
    return Path(os.environ.get("PEPREP_EXPORT_DIR") or Path.home() / "peprep-exports").expanduser()


@dataclass
class Job:
    id: str
    kind: str
    fraction: float = 0.0
    step: str = "排队中"
    result: ExportResult | None = None
    download: Path | None = None  # the one file offered for download (the .zip for Markdown)
    error: str | None = None
    fix: str | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.result is None and self.error is None

    @property
    def size_text(self) -> str:
        return human_size(self.result.size) if self.result else ""

    @property
    def count_text(self) -> str:
        return f"{self.result.items} {UNITS.get(self.result.unit, self.result.unit)}" if self.result else ""

    def progress(self, fraction: float, step: str) -> None:
        self.fraction, self.step = max(0.0, min(1.0, fraction)), step


def run_export(kind: str, content: Content, folder: Path, progress) -> tuple[ExportResult, Path]:
    """Run one export into `folder`; returns its result and the file to offer for download."""
    if kind == "anki":
        from peprep.export.anki import export_anki

        result = export_anki(content, folder / "peprep.apkg", progress=progress)
        return result, result.path
    if kind == "pdf":
        from peprep.export.pdf import export_pdf

        result = export_pdf(content, folder / "peprep-handbook.pdf", progress=progress)
        return result, result.path
    from peprep.export.markdown import export_markdown

    result = export_markdown(content, folder / "peprep-handbook", progress=lambda f, s: progress(0.8 * f, s))
    progress(0.9, "打包 .zip")
    archive = folder / "peprep-handbook.zip"
    with atomic_file(archive) as temporary:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as out:
            for path in sorted(result.path.rglob("*")):
                if path.is_file():
                    out.write(path, Path(result.path.name) / path.relative_to(result.path))
    return result, archive


class ExportJobs:
    def __init__(self, content: Content):
        self.content = content
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def start(self, kind: str) -> Job:
        """A new job for `kind`, or the one of that kind still running (a second click does not start two)."""
        with self.lock:
            for job in self.jobs.values():
                if job.kind == kind and job.running:
                    return job
            job = Job(id=secrets.token_urlsafe(9), kind=kind)
            self.jobs[job.id] = job
            while len(self.jobs) > MAX_JOBS:
                oldest = next(j for j in self.jobs.values() if not j.running)
                del self.jobs[oldest.id]
        job.thread = threading.Thread(target=self._run, args=(job,), name=f"peprep-export-{kind}", daemon=True)
        job.thread.start()
        return job

    def _run(self, job: Job) -> None:
        folder = export_dir()
        try:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ExportError(f"cannot create {folder}: {exc.strerror or exc}",
                                  "set PEPREP_EXPORT_DIR to a folder you can write to and restart peprep serve") from None
            job.result, job.download = run_export(job.kind, self.content, folder, job.progress)
        except ExportError as exc:
            job.error, job.fix = exc.message, exc.fix
        except Exception as exc:  # shown on the page; a thread has no one else to tell
            job.error, job.fix = f"{type(exc).__name__}: {exc}", "run the same export with the CLI (peprep export …) to see the details"
