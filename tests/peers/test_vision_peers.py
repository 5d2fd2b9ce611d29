"""Differential tests: peprep's vision encodings against implementations nobody here wrote.

Peers (versions pinned in pyproject.toml): timm 1.0.31 (pure-torch layers through the torchvision-free
loader, the `timm_layers` fixture), transformers 5.25.0 (ViT, ViTMAE, Swin, Qwen2-VL, Qwen2.5-VL,
Qwen3-VL, Whisper), positional-encodings 6.0.3. The official MAE and MoCo v3 formulas are re-derived
in this file from their code (facebookresearch/mae util/pos_embed.py, facebookresearch/moco-v3 vits.py).

Tolerances: 2-D sin-cos entries lie in [−1, 1]; peers that form p·ω in float32 (timm, positional-encodings,
MAE's numpy float32) get atol 1e-5 on grids below 32, transformers' ViTMAE (float64 inside) 1e-6.
Resampled tables (entries ≈ 0.02) are compared at atol 1e-6 because the peers interpolate in float32.
Integer outputs (Swin indices, M-RoPE position ids) must be equal exactly. RoPE cos/sin from peers are
float32 with angles up to ~100 rad: atol 1e-5.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from peprep.encodings.mrope import QWEN3_VL_SECTION, Text, Vision, mrope_angles, mrope_position_ids
from peprep.encodings.rope import cos_sin
from peprep.encodings.rope_2d import axial_angles
from peprep.encodings.sincos_2d import grid_coordinates, sincos_2d_grid
from peprep.encodings.sinusoidal import sinusoidal_table
from peprep.encodings.swin_bias import relative_position_bias, relative_position_index, resize_bias_table
from peprep.encodings.vit_resample import resample_grid

F64 = torch.float64
SINCOS_ATOL = 1e-5


# --- 2-D sin-cos -------------------------------------------------------------------------------------


@pytest.mark.parametrize("h,w,d", [(14, 14, 768), (7, 12, 64)])
def test_timm_sincos2d_layouts(timm_layers, h, w, d):
    sincos = timm_layers("pos_embed_sincos")
    default = sincos.build_sincos2d_pos_embed([h, w], dim=d)  # (H·W, D)
    torch.testing.assert_close(default.double(), sincos_2d_grid(h, w, d, layout="timm", dtype=F64), rtol=0, atol=SINCOS_ATOL)
    inter = sincos.build_sincos2d_pos_embed([h, w], dim=d, interleave_sin_cos=True)
    torch.testing.assert_close(inter.double(), sincos_2d_grid(h, w, d, layout="row-first", dtype=F64), rtol=0, atol=SINCOS_ATOL)
    # reverse_coord stacks (W, H): the grid is then enumerated column-major, so compare on a square grid
    if h == w:
        mae_like = sincos.build_sincos2d_pos_embed([h, w], dim=d, interleave_sin_cos=True, reverse_coord=True)
        torch.testing.assert_close(mae_like.double(), sincos_2d_grid(h, w, d, layout="mae", dtype=F64).view(h, w, d)
                                   .transpose(0, 1).reshape(h * w, d), rtol=0, atol=SINCOS_ATOL)


def test_transformers_vitmae_is_row_first_with_zero_cls():
    from transformers.models.vit_mae.modeling_vit_mae import build_2d_sinusoidal_position_embedding

    theirs = build_2d_sinusoidal_position_embedding(6, 9, embed_dim=64, cls_token=True)
    ours = sincos_2d_grid(6, 9, 64, layout="row-first", cls_token=True, dtype=F64)
    torch.testing.assert_close(theirs.double(), ours, rtol=0, atol=1e-6)
    assert torch.all(theirs[0] == 0)
    mae = sincos_2d_grid(6, 9, 64, layout="mae", dtype=F64)
    assert not torch.allclose(theirs[1:].double(), mae, atol=1e-3)  # not MAE's official channel order


def test_positional_encodings_2d_is_interleaved_per_axis():
    from positional_encodings.torch_encodings import PositionalEncoding2D

    theirs = PositionalEncoding2D(64)(torch.zeros(1, 5, 8, 64))[0]  # (H, W, C): first axis = rows
    ours = sincos_2d_grid(5, 8, 64, layout="pe2d", dtype=F64).view(5, 8, 64)
    torch.testing.assert_close(theirs.double(), ours, rtol=0, atol=SINCOS_ATOL)


def mae_official(embed_dim: int, grid_size: int) -> np.ndarray:
    """facebookresearch/mae get_2d_sincos_pos_embed (cls_token=False), re-derived in numpy float32."""
    grid_h = np.arange(grid_size, dtype=np.float32)
    grid_w = np.arange(grid_size, dtype=np.float32)
    grid = np.stack(np.meshgrid(grid_w, grid_h), axis=0).reshape(2, -1)  # 'xy' meshgrid: grid[0] = column

    def one_d(d, pos):
        omega = 1.0 / 10000 ** (np.arange(d // 2, dtype=np.float32) / (d / 2.0))
        out = np.einsum("m,d->md", pos, omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    return np.concatenate([one_d(embed_dim // 2, grid[0]), one_d(embed_dim // 2, grid[1])], axis=1)


def mocov3_official(embed_dim: int, h: int, w: int) -> torch.Tensor:
    """facebookresearch/moco-v3 build_2d_sincos_position_embedding (without the [CLS] row), re-derived."""
    grid_w, grid_h = torch.meshgrid(torch.arange(w, dtype=torch.float32), torch.arange(h, dtype=torch.float32), indexing="ij")
    pos_dim = embed_dim // 4
    omega = 1.0 / (10000.0 ** (torch.arange(pos_dim, dtype=torch.float32) / pos_dim))
    out_w = grid_w.flatten()[:, None] * omega
    out_h = grid_h.flatten()[:, None] * omega
    return torch.cat([out_w.sin(), out_w.cos(), out_h.sin(), out_h.cos()], dim=1)


def test_official_mae_and_mocov3_formulas():
    torch.testing.assert_close(torch.from_numpy(mae_official(128, 14)).double(), sincos_2d_grid(14, 14, 128, dtype=F64),
                               rtol=0, atol=SINCOS_ATOL)
    # MoCo v3 on its square grid: the "w" coordinate walks the rows of the row-major token sequence
    torch.testing.assert_close(mocov3_official(128, 14, 14).double(), sincos_2d_grid(14, 14, 128, layout="row-first", dtype=F64),
                               rtol=0, atol=SINCOS_ATOL)


# --- resampling learned tables --------------------------------------------------------------------------


@pytest.mark.parametrize("antialias", [True, False])
def test_timm_resample_abs_pos_embed(timm_layers, antialias):
    pos_embed = timm_layers("pos_embed")
    table = torch.randn(1, 1 + 14 * 14, 48, generator=torch.Generator().manual_seed(0)) * 0.02
    for new in ((24, 24), (10, 17)):
        theirs = pos_embed.resample_abs_pos_embed(table, list(new), old_size=[14, 14], num_prefix_tokens=1, antialias=antialias)
        ours = resample_grid(table.double(), (14, 14), new, antialias=antialias)
        torch.testing.assert_close(theirs.double(), ours, rtol=0, atol=1e-6)
    assert torch.equal(pos_embed.resample_abs_pos_embed(table, [14, 14], num_prefix_tokens=1), table)


def test_transformers_vit_interpolate_pos_encoding():
    from transformers import ViTConfig
    from transformers.models.vit.modeling_vit import ViTEmbeddings

    config = ViTConfig(hidden_size=32, image_size=224, patch_size=16)
    emb = ViTEmbeddings(config)
    assert emb.position_embeddings.shape == (1, 197, 32)  # 14·14 patches + [CLS]
    with torch.no_grad():
        emb.position_embeddings.normal_(std=0.02, generator=torch.Generator().manual_seed(1))
        theirs = emb.interpolate_pos_encoding(torch.zeros(1, 1 + 24 * 24, 32), 384, 384)
    ours = resample_grid(emb.position_embeddings.detach().double(), (14, 14), (24, 24))
    torch.testing.assert_close(theirs.double(), ours, rtol=0, atol=1e-6)


# --- Swin relative position bias ------------------------------------------------------------------------


@pytest.mark.parametrize("window", [(7, 7), (12, 12), (4, 6)])
def test_timm_swin_relative_position_index(timm_layers, window):
    rel = timm_layers("pos_embed_rel")
    assert torch.equal(rel.gen_relative_position_index(window), relative_position_index(window))


def test_transformers_swin_relative_position_bias():
    from transformers.models.swin.modeling_swin import SwinRelativePositionBias

    module = SwinRelativePositionBias(num_heads=3, window_size=(7, 7))
    with torch.no_grad():
        module.relative_position_bias_table.normal_(std=0.02, generator=torch.Generator().manual_seed(2))
    assert torch.equal(module.relative_position_index.view(49, 49), relative_position_index((7, 7)))
    theirs = module()  # (1, 3, 49, 49)
    ours = relative_position_bias(module.relative_position_bias_table.detach(), (7, 7))
    assert torch.equal(theirs.reshape(3, 49, 49), ours)


def test_timm_resize_rel_pos_bias_table_simple(timm_layers):
    rel = timm_layers("pos_embed_rel")
    table = torch.randn(169, 4, generator=torch.Generator().manual_seed(3)) * 0.02
    theirs = rel.resize_rel_pos_bias_table_simple(table, (12, 12), (23 * 23, 4))
    torch.testing.assert_close(theirs.double(), resize_bias_table(table.double(), (7, 7), (12, 12)), rtol=0, atol=1e-6)


# --- 2-D RoPE in Qwen2-VL's vision encoder --------------------------------------------------------------


def test_qwen2vl_vision_rotary_is_axial_row_first_half_layout():
    from transformers.models.qwen2_vl.configuration_qwen2_vl import Qwen2VLVisionConfig
    from transformers.models.qwen2_vl.modeling_qwen2_vl import Qwen2VLVisionRotaryEmbedding

    config = Qwen2VLVisionConfig(embed_dim=64, num_heads=2)  # head_dim 32
    rotary = Qwen2VLVisionRotaryEmbedding(config)
    rows, cols = grid_coordinates(6, 8)
    cos, sin = rotary(torch.zeros(1), torch.stack([rows, cols], dim=-1))  # position ids (N, 2): (h, w)
    base = config.rope_parameters["rope_theta"]
    ours_cos, ours_sin = cos_sin(axial_angles(rows, cols, 32, base, first="y"), "half")
    assert base == 10000.0
    torch.testing.assert_close(cos.double(), ours_cos, rtol=0, atol=1e-6)
    torch.testing.assert_close(sin.double(), ours_sin, rtol=0, atol=1e-6)


# --- M-RoPE -----------------------------------------------------------------------------------------------


def tiny_qwen2vl():
    from transformers import Qwen2VLConfig
    from transformers.models.qwen2_vl.modeling_qwen2_vl import Qwen2VLModel

    text = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64,
                vocab_size=64, bos_token_id=None, eos_token_id=None, pad_token_id=None,
                rope_parameters={"rope_type": "default", "mrope_section": [4, 6, 6], "rope_theta": 10000.0})
    vision = dict(depth=1, embed_dim=32, hidden_size=32, num_heads=2, mlp_ratio=2, spatial_merge_size=2)
    return Qwen2VLModel(Qwen2VLConfig(text_config=text, vision_config=vision))


def token_types(segments):
    """mm_token_type_ids for transformers: 0 text, 1 image, 2 video; plus the grids by kind."""
    types, images, videos = [], [], []
    for seg in segments:
        if isinstance(seg, Text):
            types += [0] * seg.length
        else:
            t, h, w = seg.grid_thw
            kind = 2 if t > 1 else 1
            types += [kind] * (t * (h // 2) * (w // 2))
            (videos if kind == 2 else images).append(list(seg.grid_thw))
    grid = lambda g: torch.tensor(g) if g else None  # noqa: E731
    return torch.tensor([types]), grid(images), grid(videos)


@pytest.fixture(scope="module")
def qwen2vl():
    return tiny_qwen2vl()


@pytest.mark.parametrize("segments", [
    [Text(3), Vision((1, 4, 6)), Text(2)],
    [Text(5), Vision((1, 32, 48)), Text(4)],
    [Vision((1, 8, 8)), Text(3), Vision((1, 6, 10)), Text(1)],
])
def test_qwen2vl_get_rope_index_images(qwen2vl, segments):
    types, images, videos = token_types(segments)
    theirs, delta = qwen2vl.get_rope_index(torch.zeros_like(types), types, image_grid_thw=images, video_grid_thw=videos)
    ours, our_delta = mrope_position_ids(segments)
    assert torch.equal(theirs[:, 0], ours)
    assert int(delta) == our_delta


def test_qwen2vl_get_rope_index_video_differs_after_the_video(qwen2vl):
    # A video with 8 temporal grid steps on a 2×2 LLM grid: temporal ids run to start + 7, but transformers
    # 5.x starts the next text at start + max(h, w) = start + 2, reusing ids the video already took; the
    # paper ("max position ID of the preceding modality + 1") and transformers 4.x start at start + 8.
    segments = [Text(2), Vision((8, 4, 4)), Text(3)]
    types, images, videos = token_types(segments)
    theirs, _ = qwen2vl.get_rope_index(torch.zeros_like(types), types, image_grid_thw=images, video_grid_thw=videos)
    spatial, _ = mrope_position_ids(segments, advance="spatial")
    paper, _ = mrope_position_ids(segments)
    assert torch.equal(theirs[:, 0], spatial)
    assert theirs[0, 0, -3:].tolist() == [4, 5, 6] and paper[0, -3:].tolist() == [10, 11, 12]


def test_qwen25vl_get_rope_index_absolute_time():
    from transformers import Qwen2_5_VLConfig
    from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VLModel

    text = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1, intermediate_size=64,
                vocab_size=64, bos_token_id=None, eos_token_id=None, pad_token_id=None,
                rope_parameters={"rope_type": "default", "mrope_section": [4, 6, 6], "rope_theta": 10000.0})
    vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32, spatial_merge_size=2,
                  tokens_per_second=2, fullatt_block_indexes=[0], window_size=56)
    model = Qwen2_5_VLModel(Qwen2_5_VLConfig(text_config=text, vision_config=vision))
    segments = [Text(2), Vision((3, 4, 4), time_interval=2 * 1.0), Text(2)]  # 2 frames/tube at 2 fps: 1 s per step
    types, images, videos = token_types(segments)
    theirs, _ = model.get_rope_index(torch.zeros_like(types), types, image_grid_thw=images, video_grid_thw=videos,
                                     second_per_grid_ts=torch.tensor([1.0]))
    ours, _ = mrope_position_ids(segments, advance="spatial")
    assert torch.equal(theirs[:, 0], ours)
    assert theirs[0, 0, 2:14].unique().tolist() == [2, 4, 6]


def test_qwen2vl_text_rotary_sections():
    from transformers.models.qwen2_vl.configuration_qwen2_vl import Qwen2VLTextConfig
    from transformers.models.qwen2_vl.modeling_qwen2_vl import Qwen2VLRotaryEmbedding

    config = Qwen2VLTextConfig(hidden_size=256, num_attention_heads=2, num_key_value_heads=1,
                               rope_parameters={"rope_type": "default", "mrope_section": [16, 24, 24], "rope_theta": 1e6})
    ids, _ = mrope_position_ids([Text(4), Vision((2, 8, 12)), Text(3)])
    cos, sin = Qwen2VLRotaryEmbedding(config)(torch.zeros(1, dtype=torch.float32), ids[:, None, :])  # (1, L, 128)
    ours_cos, ours_sin = cos_sin(mrope_angles(ids, 128, 1e6), "half")
    torch.testing.assert_close(cos[0].double(), ours_cos, rtol=0, atol=1e-5)
    torch.testing.assert_close(sin[0].double(), ours_sin, rtol=0, atol=1e-5)


def test_qwen3vl_text_rotary_interleaved_sections():
    from transformers.models.qwen3_vl.configuration_qwen3_vl import Qwen3VLTextConfig
    from transformers.models.qwen3_vl.modeling_qwen3_vl import Qwen3VLTextRotaryEmbedding

    config = Qwen3VLTextConfig(hidden_size=256, num_attention_heads=2, num_key_value_heads=1, head_dim=128,
                               rope_parameters={"rope_type": "default", "mrope_section": list(QWEN3_VL_SECTION),
                                                "mrope_interleaved": True, "rope_theta": 5e5})
    ids, _ = mrope_position_ids([Text(4), Vision((1, 8, 12)), Text(3)])
    cos, sin = Qwen3VLTextRotaryEmbedding(config)(torch.zeros(1, dtype=torch.float32), ids[:, None, :])
    ours_cos, ours_sin = cos_sin(mrope_angles(ids, 128, 5e5, QWEN3_VL_SECTION, interleaved=True), "half")
    torch.testing.assert_close(cos[0].double(), ours_cos, rtol=0, atol=1e-5)
    torch.testing.assert_close(sin[0].double(), ours_sin, rtol=0, atol=1e-5)


# --- audio: Whisper's encoder sinusoids -------------------------------------------------------------------


def test_whisper_encoder_sinusoids_are_halves_t2t():
    from transformers.models.whisper.modeling_whisper import sinusoids

    theirs = sinusoids(1500, 384)  # (n_audio_ctx, d): tiny.en width
    ours = sinusoidal_table(1500, 384, layout="halves", spacing="t2t", dtype=F64)
    torch.testing.assert_close(theirs.double(), ours, rtol=0, atol=2e-4)  # float32 angles up to 1499 rad
