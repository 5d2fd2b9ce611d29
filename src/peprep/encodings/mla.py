"""Multi-head Latent Attention (MLA) with decoupled RoPE, as in DeepSeek-V2 and DeepSeek-V3.

DeepSeek-AI 2024, "DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language Model"
(arXiv 2405.04434), §2.1.2-2.1.4 and Appendix C; DeepSeek-V3 (arXiv 2412.19437) keeps the design.
The paper writes column vectors and matrices (out, in); this module stores the same matrices and
applies them to row vectors (x @ W.T). Per token t, with h_t in R^d:

    c_t^KV = W^DKV h_t                      in R^{d_c}            latent of keys and values   (eq. 9)
    k_{t,i}^C = W^UK_i c_t^KV               in R^{d_h}            content key of head i       (eq. 10)
    v_{t,i}^C = W^UV_i c_t^KV               in R^{d_v}            value of head i             (eq. 11)
    c_t^Q = W^DQ h_t  (or c_t^Q = h_t when queries are not compressed, DeepSeek-V2-Lite)  (eq. 12)
    q_{t,i}^C = W^UQ_i c_t^Q                in R^{d_h}                                        (eq. 13)
    q_{t,i}^R = RoPE_t(W^QR_i c_t^Q)        in R^{d_h^R}          one rotated query per head  (eq. 14)
    k_t^R = RoPE_t(W^KR h_t)                in R^{d_h^R}          ONE rotated key, all heads  (eq. 15)
    q_{t,i} = [q^C_{t,i}; q^R_{t,i}],  k_{t,i} = [k^C_{t,i}; k_t^R]                        (eq. 16-17)
    o_{t,i} = sum_j softmax_j(q_{t,i} . k_{j,i} / sqrt(d_h + d_h^R)) v^C_{j,i}               (eq. 18)
    u_t = W^O [o_{t,1}; ...; o_{t,n_h}]                                                      (eq. 19)

Cached per token and layer: c_t^KV and k_t^R, d_c + d_h^R numbers (512 + 64 = 576 in DeepSeek-V2/V3).
DeepSeek puts an RMSNorm on the latents (paper §3.1.2; `kv_norm` / `q_norm` in the official code),
optional here. Names in DeepSeek's code / transformers: d_c = kv_lora_rank, d_h = qk_nope_head_dim,
d_h^R = qk_rope_head_dim, d_v = v_head_dim, query latent = q_lora_rank.

Weight absorption (Appendix C): the content score is
    q^C_{t,i} . k^C_{j,i} = (W^UQ_i c_t^Q)^T (W^UK_i c_j^KV) = (c_t^Q)^T (W^UQ_i^T W^UK_i) c_j^KV,
one fixed matrix per head, so attention can run on the cached latents without ever forming k^C or v^C
(`absorb=True`; the value side absorbs W^UV_i into W^O the same way). With RoPE on k^C a position-
dependent R_{n-m} would sit between W^UQ_i^T and W^UK_i and there would be nothing fixed to absorb
(§2.1.3): hence the separate, small rotated part q^R / k^R.

RoPE is `peprep.encodings.rope.apply_rotary` on the d_h^R channels. DeepSeek's official code rotates
adjacent pairs (complex view: layout "interleaved"); transformers' DeepseekV3 does the same with
`rope_interleave=True` and writes the result in the split-half order, a permutation of channels that
q^R and k^R share, so scores are unchanged (tests/claims/test_rope_mla.py).

Claims (each proved by a test):
- without RoPE, W^UK absorbs into the query side:        tests/claims/test_rope_mla.py::test_without_rope_up_projection_absorbs_into_query
- RoPE between them leaves no fixed matrix:              tests/claims/test_rope_mla.py::test_rope_on_content_keys_leaves_no_fixed_matrix
- decoupled score = content + relative rotary part:      tests/claims/test_rope_mla.py::test_decoupled_score_is_content_plus_relative_rope_part
- absorbed attention on the cache = naive attention:     tests/claims/test_rope_mla.py::test_absorbed_attention_on_latent_cache_equals_naive
- cache holds c^KV and one shared k^R (576 per token):  tests/claims/test_rope_mla.py::test_cache_holds_latent_and_one_shared_rope_key
- transformers' DeepseekV3Attention = this reference:   tests/claims/test_rope_mla.py::test_matches_transformers_deepseek_v3_attention
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from peprep.encodings.attention import causal_mask
from peprep.encodings.rope import Layout, angles, apply_rotary, cos_sin, inv_freq
from peprep.encodings.rope_scaling import yarn_mscale


def rms_norm(x: Tensor, weight: Tensor | None, eps: float = 1e-6) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * weight over the last axis; identity when weight is None."""
    if weight is None:
        return x
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * weight


@dataclass
class MLAWeights:
    """The matrices of one MLA layer, (out, in) like the paper and nn.Linear.

    w_dkv (d_c, d)          W^DKV, down-projection to the KV latent
    w_uk  (H, d_h, d_c)     W^UK per head, content keys from the latent
    w_uv  (H, d_v, d_c)     W^UV per head, values from the latent
    w_kr  (d_h^R, d)        W^KR, the single rotated key from h_t
    w_dq  (d_c', d) | None  W^DQ, query latent (None: queries read h_t directly)
    w_uq  (H, d_h, q_in)    W^UQ per head, q_in = d_c' or d
    w_qr  (H, d_h^R, q_in)  W^QR per head, the rotated queries
    w_o   (d, H * d_v)      W^O
    kv_norm (d_c,) | None, q_norm (d_c',) | None: RMSNorm weights on the latents.
    """

    w_dkv: Tensor
    w_uk: Tensor
    w_uv: Tensor
    w_kr: Tensor
    w_uq: Tensor
    w_qr: Tensor
    w_o: Tensor
    w_dq: Tensor | None = None
    kv_norm: Tensor | None = None
    q_norm: Tensor | None = None
    eps: float = 1e-6

    def __post_init__(self):
        h, d_h, d_c = self.w_uk.shape
        if self.w_dkv.shape[0] != d_c or self.w_uv.shape[0] != h or self.w_uv.shape[2] != d_c:
            raise ValueError("w_dkv, w_uk and w_uv disagree on d_c or the number of heads")
        if self.w_uq.shape[:2] != (h, d_h) or self.w_qr.shape[0] != h:
            raise ValueError("w_uq must be (H, d_h, q_in) and w_qr (H, d_h^R, q_in) with the keys' H and d_h")
        if self.w_qr.shape[1] != self.w_kr.shape[0] or self.w_kr.shape[0] % 2:
            raise ValueError("q^R and k^R must have the same even rotary dimension d_h^R")
        q_in = self.w_dq.shape[0] if self.w_dq is not None else self.w_dkv.shape[1]
        if self.w_uq.shape[2] != q_in or self.w_qr.shape[2] != q_in:
            raise ValueError(f"query up-projections must read {q_in} inputs (d_c' or d)")
        if self.w_o.shape[1] != h * self.w_uv.shape[1]:
            raise ValueError("w_o must read H * d_v inputs")

    @property
    def n_heads(self) -> int:
        return self.w_uk.shape[0]

    @property
    def d_nope(self) -> int:
        return self.w_uk.shape[1]

    @property
    def d_rope(self) -> int:
        return self.w_kr.shape[0]

    @property
    def d_c(self) -> int:
        return self.w_dkv.shape[0]

    @classmethod
    def random(
        cls,
        d: int,
        n_heads: int,
        *,
        d_c: int,
        d_nope: int,
        d_rope: int,
        d_v: int,
        d_cq: int | None = None,
        norms: bool = True,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> "MLAWeights":
        """Gaussian weights scaled by 1/sqrt(fan_in); norm weights near 1 when `norms`."""

        def w(*shape: int) -> Tensor:
            return torch.randn(*shape, generator=generator, dtype=dtype) / math.sqrt(shape[-1])

        q_in = d_cq if d_cq is not None else d

        def g(n: int) -> Tensor:
            return 1 + 0.1 * torch.randn(n, generator=generator, dtype=dtype)

        return cls(
            w_dkv=w(d_c, d), w_uk=w(n_heads, d_nope, d_c), w_uv=w(n_heads, d_v, d_c), w_kr=w(d_rope, d),
            w_uq=w(n_heads, d_nope, q_in), w_qr=w(n_heads, d_rope, q_in), w_o=w(d, n_heads * d_v),
            w_dq=w(d_cq, d) if d_cq is not None else None,
            kv_norm=g(d_c) if norms else None, q_norm=g(d_cq) if norms and d_cq is not None else None,
        )


def rope_cos_sin(
    positions: Tensor, d_rope: int, *, base: float = 10000.0, frequencies: Tensor | None = None,
    layout: Layout = "interleaved", attention_factor: float = 1.0, angle_dtype: torch.dtype = torch.float32,
) -> tuple[Tensor, Tensor]:
    """cos, sin (T, d_h^R) for the decoupled part; `frequencies` overrides base^(-2i/d_h^R) (e.g. YaRN).
    Angles m·θ_i in `angle_dtype` (float32 like transformers; float64 for exact algebra at large m).

    attention_factor multiplies cos and sin (transformers' YaRN `attention_scaling`); DeepSeek's own
    code leaves it at 1 and folds the temperature into the softmax scale (`softmax_scale`).
    """
    theta = inv_freq(d_rope, base) if frequencies is None else frequencies
    if theta.shape[-1] * 2 != d_rope:
        raise ValueError(f"need {d_rope // 2} frequencies for d_h^R = {d_rope}, got {theta.shape[-1]}")
    cos, sin = cos_sin(angles(positions, theta, dtype=angle_dtype), layout)
    return cos * attention_factor, sin * attention_factor


def compress_kv(h: Tensor, w: MLAWeights, cos: Tensor, sin: Tensor, *, layout: Layout = "interleaved") -> tuple[Tensor, Tensor]:
    """What the cache keeps for tokens h (B, T, d): the latent c^KV (B, T, d_c), normed, and the
    single rotated key k^R (B, T, d_h^R) at the positions of cos/sin."""
    c_kv = rms_norm(h @ w.w_dkv.T, w.kv_norm, w.eps)
    k_r = apply_rotary((h @ w.w_kr.T).unsqueeze(1), cos, sin, layout=layout).squeeze(1)
    return c_kv, k_r


def queries(h: Tensor, w: MLAWeights, cos: Tensor, sin: Tensor, *, layout: Layout = "interleaved") -> tuple[Tensor, Tensor]:
    """q^C (B, H, T, d_h) and rotated q^R (B, H, T, d_h^R) for tokens h (B, T, d)."""
    c_q = rms_norm(h @ w.w_dq.T, w.q_norm, w.eps) if w.w_dq is not None else h
    q_c = torch.einsum("btc,hnc->bhtn", c_q, w.w_uq)
    q_r = apply_rotary(torch.einsum("btc,hrc->bhtr", c_q, w.w_qr), cos, sin, layout=layout)
    return q_c, q_r


def expand_keys_values(c_kv: Tensor, k_r: Tensor, w: MLAWeights) -> tuple[Tensor, Tensor]:
    """The naive path: keys [k^C_i; k^R] (B, H, T, d_h + d_h^R), k^R copied to every head, and values
    (B, H, T, d_v), recomputed from the cached latent."""
    k_c = torch.einsum("btc,hnc->bhtn", c_kv, w.w_uk)
    shared = k_r.unsqueeze(1).expand(-1, w.n_heads, -1, -1)  # one rotated key, broadcast to all heads
    return torch.cat((k_c, shared), dim=-1), torch.einsum("btc,hvc->bhtv", c_kv, w.w_uv)


def absorbed_query_matrix(w: MLAWeights) -> Tensor:
    """W^UQ_i^T W^UK_i per head, (H, q_in, d_c): the content score is c^Q^T (this) c^KV."""
    return torch.einsum("hnq,hnc->hqc", w.w_uq, w.w_uk)


def mla_softmax_scale(d_nope: int, d_rope: int, *, factor: float | None = None, mscale_all_dim: float | None = None) -> float:
    """1/sqrt(d_h + d_h^R) (eq. 18), times mscale^2 with mscale = 0.1·mscale_all_dim·ln s + 1 under YaRN.

    The mscale^2 factor is DeepSeek's official code (`softmax_scale * mscale * mscale`) and
    transformers' `yarn_apply_mscale`: the temperature reaches every logit, not only the rotary part.
    """
    scale = (d_nope + d_rope) ** -0.5
    if factor is not None and mscale_all_dim:
        scale *= yarn_mscale(factor, mscale_all_dim) ** 2
    return scale


def mla_attention(
    h: Tensor,
    w: MLAWeights,
    positions: Tensor | None = None,
    *,
    cache: tuple[Tensor, Tensor] | None = None,
    base: float = 10000.0,
    frequencies: Tensor | None = None,
    layout: Layout = "interleaved",
    attention_factor: float = 1.0,
    softmax_scale: float | None = None,
    absorb: bool = False,
    causal: bool = True,
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One MLA layer: u (B, T, d) for new tokens h (B, T, d), and the updated cache (c^KV, k^R).

    positions: (T,) integer positions of the new tokens (default: past length + arange(T)).
    cache: (c^KV (B, T_past, d_c), k^R (B, T_past, d_h^R)) from earlier calls; the new tokens attend
    to the cached ones and to each other (causally). absorb=False recovers k^C and v^C from the latent
    (eqs. 10-11, 17-18); absorb=True scores on the latent with W^UQ_i^T W^UK_i and applies W^UV_i after
    the weighted sum (Appendix C). Same numbers; tests/claims/test_rope_mla.py.
    """
    t_past = 0 if cache is None else cache[0].shape[1]
    if positions is None:
        positions = torch.arange(t_past, t_past + h.shape[1], device=h.device)
    cos, sin = rope_cos_sin(positions, w.d_rope, base=base, frequencies=frequencies, layout=layout,
                            attention_factor=attention_factor)
    c_new, k_r_new = compress_kv(h, w, cos, sin, layout=layout)
    if cache is not None:
        c_kv, k_r = torch.cat((cache[0], c_new), dim=1), torch.cat((cache[1], k_r_new), dim=1)
    else:
        c_kv, k_r = c_new, k_r_new
    q_c, q_r = queries(h, w, cos, sin, layout=layout)
    scale = softmax_scale if softmax_scale is not None else mla_softmax_scale(w.d_nope, w.d_rope)

    if absorb:
        q_lat = torch.einsum("bhtn,hnc->bhtc", q_c, w.w_uk)  # q^C_i absorbed through W^UK_i: (B, H, T, d_c)
        logits = q_lat @ c_kv.unsqueeze(1).transpose(-1, -2) + q_r @ k_r.unsqueeze(1).transpose(-1, -2)
    else:
        keys, _ = expand_keys_values(c_kv, k_r, w)
        logits = torch.cat((q_c, q_r), dim=-1) @ keys.transpose(-1, -2)
    logits = logits * scale
    if causal:
        logits = logits.masked_fill(~causal_mask(h.shape[1], c_kv.shape[1], device=h.device), float("-inf"))
    weights = logits.softmax(dim=-1)  # (B, H, T, T_all)

    if absorb:
        o_lat = weights @ c_kv.unsqueeze(1)  # (B, H, T, d_c): the weighted latent
        o = torch.einsum("bhtc,hvc->bhtv", o_lat, w.w_uv)
    else:
        _, values = expand_keys_values(c_kv, k_r, w)
        o = weights @ values
    b, _, t, _ = o.shape
    return o.transpose(1, 2).reshape(b, t, -1) @ w.w_o.T, (c_kv, k_r)


AttentionKind = Literal["mha", "gqa", "mqa", "mla"]


def kv_cache_elements(
    kind: AttentionKind,
    *,
    n_layers: int = 1,
    n_heads: int | None = None,
    head_dim: int | None = None,
    n_groups: int | None = None,
    d_c: int | None = None,
    d_rope: int | None = None,
) -> int:
    """Numbers cached per token (DeepSeek-V2 Table 1, counted in elements, not bytes):
    MHA 2·n_h·d_h·l, GQA 2·n_g·d_h·l, MQA 2·d_h·l, MLA (d_c + d_h^R)·l."""
    def need(**kw: int | None) -> None:
        missing = [k for k, v in kw.items() if v is None]
        if missing:
            raise ValueError(f"{kind} needs {', '.join(missing)}")

    if kind == "mha":
        need(n_heads=n_heads, head_dim=head_dim)
        return 2 * n_heads * head_dim * n_layers
    if kind == "gqa":
        need(n_groups=n_groups, head_dim=head_dim)
        return 2 * n_groups * head_dim * n_layers
    if kind == "mqa":
        need(head_dim=head_dim)
        return 2 * head_dim * n_layers
    if kind == "mla":
        need(d_c=d_c, d_rope=d_rope)
        return (d_c + d_rope) * n_layers
    raise ValueError(f"kind must be one of mha, gqa, mqa, mla, got {kind!r}")
