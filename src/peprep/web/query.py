"""Query parameters, declared per page and checked strictly.

A page declares the parameters it takes; anything else, a repeated parameter, an over-long value or
a value of the wrong shape is a 400 page that names the parameter and what is allowed. An empty value
(what a plain HTML form sends for "all") means the parameter was not given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request

from peprep.web.errors import bad_request

MAX_VALUE_CHARS = 200


@dataclass(frozen=True)
class Param:
    name: str
    help: str  # shown in the 400 page
    parse: Callable[[str], object] = str  # raises ValueError with a Chinese message when bad


def read_params(request: Request, params: list[Param]) -> dict[str, object]:
    """The declared parameters that have a value, parsed; raises a 400 PageError otherwise."""
    declared = {p.name: p for p in params}
    allowed = "、".join(declared) if declared else "（无）"
    values: dict[str, object] = {}
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if name not in declared:
            raise bad_request(f"未知的查询参数「{name}」。此页面允许的参数：{allowed}。")
        if name in seen:
            raise bad_request(f"查询参数「{name}」出现了不止一次；每个参数只能给一次。")
        seen.add(name)
        if len(value) > MAX_VALUE_CHARS:
            raise bad_request(f"查询参数「{name}」太长（{len(value)} 个字符），最多 {MAX_VALUE_CHARS} 个字符。")
        if "\x00" in value:
            raise bad_request(f"查询参数「{name}」含有空字符（NUL）。")
        if value.strip() == "":
            continue
        try:
            values[name] = declared[name].parse(value.strip())
        except ValueError as exc:
            raise bad_request(f"查询参数「{name}」的值不合法：{exc}（{declared[name].help}）") from None
    return values


def one_of(choices: list[str], what: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(f"没有这个{what}")
        return value

    return parse


def int_between(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
            raise ValueError(f"应为 {low} 到 {high} 之间的整数")
        return int(value)

    return parse
