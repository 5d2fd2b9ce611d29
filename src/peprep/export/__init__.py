"""Exports of the content: an Anki deck, a Markdown handbook and a PDF handbook (design.md, Exports).

    anki.py       one note per question; updates in place on re-import
    markdown.py   the handbook as Markdown files (GitHub and Obsidian render the math)
    pdf.py        the web app's print view, printed by headless Chromium
    handbook.py   numbering, labels and lookups the three share
    version.py    the content version (digest + time) every export is stamped with
    output.py     atomic writes and the errors a user can fix
"""

from peprep.export.output import ExportError, ExportResult

__all__ = ["ExportError", "ExportResult"]
