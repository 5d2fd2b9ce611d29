"""The extrapolation lab: train short, test long (Press et al. 2022, Fig. 1) on a laptop CPU.

For each encoding — sinusoidal, learned, RoPE, ALiBi, T5 bias, NoPE — train the same tiny causal LM
(`peprep.lab.model`) on the same batches of the same text (`peprep.lab.data`) at length L_train, then
measure perplexity on held-out text cut into non-overlapping windows of length L_eval = L_train …
8·L_train. RoPE is also evaluated with PI, NTK-aware and YaRN frequencies swapped in at inference
(no retraining), each with scale s = L_eval / L_train (so NTK-aware here equals dynamic NTK with
factor 1 at that length). Two numbers per cell:

    ppl       = exp(mean loss over every token of every window)          what Press et al. plot
    ppl_tail  = exp(mean loss over the last L_train tokens of each window) only positions >= L_eval − L_train

`ppl` mixes positions the model was trained on with new ones and rewards extra context ("early token
curse", Press et al. §5); `ppl_tail` isolates the far positions. A learned table has no row past
L_train: its cells beyond are recorded as not applicable with the error message, never as a number.

Everything is seeded (model init and batch order identical across encodings); torch uses `threads`
intra-op threads (2: this machine's cores; the numbers are reproducible for a fixed thread count).
Results are cached per trained model and per evaluation (`peprep.lab.cache`): re-running the same
config on the same code and data reuses them.
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

import torch

from peprep.encodings.learned import PositionOutOfRange
from peprep.encodings.rope_scaling import DefaultRope, LinearScaling, NTKAwareScaling, RopeParams, YarnScaling
from peprep.lab.cache import Cache, cache_key, code_fingerprint
from peprep.lab.data import VOCAB_SIZE, Corpus, eval_windows, load_corpus, random_batch
from peprep.lab.model import ModelConfig, TinyLM, count_parameters
from peprep.lab.positions import ENCODINGS, make_scheme

TASK = "extrapolation"
RESULTS_VERSION = 1
ROPE_VARIANTS = ("pi", "ntk", "yarn")
CODE = ("lab/data.py", "lab/model.py", "lab/positions.py", "lab/extrapolation.py", "encodings/attention.py",
        "encodings/sinusoidal.py", "encodings/learned.py", "encodings/rope.py", "encodings/rope_scaling.py",
        "encodings/alibi.py", "encodings/t5_bias.py")


@dataclass(frozen=True)
class ExtrapolationConfig:
    """Everything a result depends on. The defaults are the full run shipped with the chapter."""

    encodings: tuple[str, ...] = ENCODINGS
    rope_variants: tuple[str, ...] = ROPE_VARIANTS
    train_len: int = 64
    eval_lens: tuple[int, ...] = (64, 96, 128, 192, 256, 384, 512)
    eval_tokens: int = 15360  # a multiple of every eval length: each length scores the same targets
    d_model: int = 128
    n_heads: int = 4
    n_layers: int = 4
    steps: int = 500
    batch_size: int = 32
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup: int = 50
    weight_decay: float = 0.1
    rope_base: float = 10000.0
    seed: int = 1337
    threads: int = 2

    def __post_init__(self):
        unknown = set(self.encodings) - set(ENCODINGS)
        if unknown:
            raise ValueError(f"unknown encodings {sorted(unknown)}; known: {', '.join(ENCODINGS)}")
        if set(self.rope_variants) - set(ROPE_VARIANTS):
            raise ValueError(f"rope variants must be among {ROPE_VARIANTS}, got {self.rope_variants}")
        if min(self.eval_lens) < self.train_len:
            raise ValueError("evaluation lengths start at the training length")
        for length in self.eval_lens:
            if self.eval_tokens % length:
                raise ValueError(f"eval_tokens={self.eval_tokens} is not a multiple of eval length {length}")

    @property
    def model(self) -> ModelConfig:
        return ModelConfig(vocab_size=VOCAB_SIZE, d_model=self.d_model, n_heads=self.n_heads, n_layers=self.n_layers)

    def train_part(self) -> dict:
        keys = ("train_len", "d_model", "n_heads", "n_layers", "steps", "batch_size", "lr", "min_lr", "warmup",
                "weight_decay", "rope_base", "seed", "threads")
        return {k: getattr(self, k) for k in keys}


# --quick: the same pipeline, small enough for CI (< 60 s end to end on 2 cores). One thread: for this small
# model a second one saves little, and a single thread cannot spin-wait when torch was imported before
# `peprep.lab` could set OMP_WAIT_POLICY (under pytest, for example).
QUICK = ExtrapolationConfig(eval_lens=(64, 128, 256, 512), eval_tokens=4096, d_model=64, n_layers=2, steps=120,
                            batch_size=16, warmup=10, threads=1)


class Reporter(Protocol):
    def start(self, name: str, total: int) -> None: ...
    def advance(self, name: str, n: int = 1) -> None: ...
    def done(self, name: str, message: str) -> None: ...


class SilentReporter:
    def start(self, name: str, total: int) -> None:
        pass

    def advance(self, name: str, n: int = 1) -> None:
        pass

    def done(self, name: str, message: str) -> None:
        pass


def variant_names(cfg: ExtrapolationConfig) -> list[str]:
    """Rows of the results: each encoding, with RoPE followed by its inference-time variants."""
    rows = []
    for enc in cfg.encodings:
        rows.append(enc)
        if enc == "rope":
            rows += [f"rope+{v}" for v in cfg.rope_variants]
    return rows


def rope_scaling_for(variant: str, scale: float, cfg: ExtrapolationConfig) -> RopeParams:
    """The frequencies a RoPE row uses at scale s = L_eval / L_train (s = 1: plain RoPE for every row)."""
    if variant == "rope" or scale <= 1:
        return DefaultRope(cfg.rope_base)
    if variant == "rope+pi":
        return LinearScaling(scale, cfg.rope_base)
    if variant == "rope+ntk":
        return NTKAwareScaling(scale, cfg.rope_base)
    if variant == "rope+yarn":  # the paper's α = 1, β = 32 and the official dimension ramp
        return YarnScaling(scale, cfg.train_len, cfg.rope_base)
    raise ValueError(f"not a RoPE variant: {variant!r}")


def _lr(step: int, cfg: ExtrapolationConfig) -> float:
    """Linear warm-up, then cosine decay from lr to min_lr (nanoGPT's schedule)."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * progress))


def build_model(encoding: str, cfg: ExtrapolationConfig) -> TinyLM:
    torch.manual_seed(cfg.seed)  # identical initialisation of the shared weights for every encoding
    scheme = make_scheme(encoding, d_model=cfg.d_model, n_heads=cfg.n_heads, train_len=cfg.train_len, rope_base=cfg.rope_base)
    return TinyLM(cfg.model, scheme)


def train_model(encoding: str, cfg: ExtrapolationConfig, corpus: Corpus, reporter: Reporter) -> tuple[TinyLM, dict]:
    model = build_model(encoding, cfg)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=cfg.lr, betas=(0.9, 0.95))
    batches = torch.Generator().manual_seed(cfg.seed)  # the same batch order for every encoding
    curve, start = [], time.perf_counter()
    model.train()
    reporter.start(f"train {encoding}", cfg.steps)
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = _lr(step, cfg)
        x, y = random_batch(corpus.train, cfg.batch_size, cfg.train_len, batches)
        loss = model.loss(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0 or step == cfg.steps - 1:
            curve.append([step, round(loss.item(), 4)])
        reporter.advance(f"train {encoding}")
    model.eval()
    log = {"steps": cfg.steps, "seconds": round(time.perf_counter() - start, 2), "final_train_loss": curve[-1][1],
           "curve": curve, "parameters": count_parameters(model)}
    if encoding == "t5":  # the learned (bucket, head) table: what distances past L_train will be scored with
        log["t5_bias_table"] = [[round(v, 4) for v in row] for row in model.scheme.table.table.detach().tolist()]
    return model, log


@torch.no_grad()
def evaluate(model: TinyLM, variant: str, length: int, cfg: ExtrapolationConfig, corpus: Corpus) -> dict:
    """Perplexity of one row at one length; a learned table past its rows gives {"error": ...}."""
    if variant.startswith("rope"):
        model.scheme.scaling = rope_scaling_for(variant, length / cfg.train_len, cfg)
    x, y = eval_windows(corpus.valid, length, cfg.eval_tokens)  # (N, L) each
    per_batch = max(1, 8192 // length)
    try:
        losses = torch.cat([model.token_losses(x[i : i + per_batch], y[i : i + per_batch])
                            for i in range(0, len(x), per_batch)])  # (N, L) nats
    except PositionOutOfRange as exc:
        return {"error": f"PositionOutOfRange: {exc}"}
    finally:
        if variant.startswith("rope"):
            model.scheme.scaling = DefaultRope(cfg.rope_base)
    tail = losses[:, -cfg.train_len :]
    bins = losses.mean(0).view(-1, cfg.train_len // 2).mean(-1)  # mean loss per half-L_train block of positions
    return {"loss": round(losses.mean().item(), 5), "ppl": round(math.exp(losses.mean().item()), 4),
            "ppl_tail": round(math.exp(tail.mean().item()), 4), "position_loss": [round(v, 4) for v in bins.tolist()]}


def _keys(cfg: ExtrapolationConfig, corpus: Corpus) -> tuple[str, str]:
    code = code_fingerprint(CODE)
    train = cache_key({"task": TASK, "train": cfg.train_part(), "corpus": corpus.sha256, "code": code})
    evals = cache_key({"train": train, "eval_lens": list(cfg.eval_lens), "eval_tokens": cfg.eval_tokens,
                       "rope_variants": list(cfg.rope_variants)})
    return train, evals


def run_encoding(encoding: str, cfg: ExtrapolationConfig, corpus: Corpus, cache: Cache, reporter: Reporter) -> tuple[dict, dict, bool]:
    """(train log, {row: {length: cell}}, whether everything came from the cache) for one encoding."""
    train_key, eval_key = _keys(cfg, corpus)
    cached_eval = cache.load_json("eval", eval_key, f"{encoding}.json")
    cached_state = cache.load_state("train", train_key, f"{encoding}.pt")
    if cached_eval is not None and cached_state is not None:
        reporter.done(f"train {encoding}", f"{encoding}: cached")
        return {**cached_state["log"], "eval_seconds": cached_eval["eval_seconds"]}, cached_eval["cells"], True
    if cached_state is not None:
        model = build_model(encoding, cfg)
        model.load_state_dict(cached_state["model"])
        model.eval()
        log = cached_state["log"]
    else:
        model, log = train_model(encoding, cfg, corpus, reporter)
        cache.save_state("train", train_key, f"{encoding}.pt", {"model": model.state_dict(), "log": log})
    rows = [encoding] + ([f"rope+{v}" for v in cfg.rope_variants] if encoding == "rope" else [])
    reporter.start(f"eval {encoding}", len(rows) * len(cfg.eval_lens))
    cells: dict[str, dict[str, dict]] = {}
    start = time.perf_counter()
    for row in rows:
        cells[row] = {}
        for length in cfg.eval_lens:
            cells[row][str(length)] = evaluate(model, row, length, cfg, corpus)
            reporter.advance(f"eval {encoding}")
    log = {**log, "eval_seconds": round(time.perf_counter() - start, 2)}
    cache.save_json("eval", eval_key, f"{encoding}.json", {"cells": cells, "eval_seconds": log["eval_seconds"]})
    base = cells[encoding][str(cfg.train_len)]
    reporter.done(f"eval {encoding}", f"{encoding}: trained in {log['seconds']:.0f} s, ppl at L_train {base['ppl']:.3f}")
    return log, cells, False


def run(cfg: ExtrapolationConfig = ExtrapolationConfig(), *, cache_dir: Path | None = None,
        reporter: Reporter | None = None, command: str = "peprep lab run extrapolation") -> dict:
    """Train and evaluate every encoding; returns the results document: task, version, command, config, rows,
    corpus, environment, code_fingerprint, wall_seconds, cpu_seconds, from_cache, train {encoding: log} and
    eval {row: {length: {loss, ppl, ppl_tail, position_loss} or {error}}}."""
    reporter = reporter or SilentReporter()
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        corpus = load_corpus()
        cache = Cache(cache_dir)
        train, evals, cached = {}, {}, []
        for enc in cfg.encodings:
            log, cells, hit = run_encoding(enc, cfg, corpus, cache, reporter)
            train[enc], cached = log, cached + ([enc] if hit else [])
            evals.update(cells)
    finally:
        torch.set_num_threads(threads)
    return {
        "task": TASK,
        "version": RESULTS_VERSION,
        "command": command,
        "config": {**asdict(cfg), "encodings": list(cfg.encodings), "rope_variants": list(cfg.rope_variants),
                   "eval_lens": list(cfg.eval_lens)},
        "rows": variant_names(cfg),
        "corpus": corpus.summary,
        "environment": {"python": platform.python_version(), "torch": torch.__version__, "threads": cfg.threads,
                        "machine": platform.machine(), "system": platform.system()},
        "code_fingerprint": code_fingerprint(CODE),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "cpu_seconds": round(time.process_time() - cpu_start, 1),  # all threads; wall ≈ cpu / threads when idle
        "from_cache": cached,
        "train": train,
        "eval": evals,
    }


def results_table(results: dict, metric: str = "ppl") -> str:
    """Markdown table: one row per encoding/variant, one column per evaluation length."""
    lens = results["config"]["eval_lens"]
    train_len = results["config"]["train_len"]
    head = "| | " + " | ".join(f"{n}" + (" (train)" if n == train_len else f" ({n / train_len:g}×)") for n in lens) + " |"
    lines = [head, "|---|" + "---:|" * len(lens)]
    for row in results["rows"]:
        cells = []
        for n in lens:
            cell = results["eval"][row][str(n)]
            cells.append("n/a" if "error" in cell else f"{cell[metric]:.3f}")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_outputs(results: dict, out: Path) -> list[Path]:
    """results.json, table.md and the figure, in `out`."""
    from peprep.lab.plots import plot_extrapolation

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "results.json", out / "table.md", out / "extrapolation-lab.png"]
    paths[0].write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[1].write_text("## ppl (all tokens)\n\n" + results_table(results) + "\n\n## ppl_tail (last L_train tokens)\n\n"
                        + results_table(results, "ppl_tail") + "\n", encoding="utf-8")
    plot_extrapolation(results, paths[2])
    return paths
