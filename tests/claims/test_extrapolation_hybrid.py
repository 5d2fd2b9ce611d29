"""Claims of chapter 5 about hybrid layer designs: which layers get positions, and with which base.

Read from the installed transformers 5.25 (config defaults and modeling code) with tiny CPU models:
- Llama 4 (iRoPE): every 4th layer is NoPE with full causal attention, the others are RoPE with chunked
  attention (chunk 8192); NoPE layers multiply the query by 1 + β·ln(1 + ⌊(p+1)/F⌋) (β = 0.1, F = 8192);
- Gemma 3: 5 sliding-window layers per global layer (first layer local), local base 10 000, global base 10⁶,
  a rope_scaling given to the config only reaches the global layers; Gemma 2: 1:1, window 4096, base 10 000;
- Cohere2 (Command R7B): 3 sliding RoPE layers per full NoPE layer; gpt-oss: alternating
  window-128 and dense layers, all with YaRN (factor 32, original 4096, base 150 000);
- a NoPE layer ignores positions, a RoPE layer only sees their differences, a window/chunk never lets a
  query see a key farther than W − 1 (C − 1), and chunks, unlike sliding windows, do not pass information
  across their boundary however many layers are stacked.
"""

from __future__ import annotations

import math

import pytest
import torch

transformers = pytest.importorskip("transformers")

from transformers import (  # noqa: E402
    Cohere2Config,
    Gemma2Config,
    Gemma3TextConfig,
    GptOssConfig,
    Llama4TextConfig,
)
from transformers.masking_utils import (  # noqa: E402
    chunked_causal_mask_function,
    sliding_window_causal_mask_function,
)
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS  # noqa: E402
from transformers.models.cohere2.modeling_cohere2 import Cohere2Attention, Cohere2RotaryEmbedding  # noqa: E402
from transformers.models.gemma3.modeling_gemma3 import Gemma3RotaryEmbedding, Gemma3TextModel  # noqa: E402
from transformers.models.llama4.modeling_llama4 import (  # noqa: E402
    Llama4TextAttention,
    Llama4TextModel,
    Llama4TextRotaryEmbedding,
)


def temperature(p: int | torch.Tensor, floor_scale: float = 8192.0, attn_scale: float = 0.1):
    """Our formula for the NoPE-layer query scale: τ(p) = 1 + β·ln(1 + ⌊(p+1)/F⌋), p the 0-based position."""
    if isinstance(p, torch.Tensor):
        return 1.0 + attn_scale * torch.log1p(torch.floor((p.to(torch.float64) + 1.0) / floor_scale))
    return 1.0 + attn_scale * math.log1p(math.floor((p + 1) / floor_scale))


def tiny_llama4(**overrides) -> Llama4TextConfig:
    kwargs = dict(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=16,
        intermediate_size_mlp=16,
        num_hidden_layers=4,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        num_local_experts=2,
        attn_implementation="eager",
    )
    kwargs.update(overrides)
    return Llama4TextConfig(**kwargs)


def causal_mask(n: int, allowed: torch.Tensor | None = None) -> torch.Tensor:
    """Additive float mask (1, 1, n, n) for eager attention."""
    ok = torch.ones(n, n, dtype=torch.bool).tril() if allowed is None else allowed
    return torch.zeros(n, n).masked_fill(~ok, float("-inf"))[None, None]


# --- Llama 4 ---------------------------------------------------------------------------------------


def test_llama4_nope_every_fourth_layer_and_chunked_rope_layers():
    """Default Llama4TextConfig (48 layers): no_rope_layers[i] = 1 means 'uses RoPE'; layers 3, 7, …, 47
    (0-based, (i+1) % 4 == 0) are NoPE, 12 of 48, and those are the full-attention layers; the 36 RoPE layers
    use chunked attention with chunk 8192. Base 500 000, temperature tuning on, F = 8192, β = 0.1. The
    attention modules agree: use_rope follows no_rope_layers and QK norm exists only in RoPE layers."""
    c = Llama4TextConfig()
    assert c.num_hidden_layers == 48 and c.no_rope_layer_interval == 4
    nope = [i for i, uses_rope in enumerate(c.no_rope_layers) if not uses_rope]
    assert nope == list(range(3, 48, 4)) and len(nope) == 12
    assert [i for i, t in enumerate(c.layer_types) if t == "full_attention"] == nope
    assert all(c.layer_types[i] == "chunked_attention" for i in range(48) if i not in nope)
    assert c.attention_chunk_size == 8192
    assert c.rope_parameters == {"rope_theta": 500000.0, "rope_type": "default"}
    assert c.attn_temperature_tuning and c.floor_scale == 8192 and c.attn_scale == 0.1
    tiny = tiny_llama4(num_hidden_layers=8)
    for i in range(8):
        attn = Llama4TextAttention(tiny, i)
        assert bool(attn.use_rope) == ((i + 1) % 4 != 0)
        assert hasattr(attn, "qk_norm") == bool(attn.use_rope)


def test_llama4_temperature_formula_values():
    """τ(p) = 1 for p + 1 < 8192 (p <= 8190), then a step: 1 + 0.1 ln 2 ≈ 1.0693 at p = 8191, ≈ 1.2833 at
    128K (p + 1 = 131072), ≈ 1.3497 at 256K, ≈ 1.7107 at 10M (p + 1 = 10⁷)."""
    assert temperature(0) == 1.0 and temperature(8190) == 1.0
    assert abs(temperature(8191) - (1 + 0.1 * math.log(2))) < 1e-12
    assert round(temperature(8191), 4) == 1.0693
    assert round(temperature(131071), 4) == 1.2833
    assert round(temperature(262143), 4) == 1.3497
    assert round(temperature(10**7 - 1), 4) == 1.7107


def nope_reference(attn: Llama4TextAttention, h: torch.Tensor, positions: torch.Tensor, extra_kv=None):
    """Our NoPE-layer forward: q·τ(p), no rotation, causal softmax with scale 1/√d_head."""
    n = h.shape[1]
    q = attn.q_proj(h).view(1, n, -1, attn.head_dim)
    q = q * temperature(positions, attn.floor_scale, attn.attn_scale).to(q.dtype)[None, :, None, None]
    k = attn.k_proj(h).view(1, n, -1, attn.head_dim)
    v = attn.v_proj(h).view(1, n, -1, attn.head_dim)
    if extra_kv is not None:
        k = torch.cat([extra_kv[0].transpose(1, 2), k], 1)
        v = torch.cat([extra_kv[1].transpose(1, 2), v], 1)
    rep = attn.num_key_value_groups
    k = k.repeat_interleave(rep, dim=2)
    v = v.repeat_interleave(rep, dim=2)
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) * attn.head_dim**-0.5
    m = k.shape[1]
    ok = torch.arange(m)[None, :] <= (torch.arange(n)[:, None] + m - n)
    scores = scores.masked_fill(~ok, float("-inf"))
    out = torch.einsum("bhqk,bkhd->bqhd", scores.softmax(-1), v).reshape(1, n, -1)
    return attn.o_proj(out)


def test_llama4_nope_layer_temperature_matches_installed_code():
    """Tiny floor_scale so one 20-token sequence crosses several steps: the installed NoPE attention equals
    our formula (query times τ(p), p = 0-based position); a RoPE layer gets no such factor."""
    torch.manual_seed(0)
    cfg = tiny_llama4(floor_scale=4, attn_scale=0.5)
    attn = Llama4TextAttention(cfg, 3).eval()
    assert not attn.use_rope
    n = 20
    h = torch.randn(1, n, cfg.hidden_size)
    pos = torch.arange(n)[None]
    freqs = Llama4TextRotaryEmbedding(cfg)(h, pos)
    with torch.no_grad():
        out, _ = attn(h, freqs, causal_mask(n))
        ref = nope_reference(attn, h, torch.arange(n))
    assert torch.allclose(out, ref, atol=1e-5)
    # without the factor the output differs (the step starts at p + 1 = 4)
    with torch.no_grad():
        plain = nope_reference(attn, h, torch.zeros(n, dtype=torch.long))
    assert not torch.allclose(out[:, 3:], plain[:, 3:], atol=1e-4)
    assert torch.allclose(out[:, :3], plain[:, :3], atol=1e-5)


class OffsetCache:
    """Minimal stand-in for a KV cache: claims `seen` past tokens, holds a few real past keys/values."""

    def __init__(self, k: torch.Tensor, v: torch.Tensor, seen: int):
        self.k, self.v, self.seen = k, v, seen

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.seen

    def update(self, k, v, layer_idx, kwargs=None):
        return torch.cat([self.k, k], 2), torch.cat([self.v, v], 2)


@pytest.mark.parametrize("seen", [8189, 8190, 262142, 10**7 - 2])
def test_llama4_temperature_at_long_positions_uses_the_cache_length(seen):
    """Default F = 8192, β = 0.1: the position in τ comes from the cache length (past tokens + index), not
    from position_ids. Queries at seen and seen + 1 compared with our formula."""
    torch.manual_seed(1)
    cfg = tiny_llama4()
    attn = Llama4TextAttention(cfg, 3).eval()
    h = torch.randn(1, 2, cfg.hidden_size)
    past_k = torch.randn(1, 1, 3, cfg.head_dim)
    past_v = torch.randn(1, 1, 3, cfg.head_dim)
    wrong_pos = torch.arange(2)[None]  # position_ids deliberately small: NoPE ignores them
    freqs = Llama4TextRotaryEmbedding(cfg)(h, wrong_pos)
    mask = torch.zeros(1, 1, 2, 5)
    mask[..., 0, 4] = float("-inf")
    with torch.no_grad():
        out, _ = attn(h, freqs, mask, cache=OffsetCache(past_k, past_v, seen))
        ref = nope_reference(attn, h, torch.arange(seen, seen + 2), extra_kv=(past_k, past_v))
    assert torch.allclose(out, ref, atol=1e-5)


def test_nope_layer_ignores_positions_rope_layer_sees_only_differences():
    """Llama 4 attention, tiny config: the NoPE layer's output is identical for any position_ids; the RoPE
    layer's output is unchanged by a uniform shift p → p + 1000 but changes when the gaps change."""
    torch.manual_seed(2)
    cfg = tiny_llama4(attn_temperature_tuning=False)
    nope = Llama4TextAttention(cfg, 3).eval()
    rope = Llama4TextAttention(cfg, 0).eval()
    rotary = Llama4TextRotaryEmbedding(cfg)
    n = 12
    h = torch.randn(1, n, cfg.hidden_size)
    base = torch.arange(n)[None]
    shifted = base + 1000
    gaps = (base * 3)  # same order, different distances
    with torch.no_grad():
        out = {name: {key: layer(h, rotary(h, p), causal_mask(n))[0] for key, p in
                      {"base": base, "shifted": shifted, "gaps": gaps}.items()}
               for name, layer in {"nope": nope, "rope": rope}.items()}
    assert torch.equal(out["nope"]["base"], out["nope"]["shifted"])
    assert torch.equal(out["nope"]["base"], out["nope"]["gaps"])
    assert torch.allclose(out["rope"]["base"], out["rope"]["shifted"], atol=1e-4)
    assert not torch.allclose(out["rope"]["base"], out["rope"]["gaps"], atol=1e-3)


def test_scout_rope_scaling_factor_16_is_a_hard_cut_at_wavelength_8192():
    """Meta's reference args.py: only Llama 4 Scout uses scaled RoPE, factor 16, high_freq_factor 1 (the
    llama3 rule with low_freq_factor 1, original length 8192). With low = high = 1 there is no blend band:
    for d = 128, base 500 000 the 35 pairs with wavelength < 8192 stay, the 29 longer ones are divided by 16.
    Computed with transformers' llama3 rule."""
    cfg = tiny_llama4(head_dim=128, num_attention_heads=2, hidden_size=256,
                      rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 16.0,
                                       "low_freq_factor": 1.0, "high_freq_factor": 1.0,
                                       "original_max_position_embeddings": 8192})
    scaled, attention_factor = ROPE_INIT_FUNCTIONS["llama3"](cfg, "cpu")
    plain = 1.0 / 500000.0 ** (torch.arange(0, 128, 2, dtype=torch.float64) / 128)
    wavelength = 2 * math.pi / plain
    short = wavelength < 8192
    assert int(short.sum()) == 35 and int((~short).sum()) == 29
    assert torch.allclose(scaled.double()[short], plain[short], rtol=1e-6)
    assert torch.allclose(scaled.double()[~short], plain[~short] / 16, rtol=1e-6)
    assert attention_factor == 1.0


# --- masks: window and chunk -----------------------------------------------------------------------


def dense(mask_fn, n: int) -> torch.Tensor:
    q = torch.arange(n)[:, None]
    k = torch.arange(n)[None, :]
    zero = torch.tensor(0)
    return mask_fn(zero, zero, q, k)


def test_window_and_chunk_masks_bound_the_distance():
    """transformers' masks: a sliding window W lets query p see keys p − W + 1 … p (distances 0 … W − 1);
    a chunk C lets it see keys from the start of its chunk ⌊p/C⌋·C to p, so the distance is at most C − 1
    and the first token of a chunk sees only itself."""
    n, w, c = 40, 5, 8
    q = torch.arange(n)[:, None]
    k = torch.arange(n)[None, :]
    sliding = dense(sliding_window_causal_mask_function(w), n)
    assert torch.equal(sliding, (q - k >= 0) & (q - k <= w - 1))
    chunked = dense(chunked_causal_mask_function(c, torch.zeros(1, dtype=torch.long)), n)
    assert torch.equal(chunked, (k <= q) & (k // c == q // c))
    assert int(((q - k) * chunked).max()) == c - 1
    assert int(chunked[16].sum()) == 1  # position 16 starts a chunk


def tiny_gemma3(layers: list[str], window: int) -> Gemma3TextModel:
    cfg = Gemma3TextConfig(vocab_size=64, hidden_size=16, intermediate_size=16, num_hidden_layers=len(layers),
                           num_attention_heads=2, num_key_value_heads=1, head_dim=8, sliding_window=window,
                           layer_types=layers, query_pre_attn_scalar=8, attn_implementation="eager")
    torch.manual_seed(3)
    return Gemma3TextModel(cfg).eval()


def influence(model, n: int, vocab: int = 64) -> torch.Tensor:
    """Positions whose final hidden state changes when only token 0 changes."""
    ids = torch.randint(1, vocab, (1, n), generator=torch.Generator().manual_seed(4))
    other = ids.clone()
    other[0, 0] = (ids[0, 0] % (vocab - 1)) + 1 if ids[0, 0] != 1 else 2
    with torch.no_grad():
        a = model(input_ids=ids).last_hidden_state
        b = model(input_ids=other).last_hidden_state
    return ((a - b).abs().amax(-1)[0] > 1e-6).nonzero().flatten()


def test_stacked_sliding_windows_grow_the_receptive_field_chunks_do_not():
    """Gemma 3 sliding layers (W = 4): token 0 reaches positions 0 … 3 after one layer and 0 … 6 after two
    (receptive field grows by W − 1 per layer). Llama 4 chunked layers (C = 4, all RoPE): token 0 never
    reaches position 4 or later, however many layers; only a full-attention (NoPE) layer crosses chunks."""
    n, w = 16, 4
    one = tiny_gemma3(["sliding_attention"], w)
    two = tiny_gemma3(["sliding_attention"] * 2, w)
    assert influence(one, n).tolist() == list(range(w))
    assert influence(two, n).tolist() == list(range(2 * (w - 1) + 1))
    torch.manual_seed(5)
    chunked = Llama4TextModel(tiny_llama4(num_hidden_layers=3, attention_chunk_size=4,
                                          no_rope_layers=[1, 1, 1])).eval()
    assert chunked.config.layer_types == ["chunked_attention"] * 3
    assert influence(chunked, n).tolist() == [0, 1, 2, 3]
    torch.manual_seed(5)
    mixed = Llama4TextModel(tiny_llama4(num_hidden_layers=4, attention_chunk_size=4)).eval()
    assert mixed.config.layer_types[3] == "full_attention"
    assert influence(mixed, n).tolist() == list(range(n))


# --- Gemma 3 / Gemma 2 -----------------------------------------------------------------------------


@pytest.mark.parametrize("layers,globals_", [(26, 4), (34, 5), (48, 8), (62, 10)])
def test_gemma3_five_local_per_global_first_layer_local(layers, globals_):
    """Gemma3TextConfig: layer i is global iff (i+1) % 6 == 0, so layer 0 is local; with the official layer
    counts (1B 26, 4B 34, 12B 48, 27B 62 in google/gemma_pytorch) that is 4, 5, 8, 10 global layers."""
    c = Gemma3TextConfig(num_hidden_layers=layers)
    full = [i for i, t in enumerate(c.layer_types) if t == "full_attention"]
    assert full == [i for i in range(layers) if (i + 1) % 6 == 0] and len(full) == globals_
    assert c.layer_types[0] == "sliding_attention"


def test_gemma3_bases_window_default_and_scaling_only_on_global_layers():
    """Defaults: local base 10 000, global base 1 000 000, max_position_embeddings 131 072, but the class
    default sliding_window is 4096 (the released 4B/12B/27B use 1024, set in their configs). A
    rope_scaling {linear, factor 8} given to the config reaches only the full-attention layers: the global
    inv_freq is 10⁶^(−2i/d)/8, the local one stays 10⁴^(−2i/d)."""
    c = Gemma3TextConfig()
    assert c.rope_parameters["sliding_attention"] == {"rope_type": "default", "rope_theta": 10000.0}
    assert c.rope_parameters["full_attention"] == {"rope_type": "default", "rope_theta": 1000000.0}
    assert c.sliding_window == 4096 and c.max_position_embeddings == 131072
    s = Gemma3TextConfig(head_dim=256, rope_scaling={"rope_type": "linear", "factor": 8.0})
    assert s.rope_parameters["full_attention"]["factor"] == 8.0
    assert "factor" not in s.rope_parameters["sliding_attention"]
    rot = Gemma3RotaryEmbedding(s)
    i = torch.arange(0, 256, 2, dtype=torch.float64) / 256
    assert torch.allclose(rot.full_attention_inv_freq.double(), 1e6 ** -i / 8, rtol=1e-6)
    assert torch.allclose(rot.sliding_attention_inv_freq.double(), 1e4 ** -i, rtol=1e-6)


def test_gemma3_kv_cache_fraction_at_128k():
    """KV cache per token position relative to all-global layers: with 5 local (window 1024) per global
    layer, at context n it is 1/6 + (5/6)·min(n, 1024)/n: 0.173 at 131 072 (about 5.8× less), 0.193 at
    32 768."""
    frac = lambda n: 1 / 6 + 5 / 6 * min(n, 1024) / n  # noqa: E731
    assert round(frac(131072), 3) == 0.173 and round(1 / frac(131072), 1) == 5.8
    assert round(frac(32768), 3) == 0.193


def test_gemma2_alternates_local_and_global():
    """Gemma2Config: sliding, full, sliding, … (first layer local), window 4096, one base 10 000 for all
    layers, max_position_embeddings 8192."""
    c = Gemma2Config()
    assert c.layer_types[:4] == ["sliding_attention", "full_attention"] * 2
    assert all(t == ("full_attention" if i % 2 else "sliding_attention") for i, t in enumerate(c.layer_types))
    assert c.sliding_window == 4096 and c.max_position_embeddings == 8192
    assert c.rope_parameters == {"rope_theta": 10000.0, "rope_type": "default"}


# --- Cohere2 / gpt-oss ------------------------------------------------------------------------------


def test_cohere2_sliding_layers_rope_full_layers_nope():
    """Cohere2Config: 3 sliding layers then 1 full layer (pattern 4), window 4096 by default; the attention
    applies RoPE only when the layer is sliding, so a full layer's output ignores positions entirely."""
    c = Cohere2Config()
    assert c.layer_types[:8] == (["sliding_attention"] * 3 + ["full_attention"]) * 2
    assert c.sliding_window == 4096
    tiny = Cohere2Config(vocab_size=64, hidden_size=16, intermediate_size=16, num_hidden_layers=4,
                         num_attention_heads=2, num_key_value_heads=1, attn_implementation="eager")
    rot = Cohere2RotaryEmbedding(tiny)
    torch.manual_seed(6)
    n = 10
    h = torch.randn(1, n, 16)
    base, gaps = torch.arange(n)[None], torch.arange(n)[None] * 5
    for idx, uses_rope in [(0, True), (3, False)]:
        layer = Cohere2Attention(tiny, idx).eval()
        with torch.no_grad():
            a = layer(h, rot(h, base), causal_mask(n))[0]
            b = layer(h, rot(h, gaps), causal_mask(n))[0]
        assert torch.allclose(a, b, atol=1e-5) != uses_rope


def test_gpt_oss_alternating_window_128_and_yarn_everywhere():
    """GptOssConfig: layers alternate sliding (window 128) and full, starting with sliding (OpenAI's
    reference code: layer_idx % 2 == 0 is windowed); every layer uses RoPE with YaRN factor 32 over an
    original 4096, β_fast 32, β_slow 1, truncate off, base 150 000; max_position_embeddings 131 072."""
    c = GptOssConfig()
    assert all(t == ("sliding_attention" if i % 2 == 0 else "full_attention") for i, t in enumerate(c.layer_types))
    assert c.sliding_window == 128 and c.max_position_embeddings == 131072 and c.num_hidden_layers == 36
    assert c.rope_parameters == {"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0,
                                 "truncate": False, "original_max_position_embeddings": 4096,
                                 "rope_theta": 150000.0}
    assert 4096 * 32 == 131072
