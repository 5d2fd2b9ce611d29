"""`/review` — spaced repetition in the browser: one card at a time, rated 1–4.

GET shows the next card (due first, then new, as `peprep.practice.review` orders them) with its
answer hidden; the rating buttons sit under the revealed answer, each labelled with the interval it
gives (keys 1–4 press them, static/practice.js). POST `/review/rate` records the rating in one
transaction and answers with the next card: the card fragment for htmx, else a 303 back to `/review`
(so a reload never posts twice; the form's `uid` makes a double submit one review anyway).

Filters (chapter, tag, difficulty, 追问 or not) are query parameters on GET and hidden fields on POST.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from peprep.practice.review import ReviewFilter
from peprep.practice.scheduler import RATING_LABELS, Rating, format_interval
from peprep.web.errors import bad_request
from peprep.web.practice_state import practice_of
from peprep.web.query import Param, int_between, one_of, read_params
from peprep.web.templating import is_htmx_fragment, render

router = APIRouter()

MAX_DURATION_MS = 3600 * 1000  # a card left open over lunch is not a 3-hour answer
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31: later values overflow datetime (a 500 before this cap)


def _tags(bank) -> list[str]:
    return sorted({t for item in bank.items.values() for t in item.tags})


def _params(request: Request) -> list[Param]:
    bank = practice_of(request).bank
    tags = _tags(bank)
    return [
        Param("chapter", "章节 id，如 " + "、".join(bank.chapter_titles), one_of(list(bank.chapter_titles), "章节")),
        Param("tag", "题目标签", one_of(tags, "标签")),
        Param("difficulty", "难度 1、2 或 3", int_between(1, 3)),
        Param("followups", "0 表示不复习追问", one_of(["0", "1"], "取值")),
    ]


def _filter(chosen: dict) -> ReviewFilter:
    return ReviewFilter(
        chapters=(chosen["chapter"],) if "chapter" in chosen else (),
        tags=(chosen["tag"],) if "tag" in chosen else (),
        difficulties=(chosen["difficulty"],) if "difficulty" in chosen else (),
        followups=chosen.get("followups", "1") == "1",
    )


def _card_context(request: Request, chosen: dict, saved=None) -> dict:
    practice = practice_of(request)
    session = practice.review_session(_filter(chosen))
    entry, counts = session.peek()
    context = {"chosen": chosen, "counts": counts, "entry": entry, "saved": saved,
               "query": urlencode({k: v for k, v in chosen.items()})}
    if entry is not None:
        preview = session.preview(entry.item.id)
        context.update(
            chain=practice.bank.chain(entry.item.id)[:-1],
            buttons=[(r, RATING_LABELS[r], format_interval(preview[r])) for r in Rating],
            uid=uuid.uuid4().hex,
            shown_at=int(practice.now().timestamp() * 1000),
        )
    return context


@router.get("/review")
def review_page(request: Request):
    chosen = read_params(request, _params(request))
    name = "_review_card.html" if is_htmx_fragment(request) else "review.html"
    bank = practice_of(request).bank
    response = render(request, name, bank=bank, tags=_tags(bank), **_card_context(request, chosen))
    response.headers["Vary"] = "HX-Request"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/review/rate")
def rate(
    request: Request,
    card_id: str = Form(..., max_length=300),
    rating: int = Form(..., ge=1, le=4),
    uid: str = Form(..., min_length=8, max_length=64, pattern=r"^[0-9a-f]+$"),
    shown_at: int = Form(..., ge=0, le=MAX_TIMESTAMP_MS),
    chapter: str = Form("", max_length=200),
    tag: str = Form("", max_length=200),
    difficulty: str = Form("", max_length=1),
    followups: str = Form("1", max_length=1),
):
    practice = practice_of(request)
    if card_id not in practice.bank:
        raise bad_request(f"没有 id 为「{card_id}」的题目或追问，无法评分。")
    chosen = _chosen_from_form(request, chapter=chapter, tag=tag, difficulty=difficulty, followups=followups)
    shown = datetime.fromtimestamp(shown_at / 1000, timezone.utc)
    duration = int((practice.now() - shown).total_seconds() * 1000)
    record = practice.review_session(_filter(chosen)).rate(
        card_id, Rating(rating), duration_ms=duration if 0 <= duration <= MAX_DURATION_MS else None, uid=uid)
    if not is_htmx_fragment(request):
        query = urlencode(chosen)
        return RedirectResponse("/review" + (f"?{query}" if query else ""), status_code=303)
    saved = (practice.bank[card_id], Rating(record.rating), format_interval(record.due_after - record.reviewed_at))
    response = render(request, "_review_card.html", bank=practice.bank,
                      **_card_context(request, chosen, saved=saved))
    response.headers["Cache-Control"] = "no-store"
    return response


def _chosen_from_form(request: Request, **fields: str) -> dict:
    """The filters travel as hidden fields; check them as strictly as the query string."""
    params = {p.name: p for p in _params(request)}
    chosen = {}
    for name, value in fields.items():
        if value.strip() == "" or (name == "followups" and value == "1"):
            continue
        try:
            chosen[name] = params[name].parse(value.strip())
        except ValueError as exc:
            raise bad_request(f"表单字段「{name}」的值不合法：{exc}（{params[name].help}）") from None
    return chosen
