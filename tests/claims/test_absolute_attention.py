"""Claims of chapter 2 (absolute) about what an added absolute encoding does inside attention."""

from __future__ import annotations

import torch

from peprep.encodings.sinusoidal import sinusoidal_encoding, sinusoidal_frequencies

F64 = torch.float64


def positions(n: int, seed: int) -> torch.Tensor:
    return torch.rand(n, generator=torch.Generator().manual_seed(seed), dtype=F64) * 3000


def test_projected_position_score_depends_on_absolute_position():
    # With a generic W = W_Q W_Kᵀ the position–position term PE(p)ᵀ W PE(p + k) changes with p at fixed k:
    # the "depends only on k" property of the raw dot product does not survive the projections.
    d = 64
    g = torch.Generator().manual_seed(0)
    w = torch.randn(d, d, generator=g, dtype=F64) / d**0.5
    p = positions(500, seed=1)
    for k in (1.0, 10.0, 100.0):
        score = ((sinusoidal_encoding(p, d) @ w) * sinusoidal_encoding(p + k, d)).sum(-1)  # (500,)
        assert score.max() - score.min() > 1.0


def test_rotation_commuting_projection_gives_relative_and_directional_score():
    # If W is block-diagonal with blocks a_i·I + b_i·J (J = [[0, 1], [−1, 0]]) on each (sin, cos) pair,
    # PE(p)ᵀ W PE(p + k) = Σ_i a_i cos(ω_i k) − b_i sin(ω_i k) for every p: relative, and the b part is odd
    # in k, so such a W can tell before from after even though the raw dot product cannot.
    d = 32
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(d // 2, generator=g, dtype=F64), torch.randn(d // 2, generator=g, dtype=F64)
    j = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=F64)
    w = torch.block_diag(*[a[i] * torch.eye(2, dtype=F64) + b[i] * j for i in range(d // 2)])
    omega = sinusoidal_frequencies(d)
    p = positions(300, seed=3)
    for k in (-25.0, -3.0, 3.0, 25.0):
        score = ((sinusoidal_encoding(p, d) @ w) * sinusoidal_encoding(p + k, d)).sum(-1)
        expected = (a * torch.cos(omega * k) - b * torch.sin(omega * k)).sum()
        torch.testing.assert_close(score, expected.expand(300), rtol=0, atol=1e-9)
    odd = (b * torch.sin(omega * 3.0)).sum()
    assert odd.abs() > 0.1  # score(+3) − score(−3) = −2·Σ b_i sin(3ω_i) ≠ 0


def test_score_expands_into_four_terms():
    # (x_i + p_i) W_Q W_Kᵀ (x_j + p_j)ᵀ = x_i W x_jᵀ + x_i W p_jᵀ + p_i W x_jᵀ + p_i W p_jᵀ with W = W_Q W_Kᵀ:
    # token–token, token–position, position–token and position–position (the TUPE decomposition).
    g = torch.Generator().manual_seed(4)
    d, t = 16, 6
    x = torch.randn(t, d, generator=g, dtype=F64)
    pe = sinusoidal_encoding(torch.arange(t, dtype=F64), d)
    w_q, w_k = torch.randn(d, d, generator=g, dtype=F64), torch.randn(d, d, generator=g, dtype=F64)
    w = w_q @ w_k.T
    full = ((x + pe) @ w_q) @ ((x + pe) @ w_k).T
    torch.testing.assert_close(full, x @ w @ x.T + x @ w @ pe.T + pe @ w @ x.T + pe @ w @ pe.T)


def test_concatenation_then_linear_equals_sum_of_projections():
    # [x; p] W = x W_top + p W_bottom: concatenating then projecting is adding two separately projected
    # signals. Adding x + p before one projection W is the special case W_top = W_bottom = W.
    g = torch.Generator().manual_seed(5)
    d_x, d_p, d_out, t = 12, 8, 10, 7
    x, p = torch.randn(t, d_x, generator=g, dtype=F64), torch.randn(t, d_p, generator=g, dtype=F64)
    w = torch.randn(d_x + d_p, d_out, generator=g, dtype=F64)
    torch.testing.assert_close(torch.cat([x, p], -1) @ w, x @ w[:d_x] + p @ w[d_x:], rtol=0, atol=1e-12)
    # Concatenation is itself addition in the wider space, with token and position forced into
    # orthogonal coordinate subspaces: [x; p] = [x; 0] + [0; p].
    zeros_p, zeros_x = torch.zeros(t, d_p, dtype=F64), torch.zeros(t, d_x, dtype=F64)
    torch.testing.assert_close(torch.cat([x, p], -1), torch.cat([x, zeros_p], -1) + torch.cat([zeros_x, p], -1))
    assert (torch.cat([x, zeros_p], -1) * torch.cat([zeros_x, p], -1)).sum(-1).abs().max() == 0
    p_full = torch.randn(t, d_x, generator=g, dtype=F64)
    w_same = torch.randn(d_x, d_out, generator=g, dtype=F64)
    torch.testing.assert_close((x + p_full) @ w_same, torch.cat([x, p_full], -1) @ torch.cat([w_same, w_same]))


def test_random_directions_are_nearly_orthogonal():
    # Independent random directions in R^d have cosine ≈ N(0, 1/d): for d = 512, std ≈ 0.044, so a
    # token vector and a position vector added together interfere little unless training aligns them.
    g = torch.Generator().manual_seed(6)
    for d in (64, 512):
        u, v = torch.randn(20000, d, generator=g, dtype=F64), torch.randn(20000, d, generator=g, dtype=F64)
        cos = torch.nn.functional.cosine_similarity(u, v, dim=-1)
        assert abs(cos.std().item() * d**0.5 - 1) < 0.03  # std·√d = 1 within 3 %
        assert abs(cos.mean().item()) < 0.01


def test_orthogonal_subspaces_are_separable_after_addition():
    # If positions live in a subspace S and tokens in its orthogonal complement, the projector onto S
    # recovers the position exactly from the sum, and the complement projector recovers the token.
    g = torch.Generator().manual_seed(7)
    d, k = 32, 8
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=F64))
    basis_s, basis_t = q[:, :k], q[:, k:]  # (d, k), (d, d−k)
    pos = torch.randn(10, k, generator=g, dtype=F64) @ basis_s.T  # (10, d) in S
    tok = torch.randn(10, d - k, generator=g, dtype=F64) @ basis_t.T  # (10, d) in S⊥
    summed = tok + pos
    torch.testing.assert_close(summed @ basis_s @ basis_s.T, pos, rtol=0, atol=1e-12)
    torch.testing.assert_close(summed @ basis_t @ basis_t.T, tok, rtol=0, atol=1e-12)


def test_only_rotation_commuting_blocks_give_relative_scores():
    # Necessity: among all W (d×d), those that make PE(p)ᵀ W PE(p + k) independent of p for every k form
    # exactly a d-dimensional subspace: block-diagonal W with a_i·I + b_i·J on each (sin, cos) pair.
    # The score is linear in W, so we stack, for each basis matrix E_ab, its p-dependent part (score minus
    # its mean over p) over several k, and compute the null space of that linear map.
    d = 8
    p = positions(400, seed=11)
    ks = (-7.0, -1.0, 1.0, 2.5, 13.0, 150.0)
    pe_p = sinusoidal_encoding(p, d)  # (400, d)
    columns = []
    for a in range(d):
        for b in range(d):
            parts = []
            for k in ks:
                s = pe_p[:, a] * sinusoidal_encoding(p + k, d)[:, b]
                parts.append(s - s.mean())
            columns.append(torch.cat(parts))
    a_map = torch.stack(columns, 1)  # (samples, d·d): W ↦ p-dependent part of the score
    _, sv, vh = torch.linalg.svd(a_map, full_matrices=True)
    rank = int((sv > 1e-8 * sv[0]).sum())
    assert rank == d * d - d  # null space of dimension d: two parameters per pair
    assert sv[rank - 1] > 1.0 and (sv[rank:] < 1e-10).all()  # a clear gap, not a numerical accident
    null = vh[rank:].T  # (d·d, d), orthonormal basis of the relative-only W's (flattened row-major)
    j = torch.tensor([[0.0, 1.0], [-1.0, 0.0]], dtype=F64)
    structured = []
    for i in range(d // 2):
        for block in (torch.eye(2, dtype=F64), j):
            w = torch.zeros(d, d, dtype=F64)
            w[2 * i:2 * i + 2, 2 * i:2 * i + 2] = block
            structured.append(w.flatten())
    s_mat = torch.stack(structured, 1)  # (d·d, d)
    # The structured matrices lie in the null space, and span it (same dimension, full rank).
    torch.testing.assert_close(null @ (null.T @ s_mat), s_mat, rtol=0, atol=1e-9)
    assert torch.linalg.matrix_rank(s_mat).item() == d
