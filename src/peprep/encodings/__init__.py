"""Readable reference implementations of the encodings the content talks about.

One module per family, pure functions first and a thin `nn.Module` on top. Tensor layout, stated
once for all of them: (B, H, T, D) = batch, heads, sequence length, head dimension; model inputs
are (B, T, C) with C = H·D.

- `attention`: scaled dot-product (multi-head) self-attention with an optional causal mask and an
  optional additive logit bias — the position-free core every encoding plugs into.

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
