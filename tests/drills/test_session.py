"""The start-time header and the duration wording."""

from datetime import datetime, timedelta, timezone

from peprep.drills.session import format_duration, header, read_header

START = datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc)


def test_header_round_trips_in_utc():
    local = START.astimezone(timezone(timedelta(hours=8)))
    line = header("rope-half", local)
    assert line == "# peprep drill: rope-half · started 2026-12-04T09:30:00+00:00"
    assert read_header(f"{line}\nimport torch\n") == ("rope-half", START)


def test_header_without_time_or_missing():
    assert read_header("# peprep drill: alibi\n") == ("alibi", None)
    assert read_header("import torch\n") == (None, None)
    assert read_header("# peprep drill: alibi · started yesterday\n") == ("alibi", None)


def test_durations_read_naturally():
    assert format_duration(7) == "7 秒"
    assert format_duration(750) == "12 分 30 秒"
    assert format_duration(3725) == "1 小时 02 分"
    assert format_duration(-3) == "0 秒"
