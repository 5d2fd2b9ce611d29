"""`/print` — the whole handbook on one page for printing: cover (content version, date), contents,
every chapter on a new page with its KPs and its questions with answers and 追问 shown, glossary and
references. `peprep export pdf` prints this page with headless Chromium (peprep.export.pdf).

Numbers (1.2, Q1.2), labels and the content version come from `peprep.export.handbook`, so the PDF,
the Markdown handbook and the Anki deck name every item the same way.
"""

from datetime import date

from fastapi import APIRouter, Request

from peprep.export.handbook import Handbook, difficulty_text
from peprep.web.query import read_params
from peprep.web.templating import render, site_of

router = APIRouter()


@router.get("/print")
def print_view(request: Request):
    read_params(request, [])
    site = site_of(request)
    book = Handbook.of(site.content)
    return render(request, "print.html", book=book, today=date.today().isoformat(), difficulty_text=difficulty_text)
