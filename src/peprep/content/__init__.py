"""Content: the schema of chapters, knowledge points and questions, their loader, and the checker."""

from peprep.content.loader import ContentError, load_content, default_content_dir
from peprep.content.schema import (
    Chapter,
    Content,
    FollowUp,
    GlossaryTerm,
    KnowledgePoint,
    Question,
    Reference,
)

__all__ = [
    "Chapter",
    "Content",
    "ContentError",
    "FollowUp",
    "GlossaryTerm",
    "KnowledgePoint",
    "Question",
    "Reference",
    "default_content_dir",
    "load_content",
]
