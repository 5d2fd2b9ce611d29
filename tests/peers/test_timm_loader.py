"""The timm loader gives the pure-torch helpers without executing timm/__init__ (which needs torchvision)."""

import sys


def test_timm_pos_embed_modules_load_without_torchvision(timm_layers):
    sincos, rel = timm_layers("pos_embed_sincos", "pos_embed_rel")
    assert callable(sincos.build_sincos2d_pos_embed) and callable(rel.gen_relative_position_index)
    assert "torchvision" not in sys.modules
