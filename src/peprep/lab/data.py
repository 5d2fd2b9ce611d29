"""The lab's corpus: English text that ships with CPython, tokenized as bytes. No downloads.

Source: `pydoc_data.topics.topics`, the text behind `help("assert")`, `help("FORMATTING")` … — 79 topics
of the Python Language Reference and Library Reference in plain English with code examples (about
465 000 characters in CPython 3.11.7). Why this text: it is in every CPython installation (so the lab
runs offline anywhere the project installs), it is real prose with long-range structure (section
headings, repeated grammar rules, indented code), and it is big enough for a byte-level model to learn
for a few minutes on a CPU without memorising it.

Tokens are UTF-8 bytes (vocabulary 256, no tokenizer to ship); 99.9 % of the text is ASCII. Topics are
joined in sorted key order, so the corpus is a pure function of the Python version; its SHA-256 goes
into the results and the cache key. The first 90 % is training text, the last 10 % held-out text.

Shapes: corpus (N,) uint8 → batches (B, T) int64 inputs and (B, T) targets shifted by one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch
from torch import Tensor

VOCAB_SIZE = 256  # bytes
SOURCE = "pydoc_data.topics (CPython's help() text)"


def corpus_text() -> str:
    """All pydoc topics, sorted by topic name, separated by blank lines."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[name] for name in sorted(topics))


def encode(text: str) -> Tensor:
    """UTF-8 bytes as a (N,) int64 tensor, values in [0, 256)."""
    return torch.tensor(list(text.encode("utf-8")), dtype=torch.int64)


def decode(tokens: Tensor) -> str:
    return bytes(tokens.tolist()).decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Corpus:
    train: Tensor  # (N_train,) int64
    valid: Tensor  # (N_valid,) int64
    sha256: str

    @property
    def summary(self) -> dict:
        return {"source": SOURCE, "sha256": self.sha256, "train_tokens": len(self.train),
                "valid_tokens": len(self.valid), "vocab_size": VOCAB_SIZE, "tokens": "UTF-8 bytes"}


def load_corpus(valid_fraction: float = 0.1) -> Corpus:
    text = corpus_text()
    tokens = encode(text)
    split = int(len(tokens) * (1 - valid_fraction))
    return Corpus(train=tokens[:split], valid=tokens[split:], sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def random_batch(tokens: Tensor, batch_size: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """B random windows of T + 1 tokens: inputs x = w[:, :-1], targets y = w[:, 1:], each (B, T)."""
    starts = torch.randint(0, len(tokens) - length - 1, (batch_size,), generator=generator)
    windows = torch.stack([tokens[s : s + length + 1] for s in starts.tolist()])  # (B, T + 1)
    return windows[:, :-1], windows[:, 1:]


def eval_windows(tokens: Tensor, length: int, n_tokens: int) -> tuple[Tensor, Tensor]:
    """The first n_tokens scored positions cut into non-overlapping windows of `length` (Press et al. 2022).

    Every length scores the same n_tokens targets, so perplexities at different lengths are comparable.
    Returns inputs and targets, each (n_tokens / length, length).
    """
    if n_tokens % length:
        raise ValueError(f"n_tokens={n_tokens} must be a multiple of the window length {length}")
    if n_tokens + 1 > len(tokens):
        raise ValueError(f"held-out text has {len(tokens)} tokens, fewer than the {n_tokens + 1} needed")
    x = tokens[:n_tokens].view(-1, length)
    y = tokens[1 : n_tokens + 1].view(-1, length)
    return x, y
