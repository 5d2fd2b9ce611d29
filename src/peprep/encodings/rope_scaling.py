"""RoPE frequency variants for context extension: one registry, one signature, invalid parameters raise.

Every variant changes only the inverse frequencies θ_i (and, for YaRN and LongRoPE, multiplies cos/sin
by an attention factor); the rotation itself is `peprep.encodings.rope.apply_rotary`. Pair index
i = 0 … R/2 − 1 (R = rotary dimension), θ_i = base^(−2i/R), wavelength λ_i = 2π/θ_i, L = original
(pre-training) context length, s = scale factor L'/L.

    default   θ_i                                                      RoFormer (Su et al. 2021)
    linear    θ_i / s        ≡ positions m → m/s                        PI, Chen et al. 2023 (arXiv 2306.15595)
    ntk       base' = base · s^(R/(R−2))                                bloc97 2023 (Reddit), YaRN §3.1 eq. 16
    dynamic   ntk with s = f·ℓ/L − (f − 1) at current length ℓ > L      emozilla 2023; transformers "dynamic"
    yarn      θ_i · ((1 − γ_i)/s + γ_i), cos/sin × (0.1 ln s + 1)       Peng et al. 2023 (arXiv 2309.00071) §3.2-3.4
    longrope  θ_i / λ_i (searched per-pair factors), × √(1 + ln s/ln L)  Ding et al. 2024 (arXiv 2402.13753)
    llama3    λ_i < L/β_h: θ_i;  λ_i > L/β_l: θ_i/s;  smooth in between  meta-llama/llama-models apply_scaling

YaRN's ramp γ: the paper (eq. 18) is linear in r = L/λ between α and β; the official code
(jquesnelle/yarn `find_correction_range`, copied by transformers) is linear in the pair index between
the (floored/ceiled) indices where r = β and r = α. Because r_i = L/(2π)·base^(−2i/R) is exponential in
i, the official ramp is γ = (ln r − ln α)/(ln β − ln α): linear in ln r, with the same end points and
the ramp widened outward by the rounding. `ramp="dimension"` (default, what checkpoints use) and
`ramp="ratio"` (the paper) are both here.

The second half holds the inference-time position tricks that change which relative position a
query-key pair sees instead of the frequencies: ReRoPE / Leaky ReRoPE (Su 2023, bojone/rerope),
Self-Extend (Jin et al. 2024, arXiv 2401.01325) and StreamingLLM's positions within a rolling cache
(Xiao et al. 2023, arXiv 2309.17453).

Frequencies are float64 (transformers computes them in float32; the peers test states the tolerance).

Claims (each proved by a test):
- PI = dividing positions by s:                 tests/claims/test_extrapolation_scaling.py::test_pi_equals_dividing_positions
- NTK keeps θ_0, divides θ_{R/2−1} by exactly s: tests/claims/test_extrapolation_scaling.py::test_ntk_keeps_highest_and_divides_lowest_by_scale
- NTK base for s = 4, R = 128:                  tests/claims/test_extrapolation_scaling.py::test_ntk_base_for_scale_4_and_d_128
- dynamic NTK = default up to L:                tests/claims/test_extrapolation_scaling.py::test_dynamic_ntk_is_default_up_to_original_length
- YaRN between θ/s and θ, ramp end points:      tests/claims/test_extrapolation_scaling.py::test_yarn_frequencies_lie_between_pi_and_default,
                                                ::test_yarn_ratio_ramp_end_points_match_alpha_and_beta,
                                                ::test_yarn_dimension_ramp_is_linear_in_log_ratio
- YaRN attention factor 0.1 ln s + 1:           tests/claims/test_extrapolation_scaling.py::test_yarn_attention_factor
- Llama 3.1 bands, = by-parts with α=1, β=4:    tests/claims/test_extrapolation_scaling.py::test_llama3_three_bands,
                                                ::test_llama3_scaling_is_by_parts_with_alpha_1_beta_4
- LongRoPE factors and attention scale:         tests/claims/test_extrapolation_scaling.py::test_longrope_factors_and_attention_factor
- ReRoPE / Self-Extend / StreamingLLM positions: tests/claims/test_extrapolation_tricks.py
Peers: tests/peers/test_rope_scaling_peers.py (transformers ROPE_INIT_FUNCTIONS, rotary-embedding-torch, x-transformers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Literal, Union

import torch
from torch import Tensor

from peprep.encodings.rope import inv_freq as default_inv_freq

F64 = torch.float64


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _base(base: float) -> None:
    if not (isinstance(base, (int, float)) and math.isfinite(base) and base > 1):
        raise ValueError(f"base must be > 1 (θ_i = base^(-2i/R) must fall with i), got {base!r}")


def _factor(factor: float) -> None:
    if not (isinstance(factor, (int, float)) and math.isfinite(factor) and factor >= 1):
        raise ValueError(f"factor (scale s = L'/L) must be >= 1, got {factor!r}; s < 1 would shrink the context")


def _length(name: str, value: int) -> None:
    if not (isinstance(value, int) and value >= 1):
        raise ValueError(f"{name} must be a positive integer (a number of tokens), got {value!r}")


def _check_dim(rotary_dim: int) -> None:
    if not (isinstance(rotary_dim, int) and rotary_dim >= 4 and rotary_dim % 2 == 0):
        raise ValueError(f"rotary_dim must be an even integer >= 4 (NTK's exponent R/(R-2) needs R > 2), got {rotary_dim!r}")


# --- parameter dataclasses (frozen; invalid values raise at construction) -------------------------


@dataclass(frozen=True)
class DefaultRope:
    """Plain RoPE: θ_i = base^(−2i/R)."""

    base: float = 10000.0

    def __post_init__(self):
        _base(self.base)


@dataclass(frozen=True)
class LinearScaling:
    """Position Interpolation (PI): θ_i/s, i.e. position m is fed as m/s (Chen et al. 2023, eq. 4)."""

    factor: float
    base: float = 10000.0

    def __post_init__(self):
        _factor(self.factor)
        _base(self.base)


@dataclass(frozen=True)
class NTKAwareScaling:
    """NTK-aware scaling: base' = base · s^(R/(R−2)); the lowest frequency becomes exactly θ/s."""

    factor: float
    base: float = 10000.0

    def __post_init__(self):
        _factor(self.factor)
        _base(self.base)


@dataclass(frozen=True)
class DynamicNTKScaling:
    """Dynamic NTK (transformers "dynamic"): NTK-aware with s recomputed from the current length ℓ.

    base' = base · (f·ℓ/L − (f − 1))^(R/(R−2)) for ℓ > L, unchanged for ℓ <= L. L is what transformers
    reads from `config.max_position_embeddings` (the trained length).
    """

    factor: float
    original_max_position_embeddings: int
    base: float = 10000.0

    def __post_init__(self):
        _factor(self.factor)
        _length("original_max_position_embeddings", self.original_max_position_embeddings)
        _base(self.base)


@dataclass(frozen=True)
class YarnScaling:
    """YaRN = NTK-by-parts frequencies + attention temperature (Peng et al. 2023, Definition 3).

    beta_fast = β (pairs with r = L/λ > β keep θ), beta_slow = α (pairs with r < α get θ/s); the paper's
    values for LLaMA are α = 1, β = 32. attention_factor (the √(1/t) that multiplies cos and sin) defaults
    to 0.1 ln s + 1 (eq. 22), or mscale-ratio form of DeepSeek configs when both mscale values are given.
    """

    factor: float
    original_max_position_embeddings: int
    base: float = 10000.0
    beta_fast: float = 32.0
    beta_slow: float = 1.0
    attention_factor: float | None = None
    mscale: float | None = None
    mscale_all_dim: float | None = None
    ramp: Literal["dimension", "ratio"] = "dimension"
    truncate: bool = True

    def __post_init__(self):
        _factor(self.factor)
        _length("original_max_position_embeddings", self.original_max_position_embeddings)
        _base(self.base)
        _positive("beta_fast", self.beta_fast)
        _positive("beta_slow", self.beta_slow)
        if self.beta_fast <= self.beta_slow:
            raise ValueError(f"beta_fast (β = {self.beta_fast}) must exceed beta_slow (α = {self.beta_slow})")
        if self.attention_factor is not None:
            _positive("attention_factor", self.attention_factor)
        for name in ("mscale", "mscale_all_dim"):
            if getattr(self, name) is not None:
                _positive(name, getattr(self, name))
        if self.ramp not in ("dimension", "ratio"):
            raise ValueError(f"ramp must be 'dimension' (official code) or 'ratio' (paper eq. 18), got {self.ramp!r}")


@dataclass(frozen=True)
class LongRopeScaling:
    """LongRoPE with given per-pair factors (the searched λ_i): θ_i/λ_i, long factors past L.

    factor defaults to max_position_embeddings / original_max_position_embeddings, as transformers does
    for Phi-3; attention_factor defaults to √(1 + ln s / ln L) (1 when s <= 1).
    """

    short_factor: tuple[float, ...]
    long_factor: tuple[float, ...]
    original_max_position_embeddings: int
    max_position_embeddings: int | None = None
    factor: float | None = None
    base: float = 10000.0
    attention_factor: float | None = None

    def __post_init__(self):
        object.__setattr__(self, "short_factor", tuple(float(x) for x in self.short_factor))
        object.__setattr__(self, "long_factor", tuple(float(x) for x in self.long_factor))
        if len(self.short_factor) != len(self.long_factor) or not self.short_factor:
            raise ValueError("short_factor and long_factor must be non-empty and of equal length (one per pair)")
        for value in self.short_factor + self.long_factor:
            _positive("every LongRoPE rescale factor", value)
        _length("original_max_position_embeddings", self.original_max_position_embeddings)
        if self.max_position_embeddings is not None:
            _length("max_position_embeddings", self.max_position_embeddings)
        if self.factor is None and self.max_position_embeddings is None:
            raise ValueError("give factor or max_position_embeddings (factor = max / original)")
        if self.factor is not None:
            _positive("factor", self.factor)
        _base(self.base)
        if self.attention_factor is not None:
            _positive("attention_factor", self.attention_factor)

    @property
    def scale(self) -> float:
        if self.factor is not None:
            return float(self.factor)
        return self.max_position_embeddings / self.original_max_position_embeddings


@dataclass(frozen=True)
class Llama3Scaling:
    """Llama 3.1 frequency-dependent scaling (meta-llama/llama-models `apply_scaling`; transformers "llama3").

    Meta's values, "obtained from grid search": factor 8, low_freq_factor 1, high_freq_factor 4,
    original context 8192, base 500000.
    """

    factor: float = 8.0
    low_freq_factor: float = 1.0
    high_freq_factor: float = 4.0
    original_max_position_embeddings: int = 8192
    base: float = 500000.0

    def __post_init__(self):
        _factor(self.factor)
        _positive("low_freq_factor", self.low_freq_factor)
        _positive("high_freq_factor", self.high_freq_factor)
        if self.high_freq_factor <= self.low_freq_factor:
            raise ValueError(f"high_freq_factor ({self.high_freq_factor}) must exceed low_freq_factor ({self.low_freq_factor})")
        _length("original_max_position_embeddings", self.original_max_position_embeddings)
        _base(self.base)


RopeParams = Union[DefaultRope, LinearScaling, NTKAwareScaling, DynamicNTKScaling, YarnScaling, LongRopeScaling, Llama3Scaling]


# --- pure functions: (params, rotary_dim, seq_len) -> (inv_freq (R/2,) float64, attention_scaling) -------


def default_frequencies(p: DefaultRope, rotary_dim: int, seq_len: int | None = None) -> tuple[Tensor, float]:
    return default_inv_freq(rotary_dim, p.base), 1.0


def linear_frequencies(p: LinearScaling, rotary_dim: int, seq_len: int | None = None) -> tuple[Tensor, float]:
    """θ_i/s: angle (m/s)·θ_i = m·(θ_i/s), so scaling frequencies and positions are the same map."""
    return default_inv_freq(rotary_dim, p.base) / p.factor, 1.0


def ntk_base(base: float, factor: float, rotary_dim: int) -> float:
    """base · s^(R/(R−2)): the base whose lowest frequency base'^(−(R−2)/R) equals base^(−(R−2)/R)/s."""
    return base * factor ** (rotary_dim / (rotary_dim - 2))


def ntk_frequencies(p: NTKAwareScaling, rotary_dim: int, seq_len: int | None = None) -> tuple[Tensor, float]:
    _check_dim(rotary_dim)
    return default_inv_freq(rotary_dim, ntk_base(p.base, p.factor, rotary_dim)), 1.0


def dynamic_ntk_scale(p: DynamicNTKScaling, seq_len: int | None) -> float:
    """The effective NTK scale f·ℓ/L − (f − 1) at length ℓ = max(seq_len, L): exactly 1 for ℓ <= L."""
    length = max(seq_len or p.original_max_position_embeddings, p.original_max_position_embeddings)
    return p.factor * length / p.original_max_position_embeddings - (p.factor - 1)


def dynamic_ntk_frequencies(p: DynamicNTKScaling, rotary_dim: int, seq_len: int | None = None) -> tuple[Tensor, float]:
    _check_dim(rotary_dim)
    return default_inv_freq(rotary_dim, ntk_base(p.base, dynamic_ntk_scale(p, seq_len), rotary_dim)), 1.0


def yarn_mscale(scale: float, mscale: float = 1.0) -> float:
    """0.1 · mscale · ln s + 1 (YaRN eq. 22 with mscale = 1), and 1 for s <= 1."""
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def yarn_correction_dim(num_rotations: float, rotary_dim: int, base: float, original_length: int) -> float:
    """The (real) pair index i where r_i = L/λ_i equals `num_rotations`: i = R·ln(L/(2π r)) / (2 ln base)."""
    return rotary_dim * math.log(original_length / (num_rotations * 2 * math.pi)) / (2 * math.log(base))


def yarn_ramp(p: YarnScaling, rotary_dim: int) -> Tensor:
    """γ_i in [0, 1] per pair: 1 keeps θ_i (extrapolate), 0 uses θ_i/s (interpolate)."""
    _check_dim(rotary_dim)
    i = torch.arange(rotary_dim // 2, dtype=F64)
    if p.ramp == "ratio":  # paper eq. (17)-(18) with the original base (the code's choice; eq. 17 prints b')
        r = p.original_max_position_embeddings / (2 * math.pi * p.base ** (2 * i / rotary_dim))
        return ((r - p.beta_slow) / (p.beta_fast - p.beta_slow)).clamp(0, 1)
    low = yarn_correction_dim(p.beta_fast, rotary_dim, p.base, p.original_max_position_embeddings)
    high = yarn_correction_dim(p.beta_slow, rotary_dim, p.base, p.original_max_position_embeddings)
    if p.truncate:
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, rotary_dim - 1)  # the official clamp (R − 1, not R/2 − 1)
    if low == high:
        high += 0.001  # the official guard against a zero-width ramp
    return 1 - ((i - low) / (high - low)).clamp(0, 1)


def yarn_attention_factor(p: YarnScaling) -> float:
    if p.attention_factor is not None:
        return float(p.attention_factor)
    if p.mscale and p.mscale_all_dim:
        return yarn_mscale(p.factor, p.mscale) / yarn_mscale(p.factor, p.mscale_all_dim)
    return yarn_mscale(p.factor)


def yarn_frequencies(p: YarnScaling, rotary_dim: int, seq_len: int | None = None) -> tuple[Tensor, float]:
    """θ'_i = (1 − γ_i)·θ_i/s + γ_i·θ_i (eq. 20); cos and sin are multiplied by the attention factor."""
    theta = default_inv_freq(rotary_dim, p.base)
    gamma = yarn_ramp(p, rotary_dim)
    return (1 - gamma) * theta / p.factor + gamma * theta, yarn_attention_factor(p)


def longrope_frequencies(p: LongRopeScaling, rotary_dim: int, seq_len: int | None = None) -> tuple[Tensor, float]:
    """θ_i/λ_i with λ = long factors when seq_len > L, else short factors (transformers' rule)."""
    if len(p.short_factor) != rotary_dim // 2:
        raise ValueError(f"LongRoPE needs one factor per pair: {rotary_dim // 2}, got {len(p.short_factor)}")
    use_long = seq_len is not None and seq_len > p.original_max_position_embeddings
    factors = torch.tensor(p.long_factor if use_long else p.short_factor, dtype=F64)
    if p.attention_factor is not None:
        attention = float(p.attention_factor)
    elif p.scale <= 1:
        attention = 1.0
    else:
        attention = math.sqrt(1 + math.log(p.scale) / math.log(p.original_max_position_embeddings))
    return default_inv_freq(rotary_dim, p.base) / factors, attention


def llama3_frequencies(p: Llama3Scaling, rotary_dim: int, seq_len: int | None = None) -> tuple[Tensor, float]:
    """High-frequency band (λ < L/high) unchanged, low band (λ > L/low) divided by s, linear blend between."""
    theta = default_inv_freq(rotary_dim, p.base)
    wavelength = 2 * math.pi / theta
    length = p.original_max_position_embeddings
    smooth = (length / wavelength - p.low_freq_factor) / (p.high_freq_factor - p.low_freq_factor)
    blended = (1 - smooth) * theta / p.factor + smooth * theta
    out = torch.where(wavelength > length / p.low_freq_factor, theta / p.factor, theta)
    medium = (wavelength >= length / p.high_freq_factor) & (wavelength <= length / p.low_freq_factor)
    return torch.where(medium, blended, out), 1.0


Frequencies = Callable[..., tuple[Tensor, float]]

# rope_type -> (parameter class, pure function). The names follow transformers' `rope_type` where it has one.
ROPE_SCALING: dict[str, tuple[type, Frequencies]] = {
    "default": (DefaultRope, default_frequencies),
    "linear": (LinearScaling, linear_frequencies),
    "ntk": (NTKAwareScaling, ntk_frequencies),
    "dynamic": (DynamicNTKScaling, dynamic_ntk_frequencies),
    "yarn": (YarnScaling, yarn_frequencies),
    "longrope": (LongRopeScaling, longrope_frequencies),
    "llama3": (Llama3Scaling, llama3_frequencies),
}


def rope_frequencies(params: RopeParams, rotary_dim: int, seq_len: int | None = None) -> tuple[Tensor, float]:
    """(inv_freq (R/2,) float64, attention_scaling) for any parameter object in `ROPE_SCALING`."""
    for _, (cls, fn) in ROPE_SCALING.items():
        if type(params) is cls:
            return fn(params, rotary_dim, seq_len)
    raise TypeError(f"unknown RoPE scaling parameters {type(params).__name__}; known: {sorted(ROPE_SCALING)}")


def make_rope_scaling(rope_type: str, **kwargs) -> RopeParams:
    """`make_rope_scaling("yarn", factor=4, original_max_position_embeddings=4096)`: build and validate."""
    if rope_type not in ROPE_SCALING:
        raise ValueError(f"unknown rope_type {rope_type!r}; known: {sorted(ROPE_SCALING)}")
    return ROPE_SCALING[rope_type][0](**kwargs)


# --- inference-time position tricks: which relative position each (query, key) pair sees -----------


def relative_positions(t_q: int, t_k: int | None = None) -> Tensor:
    """(T_q, T_k) matrix i − j (queries are the last T_q of T_k positions), int64."""
    t_k = t_q if t_k is None else t_k
    i = torch.arange(t_k - t_q, t_k)[:, None]
    return i - torch.arange(t_k)[None, :]


def rerope_positions(t: int, window: int, leaky_factor: float | None = None) -> Tensor:
    """ReRoPE: min(i − j, w); Leaky ReRoPE: i − j inside the window, w + (i − j − w)/k beyond (float64).

    Causal entries (i >= j) only matter; above the diagonal the value is unused. The largest relative
    position ReRoPE ever shows the model is w, whatever the length (Su 2023, bojone/rerope).
    """
    _length("window", window)
    rel = relative_positions(t).to(F64)
    if leaky_factor is None:
        return rel.clamp(max=window)
    _positive("leaky_factor", leaky_factor)
    return torch.where(rel < window, rel, window + (rel - window) / leaky_factor)


def self_extend_positions(t: int, group_size: int, neighbor_window: int) -> Tensor:
    """Self-Extend: exact i − j for i − j < w_n, else ⌊i/G⌋ − ⌊j/G⌋ + w_n − ⌊w_n/G⌋ (official code).

    The shift w_n − w_n/G makes the grouped positions continue where the neighbour window ends. All
    positions stay below the trained length L as long as T <= (L − w_n)·G + w_n (datamllab/LongLM README).
    """
    _length("group_size", group_size)
    _length("neighbor_window", neighbor_window)
    pos = torch.arange(t)
    rel = pos[:, None] - pos[None, :]
    grouped = pos[:, None] // group_size - pos[None, :] // group_size + neighbor_window - neighbor_window // group_size
    return torch.where(rel < neighbor_window, rel, grouped)


def self_extend_max_length(trained_length: int, group_size: int, neighbor_window: int) -> int:
    """(L − w_n)·G + w_n: the longest input whose Self-Extend positions stay inside [0, L)."""
    return (trained_length - neighbor_window) * group_size + neighbor_window


def streaming_cache_positions(cache_len: int) -> Tensor:
    """StreamingLLM assigns positions by slot in the cache, 0 … len − 1, not by place in the original text.

    A cache holding tokens [0, 1, 2, 3, 6, 7, 8] while decoding token 9 uses positions 0 … 7 (§3.2); with
    RoPE this needs keys cached before rotation, rotated again at each step.
    """
    return torch.arange(cache_len)


def streaming_cache_tokens(n_tokens: int, n_sink: int = 4, window: int = 1020) -> list[int]:
    """Which token indices a StreamingLLM cache holds after n_tokens: the n_sink first + the last `window`."""
    if n_tokens <= n_sink + window:
        return list(range(n_tokens))
    return list(range(n_sink)) + list(range(n_tokens - window, n_tokens))


def rope_scores_from_relative(q: Tensor, k: Tensor, rel: Tensor, inv_freq: Tensor) -> Tensor:
    """RoPE logits q_i·R(rel_ij·θ)·k_j (no 1/√D) for an arbitrary relative-position matrix, float64.

    q: (T_q, R), k: (T_k, R), interleaved pairs; rel: (T_q, T_k). With rel = i − j this equals rotating q
    at i and k at j (the RoPE identity); ReRoPE and Self-Extend only change `rel`.
    """
    qc = torch.view_as_complex(q.to(F64).reshape(q.shape[0], -1, 2).contiguous())  # (T_q, R/2)
    kc = torch.view_as_complex(k.to(F64).reshape(k.shape[0], -1, 2).contiguous())  # (T_k, R/2)
    h = qc[:, None, :] * kc[None, :, :].conj()  # (T_q, T_k, R/2)
    phase = rel.to(F64)[..., None] * inv_freq.to(F64)  # (T_q, T_k, R/2)
    return (h * torch.polar(torch.ones_like(phase), phase)).sum(-1).real
