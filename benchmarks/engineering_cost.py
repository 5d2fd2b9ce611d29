"""Cost per positional-encoding method, measured with the project's own code on this machine.

For a stack of L attention layers (B = 1, H heads of size D, T tokens) it times what each method adds
to one forward pass, and how that compares with the attention itself:

    sinusoidal   PE table (T, C) built once and added to the input          (`sinusoidal.sinusoidal_table`)
    rope         cos/sin (T, D) once, then q and k rotated in every layer   (`rope.apply_rotary`)
    alibi        (H, T, T) bias built once, added to the logits in every layer (`alibi.alibi_bias`)
    t5           bucket + table gather into (H, T, T) once, added in every layer (`t5_bias.t5_position_bias`)

and, with torch's fused `scaled_dot_product_attention` (CPU here), what an additive (H, T, T) mask
costs compared with `is_causal=True`. Memory is the size of what each method has to hold: the table,
the cos/sin cache, or the bias.

Not a test: numbers depend on the machine and are reported in the content as ratios, with the machine.

    .venv/bin/python benchmarks/engineering_cost.py [--layers 4] [--heads 8] [--head-dim 64] [--lengths 256 512 1024 2048]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

from peprep.encodings.alibi import alibi_bias
from peprep.encodings.attention import scaled_dot_product_attention
from peprep.encodings.rope import angles, apply_rotary, cos_sin, inv_freq
from peprep.encodings.sinusoidal import sinusoidal_table
from peprep.encodings.t5_bias import t5_position_bias


def timed(fn, repeats: int = 5) -> float:
    """Fewest CPU seconds (this process, one torch thread) of `repeats` runs after one warm-up.

    CPU time rather than wall time, and the minimum rather than the median: both are the least disturbed
    when other programs share the machine.
    """
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def measure(t: int, layers: int, heads: int, head_dim: int) -> dict:
    """Seconds each method adds to one forward pass of `layers` layers, next to the attention itself."""
    g = torch.Generator().manual_seed(0)
    c = heads * head_dim
    x = torch.randn(1, t, c, generator=g)
    q, k, v = (torch.randn(1, heads, t, head_dim, generator=g) for _ in range(3))
    logits = torch.randn(1, heads, t, t, generator=g)
    table = torch.randn(32, heads, generator=g) * 0.02
    cos, sin = cos_sin(angles(torch.arange(t), inv_freq(head_dim)), "half")
    alibi = alibi_bias(heads, t).float()

    attention = layers * timed(lambda: scaled_dot_product_attention(q, k, v, causal=True))
    add_bias = layers * timed(lambda: logits + alibi)  # every layer adds the (H, T, T) bias to its logits
    extra = {
        "sinusoidal": timed(lambda: x + sinusoidal_table(t, c)),  # once, at the input
        "rope": timed(lambda: cos_sin(angles(torch.arange(t), inv_freq(head_dim)), "half"))
        + layers * timed(lambda: (apply_rotary(q, cos, sin, layout="half"), apply_rotary(k, cos, sin, layout="half"))),
        "alibi": timed(lambda: alibi_bias(heads, t).float()) + add_bias,
        "t5": timed(lambda: t5_position_bias(table, t, bidirectional=False)) + add_bias,
    }
    memory = {"sinusoidal": t * c * 4, "rope": 2 * t * head_dim * 4, "alibi": heads * t * t * 4, "t5": heads * t * t * 4}
    masked = alibi.masked_fill(~torch.ones(t, t, dtype=torch.bool).tril(), float("-inf"))
    fused_causal = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
    fused_bias = timed(lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=masked))
    return {"T": t, "attention_s": attention, "extra_s": extra, "extra_ratio": {m: s / attention for m, s in extra.items()},
            "memory_bytes": memory, "sdpa_causal_s": fused_causal, "sdpa_bias_s": fused_bias,
            "sdpa_bias_over_causal": fused_bias / fused_causal}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--lengths", type=int, nargs="+", default=[256, 512, 1024, 2048])
    parser.add_argument("--json", action="store_true", help="print the raw numbers as JSON")
    args = parser.parse_args()
    torch.set_num_threads(1)  # a cost per method, not a parallel-speed-up measurement
    rows = [measure(t, args.layers, args.heads, args.head_dim) for t in args.lengths]
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"torch {torch.__version__}, CPU time, 1 thread; L={args.layers}, H={args.heads}, "
          f"D={args.head_dim}, B=1; reference attention = peprep.encodings.attention (causal)")
    print(f"{'T':>6} {'attn ms':>9} | {'extra time / attention':^44} | {'extra memory (MiB)':^36} | SDPA bias/causal")
    print(f"{'':>6} {'':>9} | {'sin':>10}{'rope':>11}{'alibi':>11}{'t5':>11}  | "
          f"{'sin':>8}{'rope':>9}{'alibi':>9}{'t5':>9}  |")
    for r in rows:
        ratio, mem = r["extra_ratio"], r["memory_bytes"]
        print(f"{r['T']:>6} {r['attention_s'] * 1e3:>9.1f} | "
              + "".join(f"{ratio[m]:>10.1%} " for m in ("sinusoidal", "rope", "alibi", "t5"))
              + " | " + "".join(f"{mem[m] / 2**20:>8.2f} " for m in ("sinusoidal", "rope", "alibi", "t5"))
              + f" | {r['sdpa_bias_over_causal']:.2f}x")


if __name__ == "__main__":
    main()
