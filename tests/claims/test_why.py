"""Claims of chapter 1 (为什么需要位置编码), each stated in a comment and checked.

The knowledge points in content/chapters/01-why cite these tests by node id in `verified_by`.
Every check runs in float64 with a fixed seed, so "equal" means equal to ~1e-12 and "different"
means different by far more than rounding.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import yaml

from peprep.encodings.attention import (
    TransformerBlock,
    attention_logits,
    multi_head_self_attention,
    scaled_dot_product_attention,
)

B, T, C, H = 2, 9, 16, 4


@pytest.fixture(autouse=True)
def float64():
    """Modules and randn build in float64 here; restored afterwards so other tests are unaffected."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def random_weights(seed: int = 0, c: int = C):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(c, c, generator=g) / c**0.5 for _ in range(4)]


def mhsa(x, causal=False, bias=None, seed=0):
    return multi_head_self_attention(x, *random_weights(seed), H, causal=causal, bias=bias)


def stack(n_layers: int = 2, seed: int = 0):
    torch.manual_seed(seed)
    return [TransformerBlock(C, H) for _ in range(n_layers)]


def run(blocks, x, causal=False):
    for block in blocks:
        x = block(x, causal=causal)
    return x


def permuted(x, perm):
    """P X: row t of the result is row perm[t] of x (along the sequence axis)."""
    return x[:, perm]


def different(a, b) -> bool:
    return (a - b).abs().max().item() > 1e-3


# --- permutation equivariance -------------------------------------------------------------------


def test_self_attention_is_permutation_equivariant():
    # Claim: with no positional information, MHSA(P X) = P MHSA(X) for every permutation matrix P.
    torch.manual_seed(0)
    x = torch.randn(B, T, C)
    for _ in range(5):
        perm = torch.randperm(T)
        torch.testing.assert_close(mhsa(permuted(x, perm)), permuted(mhsa(x), perm))


def test_self_attention_is_not_permutation_invariant():
    # Claim: it is *not* invariant — MHSA(P X) != MHSA(X): outputs move with their tokens.
    torch.manual_seed(0)
    x = torch.randn(B, T, C)
    perm = torch.roll(torch.arange(T), 1)
    assert different(mhsa(permuted(x, perm)), mhsa(x))


def test_transformer_stack_is_permutation_equivariant():
    # Claim: LayerNorm, the FFN and the residual act position by position, so a whole stack of
    # blocks with no positional encoding is equivariant too: F(P X) = P F(X).
    torch.manual_seed(1)
    blocks, x = stack(3), torch.randn(B, T, C)
    with torch.no_grad():
        for _ in range(3):
            perm = torch.randperm(T)
            torch.testing.assert_close(run(blocks, permuted(x, perm)), permuted(run(blocks, x), perm))


def test_mean_pooled_readout_is_permutation_invariant():
    # Claim: composing an equivariant map with a symmetric pooling gives an invariant one:
    # mean_t F(P X)_t = mean_t F(X)_t. This, not the encoder itself, is what is invariant.
    torch.manual_seed(2)
    blocks, x = stack(2), torch.randn(B, T, C)
    perm = torch.randperm(T)
    with torch.no_grad():
        torch.testing.assert_close(run(blocks, permuted(x, perm)).mean(1), run(blocks, x).mean(1))
        torch.testing.assert_close(run(blocks, permuted(x, perm)).amax(1), run(blocks, x).amax(1))


def test_fixed_query_output_is_invariant_to_permuting_keys_and_values():
    # Claim: one query attending to a set of (key, value) pairs gives the same output whatever
    # their order: Attn(q, P K, P V) = Attn(q, K, V). (Set Transformer's PMA pooling works so.)
    torch.manual_seed(3)
    q, k, v = torch.randn(1, 2, 1, 8), torch.randn(1, 2, T, 8), torch.randn(1, 2, T, 8)
    perm = torch.randperm(T)
    torch.testing.assert_close(
        scaled_dot_product_attention(q, k[:, :, perm], v[:, :, perm]), scaled_dot_product_attention(q, k, v)
    )


def test_cls_output_does_not_depend_on_where_cls_sits_without_pe():
    # Claim: without a positional encoding "position 0" means nothing: moving [CLS] (token 0) to any
    # other row, F(P X)_{pi^{-1}(0)} = F(X)_0, so its output is the same wherever it sits.
    torch.manual_seed(18)
    blocks, x = stack(2), torch.randn(B, T, C)
    for where in (3, T - 1):
        perm = torch.arange(T)
        perm[[0, where]] = perm[[where, 0]]  # swap [CLS] with the token at `where`
        with torch.no_grad():
            torch.testing.assert_close(run(blocks, permuted(x, perm))[:, where], run(blocks, x)[:, 0])


def test_cls_token_output_is_invariant_when_the_other_tokens_are_permuted():
    # Claim: a [CLS] token kept at position 0 sees the other tokens as a set: permuting tokens
    # 1..T-1 leaves the stack's output at position 0 unchanged (without a positional encoding).
    torch.manual_seed(4)
    blocks, x = stack(2), torch.randn(B, T, C)
    perm = torch.cat([torch.tensor([0]), 1 + torch.randperm(T - 1)])
    with torch.no_grad():
        torch.testing.assert_close(run(blocks, permuted(x, perm))[:, 0], run(blocks, x)[:, 0])


# --- consequences: a bag of words ---------------------------------------------------------------


def embed(token_ids, table):
    return table[torch.tensor(token_ids)].unsqueeze(0)  # (1, T, C)


def test_cat_chases_mouse_and_mouse_chases_cat_are_indistinguishable_without_pe():
    # Claim: without a positional encoding "猫 抓 老鼠" and "老鼠 抓 猫" give the same output for
    # each word (only rearranged), so any pooled sentence vector is identical; adding a
    # positional encoding separates them.
    torch.manual_seed(5)
    cat, catch, mouse = 0, 1, 2
    table, blocks = torch.randn(3, C), stack(2)
    a, b = embed([cat, catch, mouse], table), embed([mouse, catch, cat], table)
    with torch.no_grad():
        ya, yb = run(blocks, a), run(blocks, b)
        torch.testing.assert_close(ya[:, 0], yb[:, 2])  # 猫 in both sentences
        torch.testing.assert_close(ya[:, 2], yb[:, 0])  # 老鼠 in both sentences
        torch.testing.assert_close(ya.mean(1), yb.mean(1))
        pe = torch.randn(1, 3, C)  # a learned-style absolute PE, one vector per position
        assert different(run(blocks, a + pe)[:, 0], run(blocks, b + pe)[:, 2])
        assert different(run(blocks, a + pe).mean(1), run(blocks, b + pe).mean(1))


def test_identical_tokens_get_identical_outputs_without_pe():
    # Claim: if x_i = x_j then F(X)_i = F(X)_j at every layer (swap i and j: the input is unchanged,
    # so by equivariance the output is unchanged by the swap). With an absolute PE they differ.
    torch.manual_seed(6)
    blocks, x = stack(3), torch.randn(1, T, C)
    x[:, 6] = x[:, 2]
    with torch.no_grad():
        y = run(blocks, x)
        torch.testing.assert_close(y[:, 2], y[:, 6])
        y_pe = run(blocks, x + torch.randn(1, T, C))
        assert different(y_pe[:, 2], y_pe[:, 6])


# --- what breaks the symmetry --------------------------------------------------------------------


def test_additive_pe_breaks_equivariance():
    # Claim: with E fixed to positions, F(P X + E) != P F(X + E): the encoding stays at the slots
    # while the tokens move. Moving the encoding with the tokens, F(P (X + E)) = P F(X + E),
    # restores equivariance — a positional encoding works because it belongs to the slot.
    torch.manual_seed(7)
    blocks, x, e = stack(2), torch.randn(B, T, C), torch.randn(1, T, C)
    perm = torch.randperm(T)
    with torch.no_grad():
        assert different(run(blocks, permuted(x, perm) + e), permuted(run(blocks, x + e), perm))
        torch.testing.assert_close(run(blocks, permuted(x + e, perm)), permuted(run(blocks, x + e), perm))


def test_causal_mask_breaks_equivariance():
    # Claim: a causal mask ties attention to positions, so MHSA_causal(P X) != P MHSA_causal(X).
    torch.manual_seed(8)
    x = torch.randn(B, T, C)
    perm = torch.randperm(T)
    assert different(mhsa(permuted(x, perm), causal=True), permuted(mhsa(x, causal=True), perm))


def test_causal_single_layer_sees_its_prefix_as_a_set():
    # Claim: one causal attention layer (no PE) computes y_t from x_t and the *multiset*
    # {x_0..x_t}: reordering the tokens before t leaves y_t unchanged.
    torch.manual_seed(9)
    x = torch.randn(B, T, C)
    t = T - 1
    perm = torch.cat([torch.randperm(t), torch.arange(t, T)])
    torch.testing.assert_close(mhsa(permuted(x, perm), causal=True)[:, t], mhsa(x, causal=True)[:, t])


def test_two_causal_layers_see_the_order_of_their_prefix():
    # Claim: with two or more causal layers the prefix is no longer a set: swapping two earlier
    # tokens changes their own first-layer outputs (their prefixes differ), hence y_t.
    torch.manual_seed(10)
    blocks, x = stack(2), torch.randn(B, T, C)
    perm = torch.arange(T)
    perm[[1, 2]] = perm[[2, 1]]
    with torch.no_grad():
        one = blocks[0]
        torch.testing.assert_close(one(permuted(x, perm), causal=True)[:, -1], one(x, causal=True)[:, -1])
        assert different(run(blocks, permuted(x, perm), causal=True)[:, -1], run(blocks, x, causal=True)[:, -1])


# --- NoPE: position recovered from the causal mask -----------------------------------------------


def bos_sequences(n_seq: int, t: int, c: int, seed: int):
    """Sequences whose token 0 is BOS: feature 0 is 1 for BOS and 0 for every content token."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n_seq, t, c, generator=g)
    x[:, :, 0] = 0.0
    x[:, 0] = 0.0
    x[:, 0, 0] = 1.0
    return x


def test_causal_uniform_attention_with_bos_recovers_absolute_position():
    # Claim (construction behind Kazemnejad et al. 2023, Thm. 1): with W_Q = W_K = 0 every score
    # is 0, so causal attention averages the prefix uniformly. If W_V reads the BOS indicator,
    # the output at 0-based position t is exactly 1/(t+1), whatever the content, and the
    # monotone readout t = 1/y - 1 recovers the absolute position exactly.
    c, n_heads = 8, 1
    x = bos_sequences(n_seq=4, t=T, c=c, seed=11)
    zero = torch.zeros(c, c)
    w_v = torch.zeros(c, c)
    w_v[0, 0] = 1.0  # value = the BOS indicator
    eye = torch.eye(c)
    y = multi_head_self_attention(x, zero, zero, w_v, eye, n_heads, causal=True)[..., 0]  # (n_seq, T)
    positions = torch.arange(T, dtype=torch.float64)
    torch.testing.assert_close(y, (1.0 / (positions + 1)).expand_as(y))
    torch.testing.assert_close(1.0 / y - 1.0, positions.expand_as(y))
    # Without the causal mask every position averages the same T tokens: no position signal.
    y_bi = multi_head_self_attention(x, zero, zero, w_v, eye, n_heads, causal=False)[..., 0]
    torch.testing.assert_close(y_bi, torch.full_like(y_bi, 1.0 / T))


def test_causal_uniform_average_variance_shrinks_like_one_over_t():
    # Claim (the mechanism Chi et al. 2023 analyse): without a BOS marker, uniform causal
    # attention over i.i.d. unit-variance inputs outputs the mean of t+1 of them, whose variance
    # is 1/(t+1): the spread of the output encodes position. 40 000 sequences give ~1 % error.
    g = torch.Generator().manual_seed(12)
    n_seq, t, c = 40_000, 12, 4
    x = torch.randn(n_seq, t, c, generator=g)
    zero, eye = torch.zeros(c, c), torch.eye(c)
    y = multi_head_self_attention(x, zero, zero, eye, eye, 1, causal=True)  # (n_seq, t, c)
    variance = y.var(dim=0).mean(dim=-1)  # per position, averaged over channels
    expected = 1.0 / torch.arange(1, t + 1, dtype=torch.float64)
    torch.testing.assert_close(variance, expected, rtol=0.03, atol=0.0)
    assert (variance[1:] < variance[:-1]).all()


def test_content_independent_causal_weights_give_variance_sum_of_squared_weights():
    # Claim: if the causal weights alpha_tj do not depend on the values (here fixed by a content-free
    # bias, W_Q = W_K = 0) and the values are i.i.d. with variance sigma^2 = 1, then
    # Var(y_t) = sum_j alpha_tj^2 >= 1/(t+1) (Cauchy-Schwarz), with equality for uniform weights.
    g = torch.Generator().manual_seed(21)
    n_seq, t, c = 40_000, 10, 4
    bias = torch.randn(t, t, generator=g)
    x = torch.randn(n_seq, t, c, generator=g)
    zero, eye = torch.zeros(c, c), torch.eye(c)
    y = multi_head_self_attention(x, zero, zero, eye, eye, 1, causal=True, bias=bias)
    alpha = bias.masked_fill(~torch.ones(t, t, dtype=torch.bool).tril(), float("-inf")).softmax(-1)
    expected = (alpha**2).sum(-1)
    uniform = 1.0 / torch.arange(1, t + 1, dtype=torch.float64)
    assert (expected[1:] > uniform[1:] + 1e-6).all()  # non-uniform rows: strictly above the bound
    torch.testing.assert_close(y.var(dim=0).mean(dim=-1), expected, rtol=0.03, atol=0.0)


# --- absolute vs relative ------------------------------------------------------------------------


def relative_bias(table: torch.Tensor, positions: torch.Tensor, max_distance: int) -> torch.Tensor:
    """b_ij = table[clip(i - j)]: a bias that depends on positions only through i - j."""
    rel = (positions[:, None] - positions[None, :]).clamp(-max_distance, max_distance)
    return table[rel + max_distance]


def test_relative_bias_gives_shift_invariant_scores_absolute_pe_does_not():
    # Claim: if the logit is q_i·k_j/sqrt(D) + b(i - j), placing the same tokens at positions
    # shifted by s leaves every logit unchanged; with a learned absolute PE added to the input,
    # the logits change under the shift.
    torch.manual_seed(13)
    t, d, max_distance, shift = 6, 8, 16, 5
    table = torch.randn(2 * max_distance + 1)
    x = torch.randn(1, 1, t, d)
    pos = torch.arange(t)
    b0, b_shift = relative_bias(table, pos, max_distance), relative_bias(table, pos + shift, max_distance)
    assert torch.equal(b0, b_shift)
    torch.testing.assert_close(attention_logits(x, x, bias=b0), attention_logits(x, x, bias=b_shift))
    pe = torch.randn(64, d)  # absolute: one learned vector per position
    s0 = attention_logits(x + pe[pos], x + pe[pos])
    s_shift = attention_logits(x + pe[pos + shift], x + pe[pos + shift])
    assert different(s0, s_shift)


def test_relative_bias_also_breaks_permutation_equivariance():
    # Claim: a bias on the logits is a way to inject position: MHSA(P X; b) != P MHSA(X; b).
    torch.manual_seed(14)
    x = torch.randn(B, T, C)
    bias = relative_bias(torch.randn(2 * T + 1), torch.arange(T), T)
    perm = torch.randperm(T)
    assert different(mhsa(permuted(x, perm), bias=bias), permuted(mhsa(x, bias=bias), perm))


def test_row_constant_bias_keeps_equivariance():
    # Claim: P B P^T = B is sufficient for MHSA(P X; B) = P MHSA(P X; B) but not necessary: softmax
    # ignores a constant added to a row, so a bias that depends only on the row, B_ij = c_i, keeps
    # equivariance although P B P^T != B.
    torch.manual_seed(19)
    x = torch.randn(B, T, C)
    bias = torch.randn(T, 1).expand(T, T)  # B_ij = c_i
    for _ in range(3):
        perm = torch.randperm(T)
        assert different(bias[perm][:, perm], bias)
        torch.testing.assert_close(mhsa(permuted(x, perm), bias=bias), permuted(mhsa(x, bias=bias), perm))


def test_symmetric_distance_bias_cannot_tell_a_sequence_from_its_reverse():
    # Claim: a symmetric distance bias B_ij = -m_h |i - j| (ALiBi's form used bidirectionally) is kept
    # by the reversal pi(t) = T-1-t, so an encoder with only this bias is still equivariant under
    # reversal and cannot tell "猫 抓 老鼠" from "老鼠 抓 猫"; it does break other permutations, and a
    # signed bias b(i - j) != b(j - i) (T5's bidirectional buckets) breaks the reversal too.
    torch.manual_seed(20)
    pos = torch.arange(T)
    slopes = 2.0 ** -torch.arange(1, H + 1, dtype=torch.float64)
    sym = -slopes[:, None, None] * (pos[:, None] - pos[None, :]).abs()  # (H, T, T)
    rev = torch.arange(T - 1, -1, -1)
    x = torch.randn(B, T, C)
    torch.testing.assert_close(sym[:, rev][:, :, rev], sym)
    torch.testing.assert_close(mhsa(permuted(x, rev), bias=sym), permuted(mhsa(x, bias=sym), rev))
    blocks = stack(2)
    with torch.no_grad():
        def run_bias(z, bias):
            for block in blocks:
                z = block(z, bias=bias)
            return z

        torch.testing.assert_close(run_bias(permuted(x, rev), sym), permuted(run_bias(x, sym), rev))
        swap = pos.clone()
        swap[[0, 1]] = swap[[1, 0]]
        assert different(run_bias(permuted(x, swap), sym), permuted(run_bias(x, sym), swap))
        signed = relative_bias(torch.randn(2 * T + 1), pos, T)  # b(i - j) with b(k) != b(-k)
        assert different(run_bias(permuted(x, rev), signed), permuted(run_bias(x, signed), rev))
        # The two sentences: 3 tokens, one the reverse of the other, same pooled vector.
        table = torch.randn(3, C)
        a, b = embed([0, 1, 2], table), embed([2, 1, 0], table)
        sym3 = sym[:, :3, :3]
        torch.testing.assert_close(run_bias(a, sym3).mean(1), run_bias(b, sym3).mean(1))


def test_concat_then_linear_equals_adding_a_projected_pe():
    # Claim: concatenation is addition in orthogonal coordinate blocks, [x; p] = [x; 0] + [0; p],
    # and a linear map after it adds a PE projected by the map's own block:
    # [x; p] W = x W_x + p W_p with W = [W_x; W_p].
    torch.manual_seed(15)
    x, p = torch.randn(T, C), torch.randn(T, 6)
    w = torch.randn(C + 6, C)
    w_x, w_p = w[:C], w[C:]
    concat = torch.cat([x, p], dim=-1)
    torch.testing.assert_close(concat, torch.cat([x, 0 * p], -1) + torch.cat([0 * x, p], -1))
    torch.testing.assert_close(concat @ w, x @ w_x + p @ w_p)


# --- how RNNs and CNNs get order -----------------------------------------------------------------


def test_rnn_state_depends_on_order():
    # Claim: h_t = tanh(W h_{t-1} + U x_t) reads tokens in order, so swapping two tokens changes
    # the final state: order is built into the recurrence, no PE needed.
    torch.manual_seed(16)
    rnn = torch.nn.RNN(C, C, batch_first=True).double()
    x = torch.randn(1, T, C)
    perm = torch.arange(T)
    perm[[2, 5]] = perm[[5, 2]]
    with torch.no_grad():
        assert different(rnn(permuted(x, perm))[1], rnn(x)[1])


def conv_stack(n_layers: int, padding_mode: str, seed: int = 17, channels: int = 4, kernel: int = 3):
    torch.manual_seed(seed)
    layers = [
        torch.nn.Conv1d(channels, channels, kernel, padding=kernel // 2, padding_mode=padding_mode, bias=False).double()
        for _ in range(n_layers)
    ]
    return torch.nn.Sequential(*layers)


def test_circular_padding_conv_is_exactly_translation_equivariant():
    # Claim: a convolution with circular padding commutes with cyclic shifts: conv(S x) = S conv(x).
    net, x = conv_stack(3, "circular"), torch.randn(1, 4, 20)
    with torch.no_grad():
        for s in (1, 3, 7):
            torch.testing.assert_close(net(torch.roll(x, s, dims=-1)), torch.roll(net(x), s, dims=-1))


def test_zero_padding_conv_is_equivariant_only_away_from_the_borders():
    # Claim: with zero padding, conv(S x) and S conv(x) agree in the interior but not near the
    # borders, where the padded zeros enter the receptive field.
    n_layers, radius = 3, 1
    net, x = conv_stack(n_layers, "zeros"), torch.randn(1, 4, 20)
    s, reach = 3, n_layers * radius
    with torch.no_grad():
        a, b = net(torch.roll(x, s, dims=-1)), torch.roll(net(x), s, dims=-1)
    interior = slice(s + reach, 20 - reach)  # far from both the true border and the wrap seam
    torch.testing.assert_close(a[..., interior], b[..., interior])
    assert different(a[..., :reach], b[..., :reach])


def test_zero_padding_reveals_absolute_position_near_the_border():
    # Claim (the effect Islam et al. 2020 measure in trained CNNs): feed a constant input. With
    # circular padding every position gives the same output (no position signal); with zero
    # padding, L layers of kernel 3 give equal outputs only at distance >= L from both borders,
    # and the first L positions get pairwise different outputs — a readout of "distance to the
    # border" up to the receptive-field radius.
    n_layers, length = 4, 24
    x = torch.ones(1, 4, length)
    with torch.no_grad():
        circ, zero = conv_stack(n_layers, "circular")(x), conv_stack(n_layers, "zeros")(x)
    torch.testing.assert_close(circ, circ[..., :1].expand_as(circ))
    interior = zero[..., n_layers : length - n_layers]
    torch.testing.assert_close(interior, interior[..., :1].expand_as(interior))
    edge = zero[0, :, : n_layers + 1]  # positions 0..L (L is the first interior one)
    for i in range(n_layers + 1):
        for j in range(i):
            assert different(edge[:, i], edge[:, j])


# --- the code in the answers runs ----------------------------------------------------------------


def test_code_check_answer_snippet_runs():
    # Claim: the snippet in the answer of why.q.code-check runs as written and its asserts hold.
    questions = Path(__file__).resolve().parents[2] / "content" / "chapters" / "01-why" / "questions.yaml"
    answer = next(q for q in yaml.safe_load(questions.read_text(encoding="utf-8")) if q["id"] == "why.q.code-check")["answer"]
    snippet = re.search(r"```python\n(.*?)```", answer, re.S).group(1)
    exec(compile(snippet, "why.q.code-check", "exec"), {})
