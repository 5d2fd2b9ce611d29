"""Claims of chapter 6 (vision) beyond the encodings' own modules: ViT without position embeddings, the
convolutional position encoding generator (CPVT's PEG), diffusion timestep embeddings, and graph
positional encodings (Laplacian eigenvectors, random-walk). The small reference computations live here,
written from the papers' definitions.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from peprep.encodings.attention import TransformerBlock
from peprep.encodings.sinusoidal import sinusoidal_encoding

F64 = torch.float64


def test_vit_without_position_embeddings_is_a_bag_of_patches():
    # ViT's "no positional information" row of Table 8 treats the input as a bag of patches: with a [CLS]
    # token in front and no E_pos, shuffling the patches leaves the [CLS] output unchanged (the block is
    # permutation-equivariant on the patches and [CLS] attends to all of them). Adding a learned table breaks it.
    torch.manual_seed(0)
    block = TransformerBlock(d_model=32, n_heads=4).double()
    cls = torch.randn(1, 1, 32, dtype=F64)
    patches = torch.randn(1, 16, 32, dtype=F64)
    perm = torch.randperm(16)
    out = block(torch.cat([cls, patches], 1))[:, 0]
    out_shuffled = block(torch.cat([cls, patches[:, perm]], 1))[:, 0]
    torch.testing.assert_close(out, out_shuffled, rtol=0, atol=1e-12)
    e_pos = torch.randn(1, 17, 32, dtype=F64)  # (N + 1, D) with N = 16
    with_pe = block(torch.cat([cls, patches], 1) + e_pos)[:, 0]
    with_pe_shuffled = block(torch.cat([cls, patches[:, perm]], 1) + e_pos)[:, 0]
    assert not torch.allclose(with_pe, with_pe_shuffled)
    # ViT-B/16 sizes: 224/16 = 14 -> 196 patches + [CLS] = 197 rows; 384/16 = 24 -> 577 rows
    assert (224 // 16) ** 2 + 1 == 197 and (384 // 16) ** 2 + 1 == 577


def peg(x: torch.Tensor, weight: torch.Tensor, height: int, width: int, padding_mode: str = "zeros") -> torch.Tensor:
    """CPVT's PEG: tokens (B, N, C) -> grid -> depthwise 3×3 conv (stride 1, padding 1) + residual -> tokens."""
    b, n, c = x.shape
    grid = x.transpose(1, 2).reshape(b, c, height, width)
    padded = F.pad(grid, (1, 1, 1, 1), mode="constant" if padding_mode == "zeros" else "circular")
    conv = F.conv2d(padded, weight, groups=c)  # (B, C, H, W)
    return (conv + grid).flatten(2).transpose(1, 2)


def test_peg_zero_padding_encodes_absolute_position():
    # A constant input has no position information. After PEG with zero padding, tokens on the border
    # differ from interior tokens (their windows read zeros), so a later layer can tell where a token is;
    # with circular padding every token stays identical. PEG has no table: any H×W works.
    torch.manual_seed(0)
    c = 8
    weight = torch.randn(c, 1, 3, 3, dtype=F64)
    for h, w in ((6, 6), (9, 14)):
        x = torch.ones(1, h * w, c, dtype=F64)
        zero = peg(x, weight, h, w).view(h, w, c)
        circ = peg(x, weight, h, w, "circular").view(h, w, c)
        assert torch.allclose(circ, circ[0, 0].expand_as(circ))
        interior = zero[1:-1, 1:-1]
        assert torch.allclose(interior, interior[0, 0].expand_as(interior))
        assert not torch.allclose(zero[0, 0], zero[0, 1]) and not torch.allclose(zero[0, 1], zero[1, 1])
    # away from the border PEG is translation-equivariant: shifting the content shifts the output
    x = torch.randn(1, 10, 10, c, dtype=F64)
    shifted = torch.roll(x, shifts=(1, 2), dims=(1, 2))
    out = peg(x.reshape(1, 100, c), weight, 10, 10).view(10, 10, c)
    out_s = peg(shifted.reshape(1, 100, c), weight, 10, 10).view(10, 10, c)
    torch.testing.assert_close(out_s[3:8, 4:9], out[2:7, 2:7])


def ddpm_timestep_embedding(timesteps: torch.Tensor, embedding_dim: int) -> torch.Tensor:
    """DDPM's get_timestep_embedding (hojonathanho/diffusion, diffusion_tf/nn.py), re-derived:
    half = d/2, ω_i = exp(−i·ln(10000)/(half − 1)), emb = [sin(t ω), cos(t ω)]."""
    half = embedding_dim // 2
    omega = torch.exp(-torch.arange(half, dtype=F64) * math.log(10000) / (half - 1))
    angles = timesteps.to(F64)[:, None] * omega[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def test_ddpm_timestep_embedding_is_halves_layout_t2t_spacing():
    # The "Transformer sinusoidal position embedding" DDPM adds for the diffusion step t is the
    # tensor2tensor variant: all sines then all cosines, lowest frequency exactly 1/10000 — not the
    # paper's interleaved layout with lowest frequency 10000^(−(d−2)/d).
    t = torch.tensor([0, 1, 17, 500, 999])
    for d in (32, 128):
        ours = sinusoidal_encoding(t, d, layout="halves", spacing="t2t", dtype=F64)
        torch.testing.assert_close(ddpm_timestep_embedding(t, d), ours, rtol=0, atol=1e-12)
        paper = sinusoidal_encoding(t, d, dtype=F64)
        assert not torch.allclose(ours, paper)


def normalized_laplacian(adjacency: torch.Tensor) -> torch.Tensor:
    """Δ = I − D^(−1/2) A D^(−1/2)."""
    deg = adjacency.sum(1)
    inv_sqrt = deg.pow(-0.5)
    return torch.eye(len(adjacency), dtype=F64) - inv_sqrt[:, None] * adjacency * inv_sqrt[None, :]


def cycle_adjacency(n: int) -> torch.Tensor:
    idx = torch.arange(n)
    a = torch.zeros(n, n, dtype=F64)
    a[idx, (idx + 1) % n] = 1
    a[(idx + 1) % n, idx] = 1
    return a


def test_laplacian_eigenvectors_of_a_cycle_are_sinusoids():
    # On a cycle of n nodes (a sequence that wraps around) Δ = I − A/2 has eigenvalues 1 − cos(2πk/n), each
    # eigenspace spanned by cos(2πk j/n) and sin(2πk j/n): Laplacian PE generalises sinusoidal PE. Eigen-
    # vectors are defined only up to sign (and rotation inside a 2-D eigenspace): u and −u are both valid.
    n = 12
    lap = normalized_laplacian(cycle_adjacency(n))
    vals, vecs = torch.linalg.eigh(lap)
    j = torch.arange(n, dtype=F64)
    for k in range(1, n // 2):
        lam = 1 - math.cos(2 * math.pi * k / n)
        space = vecs[:, (vals - lam).abs() < 1e-9]  # (n, 2): a basis chosen by the solver
        assert space.shape[1] == 2
        for wave in (torch.cos(2 * math.pi * k * j / n), torch.sin(2 * math.pi * k * j / n)):
            wave = wave / wave.norm()
            torch.testing.assert_close(space @ (space.T @ wave), wave, rtol=0, atol=1e-9)  # wave lies in the space
    u = vecs[:, 1]
    torch.testing.assert_close(lap @ (-u), vals[1] * (-u))  # the sign flip is just as valid


def random_walk_pe(adjacency: torch.Tensor, k: int) -> torch.Tensor:
    """RWPE (Dwivedi et al. 2022): p_i = [RW_ii, (RW²)_ii, …, (RW^k)_ii], RW = A D^(−1); shape (n, k)."""
    rw = adjacency / adjacency.sum(0, keepdim=True)  # A D^(−1): column-stochastic
    out, power = [], torch.eye(len(adjacency), dtype=F64)
    for _ in range(k):
        power = rw @ power
        out.append(power.diagonal())
    return torch.stack(out, dim=1)


def test_random_walk_pe_is_equivariant_and_sign_free():
    # RWPE is computed from the graph alone, so relabelling the nodes just permutes its rows (no sign or
    # basis choice as with eigenvectors). It is structural, not positional: on a cycle every node has the
    # same return probabilities, while the Laplacian eigenvectors still tell nodes apart.
    torch.manual_seed(0)
    a = (torch.rand(9, 9) < 0.4).double().triu(1)
    a = a + a.T
    a[torch.arange(9), (torch.arange(9) + 1) % 9] = 1  # a ring keeps every node connected
    a[(torch.arange(9) + 1) % 9, torch.arange(9)] = 1
    perm = torch.randperm(9)
    pe = random_walk_pe(a, 6)
    torch.testing.assert_close(random_walk_pe(a[perm][:, perm], 6), pe[perm])
    assert torch.all(pe[:, 0] == 0)  # no self-loops: a walk cannot return in one step
    cyc = random_walk_pe(cycle_adjacency(8), 6)
    assert torch.allclose(cyc, cyc[0].expand_as(cyc))
    assert cyc[0, 1] == pytest.approx(0.5)  # out and back: 1/2
    lap_vecs = torch.linalg.eigh(normalized_laplacian(cycle_adjacency(8)))[1][:, 1:3]
    assert torch.unique(lap_vecs.round(decimals=6), dim=0).shape[0] == 8  # eigenvector PE separates all nodes
