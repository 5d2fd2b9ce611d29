"""peprep.lab's parts: corpus, position schemes, model, evaluation windows, cache keys."""

from __future__ import annotations

import pytest
import torch

from peprep.encodings.learned import PositionOutOfRange
from peprep.encodings.rope_scaling import DefaultRope, LinearScaling, NTKAwareScaling, YarnScaling
from peprep.lab.cache import Cache, cache_key
from peprep.lab.data import decode, encode, eval_windows, load_corpus
from peprep.lab.extrapolation import QUICK, ExtrapolationConfig, build_model, rope_scaling_for
from peprep.lab.model import ModelConfig, TinyLM
from peprep.lab.positions import ENCODINGS, make_scheme

SMALL = ModelConfig(d_model=32, n_heads=2, n_layers=1)


def test_corpus_is_cpython_help_text_as_bytes():
    corpus = load_corpus()
    assert len(corpus.train) > 300_000 and 0.09 < len(corpus.valid) / (len(corpus.train) + len(corpus.valid)) < 0.11
    assert decode(encode("assert x, ‘y’")) == "assert x, ‘y’"  # UTF-8 round trip
    assert int(corpus.train.max()) < 256 and len(corpus.sha256) == 64


def test_eval_windows_score_the_same_targets_at_every_length():
    tokens = torch.arange(1000)
    for length in (64, 128, 256):
        x, y = eval_windows(tokens, length, 512)
        assert x.shape == (512 // length, length) and torch.equal(y.flatten(), tokens[1:513])
    with pytest.raises(ValueError):
        eval_windows(tokens, 96, 512)


@pytest.mark.parametrize("name", ENCODINGS)
def test_every_scheme_runs_causally(name):
    torch.manual_seed(0)
    model = TinyLM(SMALL, make_scheme(name, d_model=32, n_heads=2, train_len=16)).eval()
    idx = torch.randint(0, 256, (2, 16))
    logits = model(idx)
    assert logits.shape == (2, 16, 256)
    changed = idx.clone()
    changed[:, 10] = (changed[:, 10] + 1) % 256  # a later token must not change earlier predictions
    assert torch.allclose(model(changed)[:, :10], logits[:, :10], atol=1e-5)


def test_learned_table_refuses_positions_past_training_length():
    model = TinyLM(SMALL, make_scheme("learned", d_model=32, n_heads=2, train_len=16)).eval()
    with pytest.raises(PositionOutOfRange):
        model(torch.zeros(1, 17, dtype=torch.long))


def test_rope_rows_use_the_registry_with_scale_l_eval_over_l_train():
    cfg = ExtrapolationConfig()
    assert rope_scaling_for("rope+pi", 1.0, cfg) == DefaultRope()
    assert rope_scaling_for("rope", 8.0, cfg) == DefaultRope()
    assert rope_scaling_for("rope+pi", 8.0, cfg) == LinearScaling(8.0)
    assert rope_scaling_for("rope+ntk", 4.0, cfg) == NTKAwareScaling(4.0)
    assert rope_scaling_for("rope+yarn", 2.0, cfg) == YarnScaling(2.0, cfg.train_len)


def test_models_are_identically_initialised_for_every_encoding():
    a, b = build_model("nope", QUICK), build_model("alibi", QUICK)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_cache_keys_and_disabled_cache(tmp_path):
    assert cache_key({"a": 1, "b": 2}) == cache_key({"b": 2, "a": 1}) != cache_key({"a": 1, "b": 3})
    cache = Cache(tmp_path)
    cache.save_json("eval", "k" * 64, "x.json", {"v": 1})
    assert cache.load_json("eval", "k" * 64, "x.json") == {"v": 1}
    assert Cache(None).load_json("eval", "k" * 64, "x.json") is None


def test_config_rejects_bad_lengths():
    with pytest.raises(ValueError):
        ExtrapolationConfig(eval_lens=(32, 64))
    with pytest.raises(ValueError):
        ExtrapolationConfig(eval_tokens=1000)
    with pytest.raises(ValueError):
        ExtrapolationConfig(encodings=("xpos",))


def test_experiments_readme_states_the_full_config():
    import json
    import re
    from dataclasses import asdict
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "experiments" / "extrapolation" / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(.*?)\n```", readme, re.S).group(1)
    expected = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(ExtrapolationConfig()).items()}
    assert json.loads(block) == expected
