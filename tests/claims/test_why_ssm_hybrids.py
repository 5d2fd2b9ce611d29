"""Claims of chapter 1's KPs on state-space models and SSM-attention hybrids (why.ssm-order, why.hybrid-nope).

Two kinds of checks:

* the mathematics, on a diagonal linear recurrence written out below in a few lines (the form of a Mamba
  channel: h_t = exp(Δ_t a) ⊙ h_{t-1} + Δ_t b_t x_t, y_t = <c_t, h_t>) and on NoPE attention from
  `peprep.encodings.attention`;
* the installed transformers 5.25 models (Mamba, Jamba, and two other hybrids), instantiated tiny on the CPU,
  where the Mamba CUDA kernels are absent and the PyTorch fallback runs.

Every numerical check runs in float64 with a fixed seed: "equal" means equal to ~1e-12, "different" means a
relative difference above 1e-6, far more than float64 rounding (~1e-16).
"""

from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn.functional as F

from peprep.encodings.attention import multi_head_self_attention

T, D, N, C, H = 8, 3, 4, 12, 3  # sequence length, SSM channels, state size, model width, heads


@pytest.fixture(autouse=True)
def float64():
    """randn builds in float64 here; restored afterwards so other tests are unaffected."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def different(a, b) -> bool:
    scale = max(a.abs().max().item(), b.abs().max().item())
    return (a - b).abs().max().item() > 1e-6 * scale


# --- a diagonal linear recurrence (our own few lines) --------------------------------------------


def scan(x, delta, a, b, c):
    """y_t = <c_t, h_t> with h_t = exp(Δ_t a) ⊙ h_{t-1} + Δ_t b_t x_t, h_{-1} = 0, one state per channel.

    x, delta: (T, D) inputs and step sizes (Δ > 0); a: (D, N), negative; b, c: (T, N). Returns (T, D).
    Ā_t = exp(Δ_t a) is diagonal with entries in (0, 1); B̄_t = Δ_t b_t (the simplification Mamba's code uses).
    """
    h = torch.zeros(x.shape[1], a.shape[1])  # (D, N)
    ys = []
    for t in range(x.shape[0]):
        a_bar = torch.exp(delta[t, :, None] * a)  # (D, N)
        b_bar = delta[t, :, None] * b[t][None, :]  # (D, N)
        h = a_bar * h + b_bar * x[t, :, None]
        ys.append(h @ c[t])  # (D,)
    return torch.stack(ys)


def selective_params(x, seed=0):
    """Mamba-style selection: Δ = softplus(x W_Δ + bias) per channel, B and C linear in x; A fixed, negative."""
    g = torch.Generator().manual_seed(seed)
    w_delta, w_b, w_c = (torch.randn(D, k, generator=g) for k in (D, N, N))
    a = -torch.arange(1, N + 1, dtype=torch.float64).repeat(D, 1)  # A = -exp(A_log), S4D-real init
    delta = F.softplus(x @ w_delta - 1.0)
    return delta, a, x @ w_b, x @ w_c


def selective_ssm(x, seed=0):
    return scan(x, *selective_params(x, seed))


def lti_params(seed=0):
    """S4-like time-invariant parameters: the same Δ, B, C at every step (positive, so the kernel is positive)."""
    g = torch.Generator().manual_seed(seed)
    delta = torch.rand(D, generator=g) * 0.5 + 0.2
    a = -torch.rand(D, N, generator=g) - 0.1
    b, c = torch.rand(N, generator=g) + 0.1, torch.rand(N, generator=g) + 0.1
    return delta, a, b, c


def lti_ssm(x, seed=0):
    delta, a, b, c = lti_params(seed)
    t = x.shape[0]
    return scan(x, delta.expand(t, D), a, b.expand(t, N), c.expand(t, N))


def test_linear_recurrence_is_not_permutation_equivariant():
    # Claim: a recurrence h_t = Ā_t h_{t-1} + B̄_t x_t is order-aware by construction: shuffling the tokens does
    # not just shuffle the outputs, SSM(P x) != P SSM(x) — for the selective (Mamba) and the LTI (S4) form.
    torch.manual_seed(0)
    x = torch.randn(T, D)
    for _ in range(3):
        perm = torch.randperm(T)
        assert different(selective_ssm(x[perm]), selective_ssm(x)[perm])
        assert different(lti_ssm(x[perm]), lti_ssm(x)[perm])


def test_contribution_of_token_s_to_output_t_is_the_product_of_abar_factors_between_them():
    # Claim: unrolling the recurrence, y_t = Σ_{s<=t} C_t (Π_{r=s+1}^{t} Ā_r) B̄_s x_s. With Δ, B, C held fixed the
    # map x -> y is linear; its impulse response to x_s at time t is c_t · exp(a Σ_{r=s+1}^{t} Δ_r) ⊙ Δ_s b_s,
    # and it is exactly 0 for s > t (causal).
    torch.manual_seed(1)
    x = torch.randn(T, D)
    delta, a, b, c = selective_params(x, seed=1)
    for s in range(T):
        impulse = torch.zeros(T, D)
        impulse[s] = 1.0
        y = scan(impulse, delta, a, b, c)  # (T, D): column d is channel d's response to a unit input at s
        for t in range(T):
            if t < s:
                assert y[t].abs().max() == 0.0
                continue
            decay = torch.exp(a * delta[s + 1 : t + 1].sum(0)[:, None])  # Π_r exp(Δ_r a) = exp(a Σ_r Δ_r)
            expected = (decay * delta[s][:, None] * b[s][None, :]) @ c[t]
            torch.testing.assert_close(y[t], expected)


def test_impulse_response_decays_with_distance_and_a_large_step_erases_the_past():
    # Claim: A < 0 and Δ > 0 make every Ā entry lie in (0, 1), so with positive B, C the weight of a token shrinks
    # as the distance t - s grows; one very large Δ_r between s and t drives Ā_r -> 0 and erases the contribution
    # (and a tiny Δ_r gives Ā_r -> 1, B̄_r -> 0: keep the state, ignore the input at r).
    delta, a, b, c = lti_params(seed=2)
    steps = delta.expand(T, D).clone()
    bs, cs = b.expand(T, N), c.expand(T, N)
    impulse = torch.zeros(T, D)
    impulse[0] = 1.0
    y = scan(impulse, steps, a, bs, cs)  # response to a token at s = 0, for t = 0..T-1
    assert (y > 0).all() and (y[1:] < y[:-1]).all()
    steps[3] = 1e3  # a huge step at r = 3: Ā_3 = exp(1e3 · a) < exp(-100)
    y_reset = scan(impulse, steps, a, bs, cs)
    assert y_reset[3:].abs().max() < 1e-12 * y[0].abs().min()
    torch.testing.assert_close(y_reset[:3], y[:3])
    steps[3] = 1e-9  # a tiny step at r = 3: Ā_3 -> 1 keeps the state, B̄_3 = Δ_3 b -> 0 ignores the input at r = 3
    y_keep = scan(impulse, steps, a, bs, cs)
    torch.testing.assert_close(y_keep[:3], y[:3])
    torch.testing.assert_close(y_keep[3:], y[2:-1])  # step 3 is skipped: the state is carried over unchanged
    impulse_3 = torch.zeros(T, D)
    impulse_3[3] = 1.0
    normal = scan(impulse_3, delta.expand(T, D), a, bs, cs)
    ignored = scan(impulse_3, steps, a, bs, cs)
    assert ignored.abs().max() < 1e-6 * normal.abs().max()  # the token at r = 3 is (almost) not written


def test_lti_ssm_is_a_causal_convolution_and_shift_equivariant():
    # Claim: with Δ, B, C constant (S4), y_t = Σ_{k=0}^{t} K_k x_{t-k} with K_k = C Ā^k B̄: a causal convolution whose
    # weight depends only on the distance k, so delaying the input by j steps (zeros in front) delays the output.
    delta, a, b, c = lti_params(seed=3)
    torch.manual_seed(3)
    x = torch.randn(T, D)
    k = torch.arange(T, dtype=torch.float64)
    a_bar, b_bar = torch.exp(delta[:, None] * a), delta[:, None] * b[None, :]  # (D, N)
    kernel = (a_bar[None] ** k[:, None, None] * b_bar[None]) @ c  # (T, D): K_k per channel
    y = torch.stack([sum(kernel[j] * x[t - j] for j in range(t + 1)) for t in range(T)])
    torch.testing.assert_close(lti_ssm(x, seed=3), y)
    shift = 3
    delayed = torch.cat([torch.zeros(shift, D), x[:-shift]])
    torch.testing.assert_close(lti_ssm(delayed, seed=3)[shift:], lti_ssm(x, seed=3)[:-shift])
    assert lti_ssm(delayed, seed=3)[:shift].abs().max() == 0.0


def test_zero_initial_state_leaks_absolute_position():
    # Claim: the zero initial state is a left boundary. A constant input (no positional information at all) gives
    # y_t = c Σ_{k=0}^{t} K_k, which differs at every position t: the output reveals how far t is from the start,
    # like zero padding in a CNN or the 1/(t+1) of causal NoPE attention.
    x = torch.ones(T, D)
    y = lti_ssm(x)
    assert ((y[1:] - y[:-1]) > 1e-6).all()  # strictly increasing, so t can be read off (it saturates for large t)


# --- Mamba's causal depthwise conv1d (transformers 5.25) ----------------------------------------


def tiny_mamba_config(**kw):
    from transformers import MambaConfig

    return MambaConfig(vocab_size=32, hidden_size=8, state_size=4, num_hidden_layers=2, expand=2, **kw)


def test_mamba_conv1d_has_kernel_4_and_is_causal_by_padding_and_truncation():
    # Claim: the Mamba block runs a depthwise conv1d before the SSM: kernel d_conv = 4 by default (MambaConfig,
    # JambaConfig), padding = d_conv - 1 on both sides, and only the first T outputs are kept, so
    # u_t = Σ_{j=0}^{3} w_j x_{t-3+j}: it reads x_{t-3..t} with a separate weight per offset (causal, order-aware).
    from transformers import JambaConfig, MambaConfig
    from transformers.models.mamba.modeling_mamba import MambaMixer, causal_conv1d_fn

    assert MambaConfig().conv_kernel == 4 and JambaConfig().mamba_d_conv == 4
    assert MambaConfig().state_size == 16  # N, the state size per channel
    conv = MambaMixer(tiny_mamba_config(), layer_idx=0).conv1d.double()
    channels = conv.in_channels
    assert conv.kernel_size == (4,) and conv.padding == (3,) and conv.groups == channels  # depthwise
    torch.manual_seed(4)
    x = torch.randn(1, channels, T)
    w = conv.weight.squeeze(1)  # (channels, 4)
    with torch.no_grad():
        u = causal_conv1d_fn(x, w, conv.bias)
        padded = F.pad(x, (3, 0))
        expected = conv.bias[None, :, None] + sum(w[None, :, j, None] * padded[..., j : j + T] for j in range(4))
        torch.testing.assert_close(u, expected)
        future = x.clone()
        future[..., 5:] = torch.randn(1, channels, T - 5)
        torch.testing.assert_close(causal_conv1d_fn(future, w, conv.bias)[..., :5], u[..., :5])  # causal
        swapped = x[..., [0, 1, 2, 4, 3, 5, 6, 7]]
        assert different(causal_conv1d_fn(swapped, w, conv.bias)[..., 5], u[..., 5])  # order inside the window


def test_transformers_fallback_scan_discretizes_with_exp_delta_a_and_delta_b():
    # Claim: the PyTorch fallback of transformers' Mamba selective scan uses Ā_t = exp(Δ_t A) and the simplified
    # B̄_t = Δ_t B_t (not the ZOH B̄ = (ΔA)^{-1}(exp(ΔA) - I) ΔB), with h_{-1} = 0 and y_t = C_t h_t (no D, no gate).
    from transformers.models.mamba.modeling_mamba import mamba_selective_scan

    torch.manual_seed(10)
    x = torch.randn(T, D)
    delta, a, b, c = selective_params(x, seed=10)
    with torch.no_grad():
        y = mamba_selective_scan(x.T[None], delta.T[None], a, b.T[None], c.T[None])[0].T  # (T, D)
    torch.testing.assert_close(y, scan(x, delta, a, b, c), rtol=1e-5, atol=1e-6)  # the fallback computes B̄ in float32
    zoh_b = torch.zeros(T, D)
    h = torch.zeros(D, N)
    for t in range(T):  # the same recurrence with the ZOH B̄ = (exp(Δa) - 1) / a · b, elementwise for diagonal a
        a_bar = torch.exp(delta[t, :, None] * a)
        h = a_bar * h + (a_bar - 1) / a * b[t][None, :] * x[t, :, None]
        zoh_b[t] = h @ c[t]
    assert different(y, zoh_b)


def test_mamba_mixer_is_causal_and_order_aware_on_cpu():
    # Claim: a whole Mamba mixer (conv1d + selective scan, PyTorch path on the CPU) is causal — changing later
    # tokens leaves earlier outputs unchanged — and sensitive to the order of its prefix.
    from transformers.models.mamba.modeling_mamba import MambaMixer

    torch.manual_seed(5)
    mixer = MambaMixer(tiny_mamba_config(), layer_idx=0).double().eval()
    x = torch.randn(1, T, 8)
    with torch.no_grad():
        y = mixer(x)
        later = x.clone()
        later[:, 5:] = torch.randn(1, T - 5, 8)
        torch.testing.assert_close(mixer(later)[:, :5], y[:, :5])
        swapped = x[:, [1, 0, 2, 3, 4, 5, 6, 7]]
        assert different(mixer(swapped)[:, -1], y[:, -1])


def test_transformers_mamba_has_no_position_embedding():
    # Claim: a Mamba model adds no positional encoding: its only embedding is the token table, MambaModel.forward
    # takes no position_ids, and no module is a rotary or position embedding — yet the model is order-aware.
    from transformers import MambaModel

    assert "position_ids" not in inspect.signature(MambaModel.forward).parameters
    torch.manual_seed(6)
    model = MambaModel(tiny_mamba_config()).double().eval()
    embeddings = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Embedding)}
    assert list(embeddings) == ["embeddings"] and embeddings["embeddings"].num_embeddings == 32
    assert not [n for n, _ in model.named_modules() if "rotary" in n or "pos" in n]
    ids = torch.randint(0, 32, (1, T))
    perm = torch.randperm(T)
    with torch.no_grad():
        assert different(model(ids[:, perm]).last_hidden_state, model(ids).last_hidden_state[:, perm])


# --- NoPE attention after an order-aware layer -----------------------------------------------------


def attn(h, seed=0):
    """Bidirectional multi-head self-attention with no positional encoding and no mask."""
    g = torch.Generator().manual_seed(seed)
    weights = [torch.randn(C, C, generator=g) / C**0.5 for _ in range(4)]
    return multi_head_self_attention(h, *weights, H)


def causal_depthwise_conv(x, seed=0, width=4):
    """u_t = Σ_j w_j ⊙ x_{t-width+1+j}, per channel; x: (B, T, C)."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(x.shape[-1], 1, width, generator=g)
    return F.conv1d(x.transpose(1, 2), w, padding=width - 1, groups=x.shape[-1])[..., : x.shape[1]].transpose(1, 2)


def recurrence(x, decay=0.7):
    """h_t = decay ⊙ h_{t-1} + x_t per channel (the simplest linear recurrence); x: (B, T, C)."""
    h, out = torch.zeros_like(x[:, 0]), []
    for t in range(x.shape[1]):
        h = decay * h + x[:, t]
        out.append(h)
    return torch.stack(out, dim=1)


def test_nope_attention_is_equivariant_alone_but_not_after_a_conv_or_a_recurrence():
    # Claim: NoPE attention alone satisfies Attn(P X) = P Attn(X); placed after an order-aware layer G (causal conv,
    # linear recurrence) its input G(X) carries positions, and Attn(G(P X)) != P Attn(G(X)).
    torch.manual_seed(7)
    x = torch.randn(2, T, C)
    for _ in range(3):
        perm = torch.randperm(T)
        torch.testing.assert_close(attn(x[:, perm]), attn(x)[:, perm])
        for g in (causal_depthwise_conv, recurrence):
            assert different(attn(g(x[:, perm])), attn(g(x))[:, perm])


def test_after_a_recurrence_nope_attention_tells_a_sentence_from_its_reverse():
    # Claim: alone, NoPE attention is a bag of words ("猫 抓 老鼠" and "老鼠 抓 猫" pool to the same vector); after a
    # linear recurrence or a causal conv the two sentences differ, with no positional encoding anywhere.
    torch.manual_seed(8)
    table = torch.randn(3, C)
    a, b = table[[0, 1, 2]][None], table[[2, 1, 0]][None]
    torch.testing.assert_close(attn(a).mean(1), attn(b).mean(1))
    for g in (recurrence, causal_depthwise_conv):
        assert different(attn(g(a)).mean(1), attn(g(b)).mean(1))


# --- Jamba and other hybrids in transformers 5.25 ---------------------------------------------------


def test_jamba_config_defaults_put_one_attention_layer_in_every_eight():
    # Claim: JambaConfig defaults (ai21labs/Jamba-v0.1): 32 layers, attn_layer_period 8, attn_layer_offset 4, so layer
    # i is attention iff i % 8 == 4: layers 4, 12, 20, 28 — 4 attention and 28 Mamba layers, 1 : 7.
    from transformers import JambaConfig

    cfg = JambaConfig()
    assert (cfg.num_hidden_layers, cfg.attn_layer_period, cfg.attn_layer_offset) == (32, 8, 4)
    kinds = cfg.layers_block_type
    attention = [i for i, kind in enumerate(kinds) if kind == "attention"]
    assert attention == [4, 12, 20, 28]
    assert kinds.count("mamba") == 28 and kinds.count("mamba") == 7 * len(attention)


def tiny_jamba():
    from transformers import JambaConfig, JambaModel

    cfg = JambaConfig(
        vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=16, num_attention_heads=4,
        num_key_value_heads=2, num_experts=1, mamba_d_state=4, mamba_dt_rank=2,
    )
    torch.manual_seed(9)
    return JambaModel(cfg).double().eval()


def test_jamba_attention_has_no_rotary_or_position_embedding():
    # Claim: Jamba's attention layers use no explicit positional encoding and are causal: the attention module (is_causal
    # True) holds only the q/k/v/o projections, nothing is a rotary or position embedding, the only embedding is the token table, its
    # forward never rotates q or k, and config.max_position_embeddings is never read by the modeling code.
    # (apply_rotary_pos_emb is defined in modeling_jamba.py and named in a decorator, but never called.)
    from transformers.models.jamba import modeling_jamba
    from transformers.models.jamba.modeling_jamba import JambaAttention

    model = tiny_jamba()
    kinds = [type(layer).__name__ for layer in model.layers]
    assert [i for i, k in enumerate(kinds) if k == "JambaAttentionDecoderLayer"] == [4, 12]
    assert not [n for n, _ in model.named_modules() if "rotary" in n or "pos" in n]
    embeddings = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Embedding)]
    assert embeddings == ["embed_tokens"]
    attention = model.layers[4].self_attn
    assert isinstance(attention, JambaAttention) and attention.is_causal
    assert {n for n, _ in attention.named_children()} == {"q_proj", "k_proj", "v_proj", "o_proj"}
    forward = inspect.getsource(JambaAttention.forward)
    assert "rotary" not in forward and "cos" not in forward and "position" not in forward
    assert "max_position_embeddings" not in inspect.getsource(modeling_jamba)


def test_jamba_output_does_not_depend_on_position_ids_but_on_order():
    # Claim: position_ids reach Jamba's layers but encode nothing: shifting them by 1000 leaves the output exactly
    # unchanged; the model still knows order (its Mamba layers), so swapping two early tokens changes the last output.
    model = tiny_jamba()
    ids = torch.randint(0, 32, (1, T))
    with torch.no_grad():
        y = model(ids).last_hidden_state
        shifted = model(ids, position_ids=torch.arange(T)[None] + 1000).last_hidden_state
        torch.testing.assert_close(shifted, y, rtol=0, atol=0)
        swapped = model(ids[:, [1, 0, *range(2, T)]]).last_hidden_state
        assert different(swapped[:, -1], y[:, -1])


def test_other_hybrids_differ_nemotron_h_attention_has_no_rope_bamba_applies_it():
    # Claim (transformers 5.25 implementations): NemotronHAttention.forward never applies a rotary embedding, while
    # BambaAttention.forward calls apply_rotary_pos_emb on q and k (partial_rotary_factor fixed at 0.5, so only the
    # first half of each head's dimensions rotates) — dropping RoPE in hybrids is a design choice.
    from transformers.models.bamba.modeling_bamba import BambaAttention
    from transformers.models.nemotron_h.modeling_nemotron_h import NemotronHAttention

    assert "apply_rotary_pos_emb" not in inspect.getsource(NemotronHAttention.forward)
    assert "apply_rotary_pos_emb(query_states, key_states" in inspect.getsource(BambaAttention.forward)
    from transformers import BambaConfig

    assert BambaConfig().rope_parameters["partial_rotary_factor"] == 0.5  # RoPE on half of each head's dimensions
