"""`/questions/{id}` — one question: the answer on request, then the 追问 one at a time.

Everything is in the HTML (hidden until asked) so the page works without JavaScript (noscript.css
shows it all) and a `#follow-up-id` anchor can open the chain down to that follow-up (static/app.js).
A follow-up's full id redirects to its question's page at its anchor.
"""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from peprep.web.errors import not_found
from peprep.web.query import read_params
from peprep.web.templating import render, site_of

router = APIRouter()


@router.get("/questions/{question_id}")
async def question(request: Request, question_id: str):
    read_params(request, [])
    site = site_of(request)
    found = site.questions.get(question_id)
    if found is None:
        if question_id in site.asked:
            return RedirectResponse(site.url_of(question_id), status_code=307)
        raise not_found("题目", question_id)
    chapter = site.content.chapter_of(found.id)
    return render(request, "question.html", question=found, chapter=chapter)
