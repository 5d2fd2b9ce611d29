"""Readable reference implementations of the encodings the content talks about.

One module per family, pure functions first and a thin `nn.Module` on top. Tensor layout, stated
once for all of them: (B, H, T, D) = batch, heads, sequence length, head dimension; model inputs
are (B, T, C) with C = H·D.

Families, one module each (the chapter that explains them in brackets):

- `attention` — scaled dot-product (multi-head) self-attention with an optional causal mask and an
  optional additive logit bias: the position-free core every encoding plugs into [why]
- `sinusoidal`, `learned` — absolute encodings added at the input [absolute]
- `shaw`, `transformer_xl`, `t5_bias`, `deberta`, `tupe`, `alibi`, `kerple`, `sandwich`, `fire`,
  `cope` — relative encodings and attention biases [relative]
- `rope`, `xpos` — rotary position embedding (both pair layouts, complex form, partial rotary) and
  its decayed variant [rope]; `rope_fast` — the same rotation in place, for speed, on a small C
  kernel that `rope_native` compiles on first use (`rope_kernel.c`) or on blocked torch ops [engineering]
- `mla` — DeepSeek's Multi-head Latent Attention: low-rank KV compression, weight absorption and
  the decoupled RoPE key shared by all heads [rope]
- `rope_scaling` — one registry of RoPE frequency variants: PI, NTK-aware, dynamic NTK, YaRN,
  LongRoPE, Llama 3.1 [extrapolation]
- `randomized_positions` — sorted random position ids for training (Ruoss et al. 2023) [extrapolation]
- `dual_chunk` — Dual Chunk Attention (An et al. 2024): the remapped intra / successive / inter-chunk
  positions, DCA logits with RoPE and the log-sum-exp merge of its three pieces [extrapolation]
- `sincos_2d`, `vit_resample`, `swin_bias`, `rope_2d`, `mrope`, `video_rope` — vision and multimodal
  (`video_rope`: VideoRoPE's low-frequency time, diagonal layout and temporal spacing δ) [vision]
- `position_ids` — position ids for padded, decoding and packed batches [engineering]

Each module's docstring states its paper, formula and conventions, and a `Claims:` list naming the
tests that prove them. Import the submodules directly (`from peprep.encodings.rope import …`).

torch is imported here, so nothing on the web server's start-up path imports this package.
"""

from peprep.encodings.attention import (
    MultiHeadSelfAttention,
    TransformerBlock,
    attention_logits,
    attention_weights,
    causal_mask,
    merge_heads,
    multi_head_self_attention,
    scaled_dot_product_attention,
    split_heads,
)

__all__ = [
    "MultiHeadSelfAttention",
    "TransformerBlock",
    "attention_logits",
    "attention_weights",
    "causal_mask",
    "merge_heads",
    "multi_head_self_attention",
    "scaled_dot_product_attention",
    "split_heads",
]
