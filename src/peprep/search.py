"""Full-text search over the content: knowledge points, questions (with every 追问) and glossary terms.

Why it is built this way (design.md, "Chosen dependencies" → Search):

- SQLite FTS5 from the standard library, fed token streams we build in Python and split by FTS5's
  `ascii` tokenizer (which only splits on ASCII spaces and punctuation). Chinese has no spaces; jieba
  misses domain words and FTS5's trigram tokenizer cannot match two-character words such as 外推. So
  every CJK run is indexed as its chain of overlapping bigrams (旋转矩阵 → 旋转 转矩 矩阵) followed by
  its single characters; English words are lowercased.
- A query CJK run of two or more characters becomes the *phrase* of its bigrams: 旋转矩阵 needs
  旋转 转矩 矩阵 in a row, which is exactly "the text contains 旋转矩阵"; text with only 矩阵旋转 has
  no 转矩 and never matches. One character matches its unigram. Every query term must match (AND);
  a run is also split at 的, so `RoPE的外推` asks for RoPE and 外推.
- Glossary names expand: any name of a term (中文, English, alias) found in the query becomes an OR of
  all its names, so 旋转位置编码 / RoPE / rotary / Rotary Position Embedding find the same items.
- The MATCH expression is assembled from quoted tokens only; user text never reaches FTS5 syntax.
- Snippets are cut from plain text in Python, HTML-escaped first, then marked with <mark>.

Example:
    >>> from peprep.content import load_content
    >>> index = SearchIndex.build(load_content())
    >>> hits = index.search("RoPE 衰减", limit=3)    # [Hit(kind="kp", url="/kp/rope.…", …), …]
    >>> all(hit.snippet.count("<mark>") == hit.snippet.count("</mark>") for hit in hits)
    True
"""

from __future__ import annotations

import html
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # the content model pulls in pydantic; `import peprep.search` must stay light
    from peprep.content.schema import Content, GlossaryTerm, KnowledgePoint, Question

MAX_QUERY_CHARS = 200
SNIPPET_CHARS = 120
KINDS = frozenset({"kp", "question", "glossary"})

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_SEGMENT = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+)")  # word: letters/digits, not CJK
# Name patterns check word edges against ASCII only: a class holding the CJK ranges costs ~1 ms to
# compile wherever it appears, and an alias pattern would repeat it for every name. A non-ASCII
# letter glued to an English name (éRoPE) is the price, and no query writes that.
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
# A private-use character: FTS5 stores it as a token, but no query can produce it (it is not a word
# character), so it stops a phrase from running across fields, across punctuation between two CJK
# runs, or from the bigram chain into the unigram tail.
_BREAK = "\ue000"
# 的 joins words in natural queries (RoPE的外推) and is almost never inside a domain term.
_QUERY_SPLIT = "的"

# Column weights for bm25, in column order: titles and names count more than bodies.
_COLUMNS = ("title", "names", "body", "extra")
_WEIGHTS = (20.0, 10.0, 2.0, 1.0)


@dataclass(frozen=True)
class Hit:
    kind: Literal["kp", "question", "glossary"]
    id: str  # KP id, question id, or glossary term anchor
    title: str  # plain text (KP title, question text, or "中文 (English)")
    url: str  # /kp/{id}, /questions/{id}, /glossary#{anchor}
    snippet: str  # safe HTML with <mark>…</mark>
    chapter: str | None  # chapter id (None for glossary)
    score: float  # higher is better


class QueryError(ValueError):
    """The query cannot be searched; the message says why, in words a user understands."""


# ---------------------------------------------------------------- tokens (pure)


def _segments(text: str) -> list[tuple[bool, str]]:
    """(is_cjk, run) for every CJK run and every word of `text`, in order, lowercased and NFKC-folded
    (ＲｏＰＥ is rope). Folding run by run is much faster than folding the whole text: Chinese
    punctuation is full-width, so nearly every text would need it, but few runs do."""
    out = []
    for m in _SEGMENT.finditer(text.lower()):
        run = m.group()
        if not run.isascii() and not unicodedata.is_normalized("NFKC", run):
            run = unicodedata.normalize("NFKC", run).lower()
        out.append((m.lastgroup == "cjk", run))
    return out


def bigrams(run: str) -> list[str]:
    """Overlapping character pairs: `bigrams("旋转矩阵") == ["旋转", "转矩", "矩阵"]`; one char stays."""
    return [run] if len(run) < 2 else [a + b for a, b in zip(run, run[1:])]


def _phrase(segments: list[tuple[bool, str]]) -> list[str]:
    out: list[str] = []
    previous_cjk = False
    for is_cjk, run in segments:
        if is_cjk and previous_cjk:  # 旋转，矩阵 must not read as the chain of 旋转矩阵
            out.append(_BREAK)
        out.extend(bigrams(run) if is_cjk else [run])
        previous_cjk = is_cjk
    return out


def phrase_tokens(text: str) -> list[str]:
    """Words and CJK bigram chains in text order; the part of the index a phrase query walks.

    >>> phrase_tokens("RoPE的长程衰减")
    ['rope', '的长', '长程', '程衰', '衰减']
    """
    return _phrase(_segments(text))


def index_tokens(text: str) -> list[str]:
    """What one field stores: its phrase tokens, then each character of its CJK runs once (a
    one-character query only needs to know the field has it; listing every occurrence would
    double the index for nothing).

    >>> index_tokens("外推 ok") == ["外推", "ok", _BREAK, "外", "推"]
    True
    """
    segments = _segments(text)
    unigrams = list(dict.fromkeys(ch for is_cjk, run in segments if is_cjk and len(run) > 1 for ch in run))
    return _phrase(segments) + ([_BREAK, *unigrams] if unigrams else [])


def column_text(texts: Iterable[str]) -> str:
    """Several fields in one FTS5 column, with a break between them so no phrase spans two."""
    return f" {_BREAK} ".join(" ".join(index_tokens(t)) for t in texts if t.strip())


# ---------------------------------------------------------------- queries (pure)


@dataclass(frozen=True)
class Term:
    """One AND-ed part of a query: any of `phrases` may match; `literals` are what to highlight."""

    phrases: tuple[tuple[str, ...], ...]
    literals: tuple[str, ...]


def _name_pattern(name: str) -> str:
    """Regex for `name` in text: its words and CJK runs, any separators between, whole words only."""
    parts = _segments(name)
    pattern = ""
    for i, (is_cjk, run) in enumerate(parts):
        if i:  # two runs of one kind need a separator between them, or they would be one run
            pattern += r"[\W_]+" if is_cjk == parts[i - 1][0] else r"[\W_]*"
        pattern += re.escape(run)
    if parts and not parts[0][0]:
        pattern = _EDGE_BEFORE + pattern
    if parts and not parts[-1][0]:
        pattern += _EDGE_AFTER
    return pattern


class AliasTable:
    """Every glossary name, mapped to all the names of its term (and of any term sharing the name)."""

    def __init__(self, name_groups: Iterable[Sequence[str]]):
        self.groups: dict[str, tuple[str, ...]] = {}
        for names in name_groups:
            for name in names:
                key = _key(name)
                if key and _segments(name):
                    merged = self.groups.get(key, ()) + tuple(n for n in names if _segments(n))
                    self.groups[key] = tuple(dict.fromkeys(merged))
        by_length = sorted(self.groups, key=len, reverse=True)  # longest first: 旋转位置编码 before 位置编码
        patterns = [_name_pattern(name) for name in by_length]
        self.pattern = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    def find(self, normalized_query: str) -> list[tuple[int, int, tuple[str, ...]]]:
        """(start, end, names) for every glossary name in the (normalized) query."""
        if self.pattern is None:
            return []
        found = ((m, self.groups.get(_key(m.group()))) for m in self.pattern.finditer(normalized_query))
        return [(m.start(), m.end(), names) for m, names in found if names]


def _key(name: str) -> str:
    # A name and a query spelling of it agree on their tokens, not on spaces or hyphens.
    return " ".join(run for _, run in _segments(name))


def parse_query(query: str, aliases: AliasTable) -> list[Term]:
    """The AND-ed terms of a query; raises QueryError when it is too long, [] when it has no words."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query has {len(query)} characters; at most {MAX_QUERY_CHARS} are allowed")
    # The same plain-text pass as the documents, so a pasted title with math ($\{0,\dots,L-1\}$) asks
    # for what the index holds ("{0,…,l-1}"), not for the TeX command names.
    text = unicodedata.normalize("NFKC", plain_text(query)).lower()
    terms: list[Term] = []
    for start, end, names in aliases.find(text):
        phrases = tuple(dict.fromkeys(tuple(phrase_tokens(n)) for n in names))
        terms.append(Term(phrases, names))
        text = text[:start] + " " * (end - start) + text[end:]
    for is_cjk, run in _segments(text):
        if not is_cjk:
            terms.append(Term(((run,),), (run,)))
            continue
        pieces = [piece for piece in run.split(_QUERY_SPLIT) if piece] or [run]  # a lone 的 stays
        terms += [Term((tuple(bigrams(piece)),), (piece,)) for piece in pieces]
    return list(dict.fromkeys(terms))


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def match_expression(terms: Sequence[Term]) -> str:
    """The FTS5 MATCH string: quoted tokens joined by `+` (phrase), OR (names) and AND (terms)."""
    return " AND ".join(
        "(" + " OR ".join("(" + " + ".join(map(_quote, phrase)) + ")" for phrase in term.phrases) + ")"
        for term in terms
    )


# ---------------------------------------------------------------- plain text and snippets (pure)

_MARKDOWN = [
    (re.compile(r"^\s*(```|~~~).*$", re.M), ""),  # code fences (the code itself stays)
    (re.compile(r"^\s{0,3}(#{1,6}|>)\s?", re.M), ""),  # headings, quotes
    (re.compile(r"^\s*(?:[-*+]|\d+\.)\s+", re.M), ""),  # list bullets
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links and images: keep the text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"\1"),  # italics
    (re.compile(r"`+"), ""),
    (re.compile(r"\$+|\\[()\[\]]"), ""),  # math delimiters: $…$, $$…$$, \(…\), \[…\]
    (re.compile(r"\\(?:mathrm|text|textbf|mathbf|boldsymbol|operatorname)\{([^{}]*)\}"), r"\1"),
    (re.compile(r"\\[,;:! ]|\\q?quad\b"), " "),
    (re.compile(r"\\mathbb\{R\}"), "ℝ"),
    (re.compile(r"\\([{}])"), r"\1"),
    # Operators become their symbols; Greek letters stay spelled out, so `theta` still finds them.
    (re.compile(r"\\(times|to|cdot|in|leq?|geq?|l?dots|cdots|top|infty|approx|neq|left|right)(?![A-Za-z])"),
     lambda m: _LATEX_SYMBOLS[m.group(1)]),
    (re.compile(r"\s+"), " "),
]
_LATEX_SYMBOLS = {
    "times": "×", "to": "→", "cdot": "·", "in": "∈", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "dots": "…",
    "ldots": "…", "cdots": "…", "top": "⊤", "infty": "∞", "approx": "≈", "neq": "≠", "left": "", "right": "",
}


def plain_text(markdown: str) -> str:
    """Markdown + LaTeX as one readable line: markup and math delimiters gone, the words kept."""
    for pattern, replacement in _MARKDOWN:
        markdown = pattern.sub(replacement, markdown)
    return markdown.strip()


def _literal_regex(literals: Iterable[str]) -> re.Pattern[str] | None:
    patterns = sorted({_name_pattern(lit) for lit in literals if _segments(lit)}, key=len, reverse=True)
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I) if patterns else None


def _mark(text: str, pattern: re.Pattern[str] | None) -> str:
    """HTML-escape `text`, wrapping every match of `pattern` in <mark> (escaped before marked)."""
    out, last = [], 0
    for m in pattern.finditer(text) if pattern else ():
        if m.end() > m.start():
            out += [html.escape(text[last : m.start()]), "<mark>", html.escape(m.group()), "</mark>"]
            last = m.end()
    return "".join(out) + html.escape(text[last:])


class Highlighter:
    """Cuts and marks snippets for one query; its patterns are compiled once, not once per hit."""

    def __init__(self, terms: Sequence[Term]):
        # Choosing the field only needs a rough count, and substring tests are ~10x cheaper than
        # the case-blind, word-edged regex that then marks the chosen window.
        self.needles = [tuple(lit.lower() for lit in t.literals) for t in terms]
        self.pattern = _literal_regex(lit for t in terms for lit in t.literals)

    def _terms_in(self, field: str) -> int:
        lowered = field.lower()
        return sum(1 for needles in self.needles if any(n in lowered for n in needles))

    def snippet(self, fields: Sequence[str], width: int = SNIPPET_CHARS) -> str:
        """Safe HTML: a window of the field matching most terms (earlier fields win ties), marked."""
        best = max(fields, key=self._terms_in, default="")
        first = self.pattern.search(best) if self.pattern else None
        start = _window_start(best, first.start() if first else 0, width)
        window = best[start : start + width]
        prefix = "…" if start > 0 else ""
        suffix = "…" if start + width < len(best) else ""
        return prefix + _mark(window, self.pattern).replace("</mark><mark>", "") + suffix


def make_snippet(fields: Sequence[str], terms: Sequence[Term], width: int = SNIPPET_CHARS) -> str:
    """One snippet for one query: `Highlighter(terms).snippet(fields, width)`."""
    return Highlighter(terms).snippet(fields, width)


def _window_start(text: str, match: int, width: int) -> int:
    """Where a window showing `match` begins: a third of the width before it, never short at the
    end, and not inside an English word or LaTeX command (…imes d reads as noise)."""
    start = max(0, min(match - width // 3, len(text) - width))
    while 0 < start < match and _is_ascii_alnum(text[start - 1]) and _is_ascii_alnum(text[start]):
        start += 1
    return start


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


# ---------------------------------------------------------------- documents


@dataclass(frozen=True)
class _Doc:
    kind: Literal["kp", "question", "glossary"]
    id: str
    title: str
    url: str
    chapter: str | None
    columns: tuple[tuple[str, ...], ...]  # plain texts per FTS column, in _COLUMNS order
    snippet_fields: tuple[str, ...]  # plain texts, the one to prefer on ties first


# Columns and snippets both hold plain text, so that what matched is what gets marked (in
# Markdown, **旋转**矩阵 would not even contain the phrase 旋转矩阵).


def _kp_doc(kp: KnowledgePoint, chapter: str) -> _Doc:
    title, body, formula = plain_text(kp.title), plain_text(kp.body), plain_text(kp.formula or "")
    wrong_why = _plain_all([kp.misconception.wrong, kp.misconception.why] if kp.misconception else [])
    aliases = _plain_all(kp.aliases)
    columns = ((title,), aliases, (body,), (formula, *wrong_why))
    fields = _nonempty([body, *wrong_why, " · ".join(aliases), formula, title])
    return _Doc("kp", kp.id, title, f"/kp/{kp.id}", chapter, columns, fields)


def _question_doc(question: Question, chapter: str) -> _Doc:
    from peprep.content.schema import walk_asked  # lazy: see the TYPE_CHECKING import above

    asked = list(walk_asked(question))
    text, answer = plain_text(question.question), plain_text(question.answer)
    keys = _plain_all(k for item in asked for k in getattr(item, "key_points", []))
    followups = _plain_all(t for item in asked[1:] for t in (item.question, item.answer))
    columns = ((text,), (), (answer,), (*keys, *followups))
    fields = _nonempty([answer, *keys, *followups, text])
    return _Doc("question", question.id, text, f"/questions/{question.id}", chapter, columns, fields)


def _glossary_doc(term: GlossaryTerm) -> _Doc:
    note, aliases = plain_text(term.note or ""), _plain_all(term.aliases)
    columns = ((term.zh, term.en), aliases, (note,), ())
    fields = _nonempty([note, " · ".join(term.names())])
    url = f"/glossary#{term.anchor}"
    return _Doc("glossary", term.anchor, f"{term.zh} ({term.en})", url, None, columns, fields)


def _plain_all(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(map(plain_text, texts))


def _nonempty(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(t for t in texts if t)


def _documents(content: Content) -> list[_Doc]:
    docs = [_kp_doc(kp, c.id) for c in content.chapters for kp in c.knowledge_points]
    docs += [_question_doc(q, c.id) for c in content.chapters for q in c.questions]
    return docs + [_glossary_doc(term) for term in content.glossary]


_TITLE_PARTS = re.compile(r"[（）()【】\[\]，,：:；;、/|]")


def _suggestions(content: Content) -> list[str]:
    """What "did you mean" may offer: glossary names, KP titles, and the parts of a title between
    brackets and punctuation (自注意力的置换等变性（permutation equivariance） has two)."""
    names = [n for term in content.glossary for n in term.names()]
    titles = [plain_text(kp.title) for kp in content.knowledge_points()]
    parts = [p.strip() for t in titles for p in _TITLE_PARTS.split(t) if len(p.strip()) >= 2]
    return list(dict.fromkeys(names + titles + parts))


# ---------------------------------------------------------------- the index


class SearchIndex:
    """An in-memory FTS5 index over one Content. Thread-safe: one connection behind a lock."""

    def __init__(self, db: sqlite3.Connection, docs: list[_Doc], aliases: AliasTable, suggestions: list[str]):
        self._db, self._docs, self._aliases, self._suggestions = db, docs, aliases, suggestions
        self._lock = threading.Lock()  # sqlite3 connections must not run two statements at once

    @classmethod
    def build(cls, content: Content) -> SearchIndex:
        docs = _documents(content)
        db = sqlite3.connect(":memory:", check_same_thread=False)
        columns = ", ".join(_COLUMNS)
        db.execute(f"CREATE VIRTUAL TABLE docs USING fts5({columns}, kind UNINDEXED, tokenize='ascii')")
        weights = ", ".join(map(str, _WEIGHTS))
        db.execute("INSERT INTO docs(docs, rank) VALUES ('rank', ?)", (f"bm25({weights})",))
        rows = ((i, *map(column_text, d.columns), d.kind) for i, d in enumerate(docs))
        db.executemany(f"INSERT INTO docs(rowid, {columns}, kind) VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.commit()
        aliases = AliasTable(term.names() for term in content.glossary)
        return cls(db, docs, aliases, _suggestions(content))

    def search(self, query: str, limit: int = 20, kinds: set[str] | None = None) -> list[Hit]:
        """Best hits first. [] for a query without words; QueryError for a bad query or argument."""
        if limit < 1:
            raise QueryError(f"limit must be at least 1, not {limit}")
        kinds = None if kinds is None else set(kinds)
        if kinds is not None and not kinds <= KINDS:
            raise QueryError(f"unknown kind(s) {sorted(kinds - KINDS)}; choose from {sorted(KINDS)}")
        terms = parse_query(query, self._aliases)
        if not terms or kinds == set():
            return []
        wanted = sorted(kinds or KINDS)
        sql = (
            f"SELECT rowid, -rank FROM docs WHERE docs MATCH ? AND kind IN ({', '.join('?' * len(wanted))})"
            " ORDER BY rank, rowid LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(sql, (match_expression(terms), *wanted, limit)).fetchall()
        highlighter = Highlighter(terms)
        return [self._hit(self._docs[rowid], score, highlighter) for rowid, score in rows]

    @staticmethod
    def _hit(doc: _Doc, score: float, highlighter: Highlighter) -> Hit:
        snippet = highlighter.snippet(doc.snippet_fields)
        return Hit(doc.kind, doc.id, doc.title, doc.url, snippet, doc.chapter, score)

    def suggest(self, query: str) -> str | None:
        """The closest glossary name or KP title when `query` finds nothing, else None."""
        if not query.strip() or self.search(query, limit=1):
            return None
        from rapidfuzz import fuzz, process, utils  # lazy: only a miss pays for it

        # WRatio scores a short name found inside a longer query as a near-perfect match (PE inside
        # "permutaton"), so names much shorter than the query are not candidates.
        choices = [c for c in self._suggestions if len(c) >= 0.6 * len(query.strip())]
        best = process.extractOne(
            query, choices, scorer=fuzz.WRatio, processor=utils.default_process, score_cutoff=70
        )
        return best[0] if best else None
