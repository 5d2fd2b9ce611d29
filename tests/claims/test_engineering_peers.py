"""Claims of chapter 7 (engineering) about what peer libraries do — transformers 5.25, rotary-embedding-torch
0.9.1, x-transformers 2.31 (pinned test dependencies, peers.md) — checked by running them.

Tiny random models (hidden 32, 2 heads, 1 layer) on CPU; float32, tolerance 1e-5 unless stated.
"""

from __future__ import annotations

import math

import pytest
import torch

transformers = pytest.importorskip("transformers")

from transformers import DataCollatorWithFlattening, LlamaConfig, LlamaForCausalLM, LlamaModel  # noqa: E402
from transformers.generation.utils import GenerationMixin  # noqa: E402
from transformers.masking_utils import find_packed_sequence_indices  # noqa: E402
from transformers.modeling_flash_attention_utils import prepare_fa_kwargs_from_position_ids  # noqa: E402
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS  # noqa: E402
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding  # noqa: E402

from peprep.encodings.alibi import alibi_bias  # noqa: E402
from peprep.encodings.position_ids import (cu_seqlens_from_position_ids, packed_position_ids,  # noqa: E402
                                           position_ids_from_attention_mask, sequence_ids_from_position_ids)
from peprep.encodings.rope import rope  # noqa: E402
from peprep.encodings.rope_scaling import YarnScaling, yarn_frequencies  # noqa: E402

TOL = 1e-5


def tiny_config(**kwargs) -> LlamaConfig:
    base = dict(hidden_size=32, num_attention_heads=2, num_key_value_heads=2, num_hidden_layers=1,
                intermediate_size=64, vocab_size=50, max_position_embeddings=64)
    return LlamaConfig(**(base | kwargs))


def test_position_ids_match_transformers_generation():
    """generate() numbers real tokens from the attention mask (cumsum − 1, pads 0) and then appends last + 1
    per step — the same ids as `position_ids_from_attention_mask`."""
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1]])
    theirs = GenerationMixin._prepare_position_ids_for_generation(None, mask, {"attention_mask": mask})
    assert torch.equal(theirs, position_ids_from_attention_mask(mask))


def test_packed_helpers_match_transformers():
    """DataCollatorWithFlattening flattens a batch into one row: position ids restart at 0 per document,
    labels get −100 at each document start, cu_seq_lens (int32) and seq_idx are optional, and there is no
    attention_mask. transformers recovers documents from position ids (a new one wherever the id does not
    grow by 1) and cu_seqlens from the positions equal to the row's minimum — as peprep's helpers do."""
    batch = DataCollatorWithFlattening(return_flash_attn_kwargs=True, return_seq_idx=True)(
        [{"input_ids": [5, 6, 7]}, {"input_ids": [8, 9]}, {"input_ids": [1, 2, 3, 4]}])
    assert "attention_mask" not in batch
    assert torch.equal(batch["position_ids"], packed_position_ids([3, 2, 4]))
    assert batch["labels"].tolist() == [[-100, 6, 7, -100, 9, -100, 2, 3, 4]]
    assert batch["cu_seq_lens_q"].dtype == torch.int32
    assert torch.equal(batch["cu_seq_lens_q"], cu_seqlens_from_position_ids(batch["position_ids"]))
    assert torch.equal(find_packed_sequence_indices(batch["position_ids"]), sequence_ids_from_position_ids(batch["position_ids"]))
    (cu_q, _), _ = prepare_fa_kwargs_from_position_ids(batch["position_ids"])
    assert torch.equal(cu_q, cu_seqlens_from_position_ids(batch["position_ids"]))
    assert batch["seq_idx"].tolist() == [[0, 0, 0, 1, 1, 2, 2, 2, 2]]


@pytest.mark.parametrize("impl", ["sdpa", "eager"])
def test_transformers_isolates_packed_documents_only_without_mask_and_cache(impl):
    """A packed row with restarting position_ids equals the documents run separately only when no
    attention_mask is passed and no cache is used: transformers then builds the block-diagonal mask from the
    position ids. With attention_mask = ones, or with use_cache=True, documents attend to each other."""
    config = tiny_config()
    config._attn_implementation = impl
    torch.manual_seed(0)
    model = LlamaModel(config).eval()
    docs = [torch.randint(0, 50, (n,), generator=torch.Generator().manual_seed(n)) for n in (3, 2, 4)]
    ids, pos = torch.cat(docs)[None], packed_position_ids([3, 2, 4])
    with torch.no_grad():
        separate = torch.cat([model(input_ids=d[None], use_cache=False).last_hidden_state for d in docs], 1)
        packed = model(input_ids=ids, position_ids=pos, use_cache=False).last_hidden_state
        with_mask = model(input_ids=ids, position_ids=pos, attention_mask=torch.ones_like(ids), use_cache=False)
        with_cache = model(input_ids=ids, position_ids=pos, use_cache=True)
    assert torch.allclose(packed, separate, atol=TOL)
    assert not torch.allclose(with_mask.last_hidden_state, separate, atol=1e-3)
    assert not torch.allclose(with_cache.last_hidden_state, separate, atol=1e-3)


def test_rotary_buffer_follows_model_to_but_not_from_pretrained(tmp_path):
    """LlamaRotaryEmbedding keeps inv_freq as a non-persistent buffer (absent from state_dict). model.to(bf16)
    casts it to bfloat16; from_pretrained(dtype=bfloat16) re-initialises it in float32."""
    config = tiny_config()
    model = LlamaForCausalLM(config)
    assert not any("inv_freq" in key for key in model.state_dict())
    model.to(torch.bfloat16)
    assert model.model.rotary_emb.inv_freq.dtype == torch.bfloat16
    LlamaForCausalLM(config).save_pretrained(tmp_path)
    loaded = LlamaForCausalLM.from_pretrained(tmp_path, dtype=torch.bfloat16)
    assert loaded.model.layers[0].self_attn.q_proj.weight.dtype == torch.bfloat16
    assert loaded.model.rotary_emb.inv_freq.dtype == torch.float32


def test_dynamic_rope_update_grows_and_resets():
    """rope_type "dynamic": when positions pass the cached length, inv_freq is recomputed for the new length
    (the NTK base grows); a later short input resets it to the original frequencies."""
    config = tiny_config(max_position_embeddings=16, rope_parameters={"rope_type": "dynamic", "factor": 2.0,
                                                                      "rope_theta": 10000.0})
    rotary = LlamaRotaryEmbedding(config)
    original = rotary.inv_freq.clone()
    x = torch.zeros(1, 1, 16)
    rotary(x, torch.arange(32)[None])
    expected, _ = ROPE_INIT_FUNCTIONS["dynamic"](config, seq_len=32)
    assert torch.allclose(rotary.inv_freq, expected) and not torch.allclose(rotary.inv_freq, original)
    assert rotary.inv_freq[0] == original[0] and rotary.inv_freq[-1] < original[-1]
    rotary(x, torch.arange(4)[None])
    assert torch.equal(rotary.inv_freq, original)


def test_rope_parameters_legacy_rope_scaling_and_missing_keys():
    """transformers 5.x: RoPE settings live in config.rope_parameters; the legacy rope_scaling dict (with
    "type") is converted; config.rope_theta is not an attribute any more; a yarn config without "factor"
    raises KeyError when the rotary embedding is built."""
    legacy = tiny_config(rope_scaling={"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32},
                         rope_theta=1e6)
    assert legacy.rope_parameters["rope_type"] == "yarn" and legacy.rope_parameters["rope_theta"] == 1e6
    assert getattr(legacy, "rope_theta", None) is None
    with pytest.raises(KeyError, match="factor"):
        LlamaRotaryEmbedding(tiny_config(rope_parameters={"rope_type": "yarn", "rope_theta": 1e6}))


def test_static_yarn_changes_even_short_inputs():
    """With rope_type "yarn" the frequencies equal peprep's YaRN (official ramp) and cos/sin are multiplied by
    0.1·ln s + 1 at every position: cos at position 0 is 1.1386 for s = 4, not 1 — static scaling also
    changes prompts shorter than the original context."""
    config = tiny_config(max_position_embeddings=128, rope_parameters={
        "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32, "rope_theta": 10000.0})
    rotary = LlamaRotaryEmbedding(config)
    ours, factor = yarn_frequencies(YarnScaling(factor=4.0, original_max_position_embeddings=32), 16)
    assert torch.allclose(rotary.inv_freq.double(), ours, rtol=1e-6)
    cos, _ = rotary(torch.zeros(1, 1, 16), torch.arange(3)[None])
    assert math.isclose(factor, 0.1 * math.log(4.0) + 1.0)
    assert torch.allclose(cos[0, 0], torch.full((16,), factor, dtype=torch.float32), atol=1e-6)


def test_rotary_embedding_torch_caches_at_most_8192_positions():
    """rotary-embedding-torch caches frequencies only while offset + length <= cache_max_seq_len (8192);
    beyond that it computes them afresh — still correct (interleaved layout)."""
    from rotary_embedding_torch import RotaryEmbedding

    rotary = RotaryEmbedding(8)
    assert rotary.cache_max_seq_len == 8192 and "cached_freqs" not in rotary.state_dict()
    x = torch.randn(1, 1, 3, 8, generator=torch.Generator().manual_seed(0))
    out = rotary.rotate_queries_or_keys(x, offset=9000)
    assert rotary.cached_freqs_seq_len == 0  # nothing cached for this call
    assert torch.allclose(out, rope(x, torch.arange(9000, 9003), layout="interleaved"), atol=5e-3)


def test_x_transformers_alibi_reuses_its_bias_buffer_bottom_right():
    """x-transformers' AlibiPositionalBias keeps the last bias in a non-persistent buffer and serves smaller
    requests by slicing its bottom-right corner — the KV-cache alignment; values are −m·|i − j|."""
    from x_transformers.x_transformers import AlibiPositionalBias

    module = AlibiPositionalBias(heads=4, total_heads=4)
    module(8, 8)
    assert "bias" not in module.state_dict()
    sliced = module(2, 5)
    assert torch.allclose(sliced, AlibiPositionalBias(heads=4, total_heads=4)(2, 5))
    assert torch.allclose(sliced, alibi_bias(4, 2, 5, form="symmetric").float())
