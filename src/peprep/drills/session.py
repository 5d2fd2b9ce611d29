"""When a drill was started: a header line in the candidate's file, written by `drill start`.

    # peprep drill: rope-half · started 2026-12-04T09:30:00+00:00

The file carries its own clock, so `drill check FILE` can report the time to solve from any machine
or folder, and a file written by hand (no header) is checked just the same, without a time.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

HEADER = "# peprep drill: {name} · started {started}"
_HEADER_RE = re.compile(r"^#\s*peprep drill:\s*(?P<name>[a-z0-9-]+)(?:\s*·\s*started\s+(?P<started>\S+))?", re.M)


def header(name: str, started: datetime | None) -> str:
    """The header line; without a start time (a skeleton shown on the web) it names only the drill."""
    if started is None:
        return f"# peprep drill: {name}"
    return HEADER.format(name=name, started=started.astimezone(timezone.utc).isoformat(timespec="seconds"))


def read_header(source: str) -> tuple[str | None, datetime | None]:
    """(drill name, start time) from the first header line in the first lines of `source`."""
    match = _HEADER_RE.search("\n".join(source.splitlines()[:5]))
    if not match:
        return None, None
    started = None
    if match.group("started"):
        try:
            started = datetime.fromisoformat(match.group("started"))
        except ValueError:
            started = None
    if started is not None and started.tzinfo is None:
        started = started.replace(tzinfo=timezone.utc)
    return match.group("name"), started


def format_duration(seconds: float) -> str:
    """12 秒 · 3 分 05 秒 · 1 小时 02 分."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} 小时 {minutes:02d} 分"
    if minutes:
        return f"{minutes} 分 {secs:02d} 秒"
    return f"{secs} 秒"
