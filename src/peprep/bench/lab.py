"""Training speed of the lab's tiny model vs the same model built with x-transformers.

Same size and encoding on both sides: vocabulary 256 (bytes), width 128, 4 heads of 32, 4 pre-LN
layers, MLP ×4, causal, trained with AdamW on (32, 64) token batches — the lab's extrapolation
defaults. RoPE rotates all 32 channels of a head on both sides (x-transformers defaults to half of
them, so `rotary_emb_dim` is set); ALiBi uses the official slopes on both sides. Both use torch's
fused SDPA. A "call" is one optimizer step (forward, backward, step); steps alternate between the
two models, and tokens/s = batch tokens / median step time.
"""

from __future__ import annotations

from peprep.bench.runner import Result, interleave, medians

ENCODINGS = ("rope", "alibi")
FULL = {"batch": 32, "length": 64, "d_model": 128, "heads": 4, "layers": 4}
QUICK = {"batch": 2, "length": 16, "d_model": 32, "heads": 2, "layers": 1}
OURS, XT = "peprep.lab TinyLM", "x-transformers"


def available() -> str | None:
    """None if the lab's model can be imported, else why not (the benchmark is then skipped)."""
    try:
        from peprep.lab.model import ModelConfig, TinyLM  # noqa: F401
        from peprep.lab.positions import make_scheme  # noqa: F401
    except ImportError as exc:
        return f"peprep.lab is not importable ({exc})"
    return None


def run(*, quick: bool = False, rounds: int = 15, max_seconds: float = 20.0) -> list[Result]:
    return [run_case(enc, QUICK if quick else FULL, rounds=3 if quick else rounds, max_seconds=max_seconds)
            for enc in ENCODINGS]


def run_case(encoding: str, size: dict, *, rounds: int, max_seconds: float) -> Result:
    import torch

    torch.manual_seed(0)
    models = {OURS: _ours(encoding, size), XT: _x_transformers(encoding, size)}
    gen = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 256, (size["batch"], size["length"] + 1), generator=gen)
    x, y = tokens[:, :-1], tokens[:, 1:]
    steps = {name: _step(model, x, y) for name, model in models.items()}
    seconds = medians(interleave(steps, rounds=rounds, warmup=2, max_seconds=max_seconds))
    n_tokens = size["batch"] * size["length"]
    rate = {name: n_tokens / s for name, s in seconds.items()}
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in models.items()}
    shape = f"{size['layers']}×{size['d_model']}, {size['heads']} heads, batch {size['batch']}×{size['length']}"
    return Result(f"lab training step, {encoding} ({shape})", "tokens/s", rate[OURS], {XT: rate[XT]},
                  {"parameters": params, "ms per step": {n: 1e3 * s for n, s in seconds.items()}})


def _ours(encoding: str, size: dict):
    from peprep.lab.model import ModelConfig, TinyLM
    from peprep.lab.positions import make_scheme

    cfg = ModelConfig(vocab_size=256, d_model=size["d_model"], n_heads=size["heads"], n_layers=size["layers"])
    scheme = make_scheme(encoding, d_model=size["d_model"], n_heads=size["heads"], train_len=size["length"])
    return TinyLM(cfg, scheme)


def _x_transformers(encoding: str, size: dict):
    from x_transformers import Decoder, TransformerWrapper

    head_dim = size["d_model"] // size["heads"]
    position = ({"rotary_pos_emb": True, "rotary_emb_dim": head_dim} if encoding == "rope"
                else {"alibi_pos_bias": True, "alibi_num_heads": size["heads"]})
    layers = Decoder(dim=size["d_model"], depth=size["layers"], heads=size["heads"], attn_dim_head=head_dim,
                     ff_mult=4, attn_flash=True, verbose=False, **position)
    return TransformerWrapper(num_tokens=256, max_seq_len=size["length"], attn_layers=layers)


def _step(model, x, y):
    import torch
    from torch.nn import functional as F

    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    model.train()

    def step() -> None:
        logits = model(x)  # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step
