"""Peers are imported as they are. timm is the exception: importing `timm` imports torchvision, which
cannot load beside the CPU torch (../shared/peers.md, Q1). We register empty `timm` and `timm.layers`
packages pointing at timm's folders, so that only the pure-torch modules we name are executed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

import pytest


def import_timm_layers(*modules: str):
    """`import_timm_layers("pos_embed_sincos")` -> the module timm.layers.pos_embed_sincos, without torchvision."""
    if "timm" in sys.modules:  # already registered (by us or another test module)
        root = list(sys.modules["timm"].__path__)[0]
    else:
        spec = importlib.util.find_spec("timm")
        if spec is None:
            pytest.fail("timm is not installed: run bin/setup (it installs timm --no-deps)")
        root = os.path.dirname(spec.origin)
    for name, path in (("timm", root), ("timm.layers", os.path.join(root, "layers"))):
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [path]
            sys.modules[name] = package
    loaded = [importlib.import_module(f"timm.layers.{m}") for m in modules]
    return loaded[0] if len(loaded) == 1 else loaded


@pytest.fixture(scope="session")
def timm_layers():
    """The loader above, as a fixture: `timm_layers("pos_embed_sincos")`."""
    return import_timm_layers
