"""The drills, as data: what to write, which names the file must define, what the check verifies.

No torch here: the web app and `peprep drill list` read this module without importing the checks.
Each drill's property ids are implemented by `peprep.drills.checks.<checker>` (one function per id,
run in this order) and its reference solution is `peprep/drills/solutions/<solution>.py`
(tests/drills/test_catalog.py keeps the three in step).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    id: str
    title: str  # the property, as the report names it


@dataclass(frozen=True)
class Drill:
    name: str
    title: str
    summary: str
    statement: str  # Markdown (Chinese): the task, the signature's contract, the edge cases that will be tried
    entry: tuple[str, ...]  # names the candidate's file must define
    checks: tuple[Check, ...]
    kp: tuple[str, ...]  # knowledge points the drill practises
    difficulty: int  # 1 every candidate · 2 good lab · 3 research depth (as for questions)
    checker: str  # module under peprep.drills.checks
    solution: str  # file stem under peprep/drills/solutions


def _checks(*pairs: tuple[str, str]) -> tuple[Check, ...]:
    return tuple(Check(i, t) for i, t in pairs)


_ROPE_CHECKS = _checks(
    ("shape-dtype", "输出形状与 dtype 同输入"),
    ("values", "各种形状（含 D = 2、T = 1）下与参考实现一致"),
    ("batched-positions", "批内每条序列位置不同（左填充、KV 缓存偏移）"),
    ("large-positions", "超过任何缓存长度的大位置（到 10 万）"),
    ("bf16", "bfloat16 输入、位置约 8000：角度必须在 float32 中计算"),
    ("float64", "float64 输入返回 float64"),
)

_ROPE_STATEMENT = """实现 `apply_rope(x, positions, base=10000.0)`：把 RoPE 作用到 `x` 上。

- `x`：`(B, H, T, D)`，`D` 为偶数；`positions`：`(T,)` 或 `(B, T)` 的整数张量（每条序列的位置可以不同）。
- 频率 $\\theta_i=\\text{{base}}^{{-2i/D}}$，$i=0,\\dots,D/2-1$；位置 $m$ 的一对通道旋转角度 $m\\theta_i$。
- **配对方式：{pairing}**
- 返回与 `x` 同形状、同 dtype 的张量；角度 $m\\theta_i$ 必须在 float32（或更高精度）中计算，即使 `x` 是 bfloat16。

检查会试：`D = 2` 与 `T = 1` 这样的小形状、批内不同位置、到 10 万的大位置、bfloat16 与 float64 输入。"""

DRILLS: tuple[Drill, ...] = (
    Drill(
        name="sinusoidal",
        title="正弦位置编码",
        summary="写出 Transformer 原文的正弦位置编码（交错排列），位置可以带偏移、可以很大。",
        statement="""实现 `sinusoidal_pe(positions, d, base=10000.0)`：

$$\\mathrm{PE}(p,2i)=\\sin(p\\,\\omega_i),\\quad \\mathrm{PE}(p,2i+1)=\\cos(p\\,\\omega_i),\\quad \\omega_i=\\text{base}^{-2i/d}$$

- `positions`：任意形状 `(...)` 的整数或浮点张量（可以有偏移，例如 KV 缓存里的 `past_len + arange(T)`）。
- 返回 float32、形状 `(..., d)`，通道**交错**排列：`[sin ω_0 p, cos ω_0 p, sin ω_1 p, cos ω_1 p, …]`。
- `d` 不是正偶数时抛出 `ValueError`。

检查会试：`d = 2`、`T = 1`、标量位置、二维位置、小数位置、到 10 万的大位置（用预先算好的固定长度表会失败）。""",
        entry=("sinusoidal_pe",),
        checks=_checks(
            ("shape-dtype", "输出形状 (..., d)、dtype float32"),
            ("values", "从 0 开始的位置与参考实现一致"),
            ("any-shape", "标量、二维、带偏移和小数位置"),
            ("large-positions", "超过任何缓存长度的大位置（到 10 万）"),
            ("rejects-odd-d", "d 为奇数时抛出 ValueError"),
        ),
        kp=("absolute.sinusoidal-formula", "absolute.layouts", "engineering.sin-cos-cache"),
        difficulty=1, checker="sinusoidal", solution="sinusoidal",
    ),
    Drill(
        name="learned-pe",
        title="可学习位置嵌入模块",
        summary="写一个 nn.Module：可训练的位置表、KV 缓存偏移、越界报错、不改变输入 dtype。",
        statement="""实现 `class LearnedPositionalEmbedding(nn.Module)`：

- `__init__(self, max_len, d_model)`：一张 `(max_len, d_model)` 的**可训练**表（`nn.Parameter`，会出现在 `state_dict` 里）。
- `forward(self, x, offset=0)`：`x` 形状 `(B, T, d_model)`，返回 `x + P[offset : offset + T]`；
  `offset` 是 KV 缓存中已有的词元数。返回值的 dtype 与 `x` 相同（bfloat16 输入不能变成 float32）。
- 位置超出 `[0, max_len)` 时抛出 `IndexError`（或 `ValueError`），不能静默截断、回绕或在加法处报形状错。

检查会试：参数是否可训练、带偏移的单步解码、恰好用满 `max_len`、越界、bfloat16 输入、梯度只落在用到的行上。""",
        entry=("LearnedPositionalEmbedding",),
        checks=_checks(
            ("parameter", "位置表是唯一的可训练参数，形状 (max_len, d_model)"),
            ("forward", "offset = 0 时输出 x + P[0:T]"),
            ("offset", "KV 缓存偏移：输出 x + P[offset : offset+T]"),
            ("full-length", "恰好用满 max_len 个位置不报错"),
            ("out-of-range", "越界时抛出 IndexError 或 ValueError"),
            ("dtype", "bfloat16 输入返回 bfloat16"),
            ("gradient", "梯度只落在用到的那些行"),
        ),
        kp=("absolute.learned-definition", "engineering.buffer-vs-parameter", "absolute.kv-cache"),
        difficulty=1, checker="learned", solution="learned_pe",
    ),
    Drill(
        name="rope-interleaved",
        title="RoPE（交错布局）",
        summary="手写 RoPE：相邻通道 (2i, 2i+1) 成对旋转（RoFormer、Meta LLaMA、GPT-J）。",
        statement=_ROPE_STATEMENT.format(pairing="交错布局，相邻通道 $(2i, 2i+1)$ 成一对（RoFormer、Meta LLaMA、GPT-J）"),
        entry=("apply_rope",),
        checks=_ROPE_CHECKS,
        kp=("rope.layout-interleaved", "rope.apply-from-scratch", "rope.angle-precision"),
        difficulty=1, checker="rope_interleaved", solution="rope_interleaved",
    ),
    Drill(
        name="rope-half",
        title="RoPE（前后半布局）",
        summary="手写 RoPE：通道 (i, i + D/2) 成对，rotate_half（GPT-NeoX、Hugging Face）。",
        statement=_ROPE_STATEMENT.format(pairing="前后半布局，通道 $(i, i+D/2)$ 成一对，即 `x·cos + rotate_half(x)·sin`（GPT-NeoX、Hugging Face）"),
        entry=("apply_rope",),
        checks=_ROPE_CHECKS,
        kp=("rope.layout-half", "rope.apply-from-scratch", "rope.angle-precision"),
        difficulty=1, checker="rope_half", solution="rope_half",
    ),
    Drill(
        name="rope-kv-cache",
        title="RoPE + KV 缓存的一步注意力",
        summary="预填充、分块预填充和逐词元解码共用一个函数：位置偏移、缓存旋转后的键、右下角对齐的因果掩码。",
        statement="""实现 `rope_attention_step(q, k, v, k_cache, v_cache, base=10000.0)`，返回 `(out, k_cache, v_cache)`：

- `q, k, v`：`(B, H, T, D)`，本次新来的 `T` 个词元，位置是 `P, P+1, …, P+T−1`，其中 `P = k_cache.shape[2]`（可以为 0）。
- `k_cache`：`(B, H, P, D)`，之前词元的键，**已经旋转过**；`v_cache`：之前词元的值（值从不旋转）。
- RoPE 用前后半布局（通道 $(i, i+D/2)$ 成对），$\\theta_i=\\text{base}^{-2i/D}$，角度用 float32。
- 因果掩码**对齐到右下角**：新词元 `t` 能看到全部缓存，以及新词元中不晚于它的那些。缩放 $1/\\sqrt{D}$。
- 返回 `out`：`(B, H, T, D)`；更新后的缓存：`(B, H, P+T, D)`（旋转后的键、原样的值）。

检查会把它和“整段一次前向”逐行比较：预填充（`P = 0`）、单步解码、分块预填充（`T > 1` 且 `P > 0`）、
连续多步解码（把返回的缓存喂回去）、以及 `P = 5000` 的长缓存（预先算好的固定长度 cos/sin 表会失败）。""",
        entry=("rope_attention_step",),
        checks=_checks(
            ("prefill", "预填充（P = 0）与整段因果前向一致"),
            ("cache-contents", "缓存里是旋转后的键和原样的值"),
            ("decode", "单步解码（T = 1）等于整段前向的最后一行"),
            ("chunked-prefill", "分块预填充（P > 0，T > 1）：因果掩码对齐右下角"),
            ("step-by-step", "连续多步解码，把返回的缓存喂回去"),
            ("long-cache", "P = 5000 的长缓存"),
        ),
        kp=("engineering.kv-cache-rope", "engineering.sdpa-causal-alignment", "rope.kv-cache"),
        difficulty=2, checker="kv_cache", solution="rope_kv_cache",
    ),
    Drill(
        name="rope-cache-module",
        title="cos/sin 缓存模块",
        summary="写一个 RoPE 的 cos/sin 缓存 nn.Module：不进 state_dict、按需变长、model.to(bf16) 之后仍精确。",
        statement="""实现 `class RotaryCache(nn.Module)`（前后半布局：`emb = cat(freqs, freqs)`）：

- `__init__(self, head_dim, base=10000.0, max_position=2048)`：可以预先算好 `max_position` 个位置。
- `forward(self, positions)`：`positions` 为任意形状 `(...)` 的非负整数张量；返回 `(cos, sin)`，
  各为 **float32**、形状 `(..., head_dim)`，`cos[..., j] = cos(p·θ_{j mod D/2})`，$\\theta_i=\\text{base}^{-2i/D}$。
- 位置超过已缓存的长度时自动重建（不能报错、不能回绕）。
- 缓存不是模型权重：`state_dict()` 里不能有它。
- 把模块 `.to(torch.bfloat16)` 之后，位置 8000 处的返回值仍须精确（误差 < 1e-3）：频率与角度不能被降成 bf16。

检查会试：小位置、二维位置、超过 `max_position` 三倍的位置、`state_dict`、`.to(torch.bfloat16)` 之后的精度。""",
        entry=("RotaryCache",),
        checks=_checks(
            ("values", "cos、sin 与参考一致（float32，前后半布局）"),
            ("batched", "二维位置 (B, T)"),
            ("beyond-cache", "超过 max_position 的位置自动重建"),
            ("state-dict", "state_dict 里没有缓存"),
            ("after-bf16-cast", "module.to(torch.bfloat16) 之后位置 8000 仍精确"),
        ),
        kp=("engineering.buffer-vs-parameter", "engineering.buffer-dtype-cast", "engineering.sin-cos-cache"),
        difficulty=2, checker="cache_module", solution="rope_cache_module",
    ),
    Drill(
        name="rope-permute",
        title="RoPE 布局转换：置换 W_q、W_k",
        summary="把交错布局训练的 q/k 投影权重转成前后半布局（convert_llama_weights_to_hf 的 permute），含 GQA 与偏置。",
        statement="""实现 `permute_for_half(w, n_heads)`：让用交错布局 RoPE 训练的权重，配前后半布局的 RoPE 给出**完全相同**的注意力分数。

- `w`：`(n_heads·D, C)` 的 `nn.Linear` 权重，或 `(n_heads·D,)` 的偏置向量；对 `W_k` 传键值头数（GQA）。
- 每个头内部：新第 `j` 行 = 旧第 `2j` 行，新第 `j + D/2` 行 = 旧第 `2j+1` 行（`j < D/2`）；头与头的顺序不变。
- 返回同形状的张量。

检查会试：多个头、GQA 的 `W_k`、偏置向量、`D = 2`，并验证转换后“前后半 RoPE + 新权重”的分数等于“交错 RoPE + 旧权重”。""",
        entry=("permute_for_half",),
        checks=_checks(
            ("rows", "每个头内的行置换与参考一致"),
            ("gqa-and-bias", "GQA 的 W_k（键值头更少）与偏置向量"),
            ("scores", "转换前后注意力分数逐个相等"),
        ),
        kp=("rope.checkpoint-permutation", "engineering.convert-layouts"),
        difficulty=2, checker="permute", solution="rope_permute",
    ),
    Drill(
        name="alibi",
        title="ALiBi 斜率与偏置",
        summary="写出 ALiBi 的头斜率（含头数不是 2 的幂的情况）和带 KV 缓存对齐的偏置矩阵。",
        statement="""实现两个函数：

- `alibi_slopes(n_heads)`：形状 `(n_heads,)` 的浮点张量。头数 $n$ 是 2 的幂时 $m_h=2^{-8h/n}$（$h=1,\\dots,n$）；
  否则取不超过 $n$ 的最大 2 的幂 $c$，先用 `alibi_slopes(c)`，再从 `alibi_slopes(2c)` 中取下标 0, 2, 4, … 的前 $n-c$ 个。
- `alibi_bias(n_heads, t_q, t_k)`：`(n_heads, t_q, t_k)` 的加性偏置 $-m_h\\,(i-j)$。查询是 `t_k` 个位置中的**最后** `t_q` 个
  （KV 缓存时 `t_q < t_k`），第 `i` 个查询的绝对位置是 `i + t_k − t_q`。只比较因果掩码允许的元素（$j\\le$ 查询位置）；
  在这些元素上与 $-m(i-j)$ 每行只差一个常数的形式（例如 Bloom 的 $m\\,j$）也算对。

检查会试：1 到 32 个头（2 的幂）、6、12、20、40 个头、方阵偏置和 KV 缓存（`t_q = 1` 或 3）下的偏置。""",
        entry=("alibi_slopes", "alibi_bias"),
        checks=_checks(
            ("slopes-power-of-two", "头数为 2 的幂时的斜率"),
            ("slopes-other", "头数不是 2 的幂时的斜率（6、12、20、40）"),
            ("bias-square", "t_q = t_k 时的偏置（逐行差常数也算对）"),
            ("bias-cache", "KV 缓存：查询对齐到末尾"),
        ),
        kp=("relative.alibi.slopes", "relative.alibi.non-power-of-two", "engineering.kv-cache-bias"),
        difficulty=1, checker="alibi", solution="alibi",
    ),
    Drill(
        name="t5-bucket",
        title="T5 相对位置分桶",
        summary="写出 T5 的 _relative_position_bucket：双向按符号对半分、精确桶加对数桶、单向只看过去。",
        statement="""实现 `relative_position_bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128)`：

- `relative_position`：任意形状的整数张量，$r$ = **键位置 − 查询位置**；返回同形状的 long 桶号，范围 `[0, num_buckets)`。
- 双向：桶数减半，$r>0$（键在查询之后）的桶号再加 `num_buckets/2`，距离 $n=|r|$。单向：$n=\\max(-r,0)$，未来的键都在桶 0。
- 设 $E$ = （减半后的）`num_buckets // 2`：$n<E$ 时桶号是 $n$；否则是
  $E+\\lfloor \\log(n/E)/\\log(\\text{max\\_distance}/E)\\cdot(\\text{num\\_buckets}-E)\\rfloor$，且不超过 `num_buckets − 1`。
  对数用 float32 计算（与 Mesh TensorFlow、transformers 一致）。

检查会试：±10 以内的精确桶、符号约定、到 ±1000 的对数桶、单向、其他 `num_buckets` / `max_distance`。""",
        entry=("relative_position_bucket",),
        checks=_checks(
            ("exact-buckets", "小距离的精确桶（双向）"),
            ("sign", "符号约定：r = 键 − 查询，键在后面用上半部分的桶"),
            ("log-buckets", "远距离的对数桶与最后一桶（到 ±1000）"),
            ("unidirectional", "单向（解码器）：未来的键在桶 0"),
            ("other-sizes", "其他 num_buckets 与 max_distance"),
        ),
        kp=("relative.t5.bucket-function", "relative.t5.bucket-limits", "engineering.kv-cache-bias"),
        difficulty=2, checker="t5", solution="t5_bucket",
    ),
    Drill(
        name="rope-scaling",
        title="长上下文的 RoPE 频率：PI、NTK-aware、YaRN",
        summary="写出线性内插、NTK-aware 和 YaRN（官方 ramp 与注意力温度）的逆频率。",
        statement="""实现三个函数，都返回 `dim/2` 个逆频率（$\\theta_i=\\text{base}^{-2i/\\text{dim}}$ 的改写），`s = factor`：

- `linear_inv_freq(dim, base, factor)`：位置内插（PI），$\\theta_i/s$。
- `ntk_inv_freq(dim, base, factor)`：NTK-aware，底数换成 $\\text{base}\\cdot s^{\\text{dim}/(\\text{dim}-2)}$。
- `yarn_inv_freq(dim, base, factor, original_max_position_embeddings, beta_fast=32.0, beta_slow=1.0)`：
  返回 `(inv_freq, attention_factor)`，按官方代码（transformers 相同）：
  1. `corr(r) = dim·ln(L/(2π r)) / (2 ln base)`，`L = original_max_position_embeddings`；
  2. `low = floor(corr(beta_fast))`、`high = ceil(corr(beta_slow))`，截到 `low ≥ 0`、`high ≤ dim − 1`，相等时 `high += 0.001`；
  3. $\\gamma_i = 1-\\mathrm{clamp}((i-\\text{low})/(\\text{high}-\\text{low}),0,1)$，$\\theta'_i=(1-\\gamma_i)\\theta_i/s+\\gamma_i\\theta_i$；
  4. `attention_factor = 0.1·ln s + 1`（`s ≤ 1` 时为 1）。

检查会试：`dim = 2 / 4 / 16 / 64 / 128`、base 10000 / 500000 / 1000000、`s = 1`、其他 `beta_fast / beta_slow`。""",
        entry=("linear_inv_freq", "ntk_inv_freq", "yarn_inv_freq"),
        checks=_checks(
            ("linear", "线性内插：θ_i / s"),
            ("ntk", "NTK-aware：换底数，最高频不变、最低频除以 s"),
            ("yarn", "YaRN 的频率与 attention_factor"),
            ("yarn-edge-cases", "YaRN：s = 1、很小的头、其他 beta"),
        ),
        kp=("engineering.rope-scaling-config", "engineering.long-context-loading"),
        difficulty=2, checker="scaling", solution="rope_scaling",
    ),
    Drill(
        name="position-ids",
        title="左填充批次的位置编号",
        summary="由注意力掩码算 position_ids（左填充、右填充都对），以及解码下一步的位置。",
        statement="""实现两个函数（`attention_mask` 为 `(B, T)`，1 = 真实词元，0 = 填充）：

- `position_ids_from_mask(attention_mask)`：`(B, T)` 的 long 张量，每条序列的真实词元按顺序编号 `0, 1, 2, …`。
  填充处的编号不会被使用，但必须是合法下标（`0 ≤ 编号 < T`，不能留下 `−1`）。
- `next_position_ids(attention_mask)`：`(B, 1)` 的 long 张量，预填充之后下一个生成词元的位置——
  该序列真实词元的个数，**不是** `T`。

检查会试：无填充、左填充、右填充、整行都是填充、`T = 1`。""",
        entry=("position_ids_from_mask", "next_position_ids"),
        checks=_checks(
            ("no-padding", "无填充时等于 arange(T)"),
            ("left-padding", "左填充：真实词元从 0 编号"),
            ("right-padding", "右填充：真实词元从 0 编号"),
            ("pads-valid", "填充处的编号是合法下标（0 ≤ 编号 < T）"),
            ("next-step", "下一步的位置 = 真实词元个数"),
        ),
        kp=("engineering.position-ids-from-mask", "engineering.batched-generation", "absolute.padding"),
        difficulty=1, checker="positions", solution="position_ids",
    ),
    Drill(
        name="packed-positions",
        title="序列打包：位置、cu_seqlens 与块对角掩码",
        summary="把多篇文档拼成一行：每篇位置从 0 重新开始、FlashAttention varlen 的 cu_seqlens、块对角因果掩码。",
        statement="""实现三个函数：

- `packed_position_ids(seq_lens)`：长度为 `seq_lens` 的文档拼成一行，返回 `(1, N)` 的 long 张量，每篇文档的位置从 0 重新开始。
- `cu_seqlens(position_ids)`：由 `(1, N)` 的打包位置求累积长度，**int32**：`[0, n_1, n_1+n_2, …, N]`。
- `packed_causal_mask(position_ids)`：`(1, N, N)` 的 bool 掩码，词元 `i` 能看到 `j` 当且仅当同一篇文档且 `j ≤ i`。

检查会试：一篇文档、长度为 1 的文档连在一起、长短混合。""",
        entry=("packed_position_ids", "cu_seqlens", "packed_causal_mask"),
        checks=_checks(
            ("positions", "每篇文档的位置从 0 重新开始"),
            ("cu-seqlens", "cu_seqlens：int32，从 0 到 N"),
            ("mask", "块对角因果掩码"),
            ("single-tokens", "长度为 1 的文档连在一起"),
        ),
        kp=("engineering.packed-sequences", "engineering.packing-in-transformers", "absolute.packing"),
        difficulty=2, checker="packing", solution="packed_positions",
    ),
)

_BY_NAME = {d.name: d for d in DRILLS}


def get_drill(name: str) -> Drill | None:
    return _BY_NAME.get(name)


def drill_names() -> list[str]:
    return [d.name for d in DRILLS]
