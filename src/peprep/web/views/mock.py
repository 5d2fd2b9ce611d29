"""`/mock` — the timed mock interview in the browser, and its saved scorecards.

    GET  /mock                 start form (15/30/45 minutes, chapters) and the saved interviews
    POST /mock/start           start one -> 303 /mock/{id}
    GET  /mock/{id}            the open question (answer form), its grading (key points to tick),
                               or, once it is over, the scorecard
    POST /mock/{id}/answer     typed answer, or "answered aloud"      -> 303 /mock/{id}
    POST /mock/{id}/grade      the key points ticked                 -> 303 /mock/{id}
    POST /mock/{id}/stop       end it now                            -> 303 /mock/{id}

Every step is saved (`MockRunner`), so a reload, a second tab or a closed laptop picks up where it
was. A form for a turn that is no longer open (posted twice, or from a stale tab) changes nothing
and lands back on the session.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from peprep.practice.mock import DURATIONS, MockError, MockSession, key_points, mention_spans, scorecard
from peprep.web.errors import PageError, bad_request, not_found
from peprep.web.practice_state import practice_of
from peprep.web.query import read_params
from peprep.web.templating import render

router = APIRouter()

MAX_ANSWER_CHARS = 20_000
MOVES = {"first": "第一题", "deeper": "追问", "simpler": "换个简单些的", "next": "下一题"}
END_REASONS = {"time": "时间到", "exhausted": "题目问完了", "stopped": "提前结束"}


@router.get("/mock")
def mock_home(request: Request):
    read_params(request, [])
    practice = practice_of(request)
    runner = practice.mock_runner()
    saved = [(s, card) for s in runner.store.list_mocks() if (card := _scorecard_or_none(practice.bank, s["data"]))]
    return _no_store(render(request, "mock.html", durations=DURATIONS, bank=practice.bank, saved=saved,
                            end_reasons=END_REASONS))


def _scorecard_or_none(bank, data: dict):
    """The scorecard of a saved session, or None when its record is damaged (say, a hand-edited import):
    one bad record must not take the list of the others down."""
    try:
        return scorecard(bank, _restore(data))
    except (PageError, KeyError, TypeError, ValueError, AttributeError, OverflowError):
        return None


@router.post("/mock/start")
def start(request: Request, minutes: int = Form(15), chapter: list[str] = Form([])):
    practice = practice_of(request)
    if minutes not in DURATIONS:
        raise bad_request(f"面试时长只能是 {' / '.join(map(str, DURATIONS))} 分钟。")
    unknown = [c for c in chapter if c not in practice.bank.chapter_titles]
    if unknown:
        raise bad_request(f"没有这个章节：{'、'.join(unknown)}。")
    try:
        session = practice.mock_runner().start(chapter, minutes)
    except MockError as exc:
        raise bad_request(str(exc)) from None
    return RedirectResponse(f"/mock/{session.id}", status_code=303)


def _load(request: Request, session_id: str) -> MockSession:
    if len(session_id) > 64:
        raise not_found("模拟面试", session_id[:64])
    data = practice_of(request).store.load_mock(session_id)
    if data is None:
        raise not_found("模拟面试", session_id)
    return _restore(data)


DAMAGED = "这次模拟面试的记录已损坏（字段缺失或类型不对，可能来自手工改过的导入文件），无法打开；其余记录不受影响。"


def _strings(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _restore(data: dict) -> MockSession:
    """A saved session checked as deeply as the pages use it, else a 422 page saying the record is damaged."""
    try:
        session = MockSession.from_dict(data)
        for turn in session.turns:
            if not (isinstance(turn.item_id, str) and isinstance(turn.answer, str) and isinstance(turn.move, str)
                    and isinstance(turn.asked_at, datetime) and (turn.answered_at is None or turn.seconds is not None)
                    and (turn.score is None or isinstance(turn.score, (int, float)))
                    and isinstance(turn.aloud, bool)
                    and (turn.ticked is None or (isinstance(turn.ticked, list)
                                                 and all(type(t) is int for t in turn.ticked)))):
                raise TypeError("turn field of the wrong type")
        if not (isinstance(session.id, str) and type(session.minutes) is int and 0 < session.minutes <= 24 * 60
                and _strings(session.chapters) and _strings(session.queue)
                and session.end_reason in (None, *END_REASONS)):
            raise TypeError("session field of the wrong type")
        session.deadline  # noqa: B018  (started_at + minutes must be a datetime)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise PageError(422, DAMAGED) from exc
    return session


@router.get("/mock/{session_id}")
def session_page(request: Request, session_id: str):
    read_params(request, [])
    practice = practice_of(request)
    session = _load(request, session_id)
    turn = session.current
    if turn is None:
        card = scorecard(practice.bank, session)
        rows = [(row, _segments(row.answer, [p.text for p in row.key_points])) for row in card.rows]
        return _no_store(render(request, "mock_scorecard.html", card=card, rows=rows, moves=MOVES,
                                end_reasons=END_REASONS, bank=practice.bank))
    item = practice.bank.get(turn.item_id)
    if item is None:  # the question left the bank mid-interview: end it rather than fail
        practice.mock_runner().stop(session)
        return RedirectResponse(f"/mock/{session.id}", status_code=303)
    points = key_points(item)
    context = dict(session=session, turn=turn, index=len(session.turns) - 1, item=item, moves=MOVES,
                   chain=practice.bank.chain(item.id)[:-1], points=points,
                   remaining=int(practice.mock_runner().interviewer.remaining(session).total_seconds()))
    if turn.answered_at is not None:
        spans = [mention_spans(turn.answer, [p]) for p in points]
        context.update(mentioned=[bool(s) for s in spans], segments=_segments(turn.answer, points))
    return _no_store(render(request, "mock_session.html", **context))


@router.post("/mock/{session_id}/answer")
def answer(request: Request, session_id: str, turn: int = Form(..., ge=0),
           answer: str = Form("", max_length=MAX_ANSWER_CHARS), aloud: str = Form("")):
    session = _load(request, session_id)
    try:
        practice_of(request).mock_runner().answer(session, turn, "" if aloud else answer, aloud=bool(aloud))
    except MockError:
        pass  # a stale form: the session page shows where things stand
    return RedirectResponse(f"/mock/{session.id}", status_code=303)


@router.post("/mock/{session_id}/grade")
def grade(request: Request, session_id: str, turn: int = Form(..., ge=0), tick: list[int] = Form([])):
    practice = practice_of(request)
    session = _load(request, session_id)
    current = session.current
    if current is not None and turn == len(session.turns) - 1 and current.item_id in practice.bank:
        total = len(key_points(practice.bank[current.item_id]))
        if any(not 0 <= t < total for t in tick):
            raise bad_request(f"要点编号应在 0 到 {total - 1} 之间。")
    try:
        practice.mock_runner().grade(session, turn, tick)
    except MockError:
        pass
    return RedirectResponse(f"/mock/{session.id}", status_code=303)


@router.post("/mock/{session_id}/stop")
def stop(request: Request, session_id: str):
    session = _load(request, session_id)
    practice_of(request).mock_runner().stop(session)
    return RedirectResponse(f"/mock/{session.id}", status_code=303)


def _segments(text: str, points) -> list[tuple[str, bool]]:
    """`text` cut into (piece, mentions a key point) so the template can <mark> without raw HTML."""
    out, at = [], 0
    for start, end in mention_spans(text, points):
        out += [(text[at:start], False), (text[start:end], True)]
        at = end
    return [(piece, marked) for piece, marked in out + [(text[at:], False)] if piece]


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response
