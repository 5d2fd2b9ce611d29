"""Turn a position inside a field's text into a file line."""

from __future__ import annotations

from peprep.content.markup import line_offset
from peprep.content.schema import Located


def line_in_field(item: Located, field: str, text: str, offset: int) -> int:
    return item.text_line(field) + line_offset(text, offset)
