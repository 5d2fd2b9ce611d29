"""Every error the app answers is an HTML page with a Chinese message and a way home.

No stack trace ever reaches the client (design.md, Reliability): unknown ids are 404, bad query
parameters 400, a progress file that cannot be used or written (disk full, read-only, damaged) a 503
that names the file and what to do, and anything unexpected a plain 500 page (the trace goes to the
server log only).
"""

from __future__ import annotations

import logging
import sqlite3

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from peprep.practice.store import StoreError
from peprep.web.guard import SECURITY_HEADERS

log = logging.getLogger("peprep.web")

TITLES = {
    400: "请求有误",
    403: "拒绝访问",
    404: "找不到页面",
    405: "不支持的请求方法",
    413: "请求体太大",
    414: "网址太长",
    422: "记录无法使用",
    500: "服务器内部错误",
    503: "暂时无法使用",
}

HTTP_MESSAGES = {404: "这个网址没有对应的页面。", 405: "这个网址不接受该请求方法。"}


class PageError(Exception):
    """Raised by a view: answer `status` with `message` (Chinese, shown to the user as text)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(what: str, item_id: str) -> PageError:
    return PageError(404, f"没有 id 为「{item_id}」的{what}。")


def bad_request(message: str) -> PageError:
    return PageError(400, message)


def error_page(templates: Jinja2Templates, request: Request, status: int, message: str) -> HTMLResponse:
    title = TITLES.get(status, "出错了")
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "title": title, "message": message}, status_code=status
    )


def progress_fault_message(exc: sqlite3.OperationalError, db_path: str) -> str:
    text = str(exc).lower()
    if "full" in text or "disk i/o" in text:
        what = "磁盘已满或写入出错，这一步没有保存"
        fix = "腾出磁盘空间后重试这一步"
    elif "readonly" in text or "read-only" in text or "unable to open" in text:
        what = "文件或所在文件夹是只读的，这一步没有保存"
        fix = "把它改成可写，或用 --db 指向另一个文件"
    elif "locked" in text or "busy" in text:
        what = "正被另一个程序占用"
        fix = "稍后重试"
    else:
        what = f"出错了（{exc}）"
        fix = "稍后重试；问题持续时用 --db 指向另一个文件"
    return f"进度数据库 {db_path} {what}。之前保存的进度没有丢失。请{fix}。"


def _db_path(request: Request) -> str:
    practice = getattr(request.app.state, "practice", None)
    return str(getattr(practice, "db_path", "（未知位置）"))


def install(app: FastAPI, templates: Jinja2Templates) -> None:
    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError):
        return error_page(templates, request, exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        message = HTTP_MESSAGES.get(exc.status_code, TITLES.get(exc.status_code, "请求无法处理。"))
        response = error_page(templates, request, exc.status_code, message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        return error_page(templates, request, 400, "请求参数不合法。")

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError):
        return error_page(templates, request, 503, f"进度数据库无法使用 — {exc}")

    @app.exception_handler(sqlite3.OperationalError)
    async def _progress_file_fault(request: Request, exc: sqlite3.OperationalError):
        # The progress file failed under a request (disk full, made read-only, locked): say which file
        # and what to do. The transaction was rolled back, so what was saved before is intact.
        log.exception("progress database error on %s", request.url.path)
        return error_page(templates, request, 503, progress_fault_message(exc, _db_path(request)))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        response = error_page(templates, request, 500, "服务器出了点问题，请稍后重试或回到首页。")
        # Starlette answers a 500 outside the middleware stack, so the guard's headers are added here.
        for name, value in SECURITY_HEADERS:
            response.headers[name.decode()] = value.decode()
        return response
