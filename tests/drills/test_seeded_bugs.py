"""`drill check` fails each seeded wrong implementation on the right property, with the right diagnosis.

One fixture per common bug (tests/drills/fixtures/<drill>/<bug>.py); each row names the property
that must fail and the bug id the report must name (None: fails without a named bug, the message is
checked instead). Runs in-process (the subprocess path is tested in test_broken_files.py).
"""

from __future__ import annotations

import pytest

from peprep.drills import check_file

SEEDED = [
    # drill, fixture, property that fails, status, bug id, text in the report
    ("sinusoidal", "halves_layout", "values", "fail", "halves-layout", "前后两半"),
    ("sinusoidal", "off_by_one", "values", "fail", "off-by-one", "p + 1"),
    ("sinusoidal", "exponent", "values", "fail", "exponent-i-over-d", "−2i/d"),
    ("sinusoidal", "fixed_table", "large-positions", "error", None, "IndexError"),
    ("learned-pe", "register_buffer", "parameter", "fail", "register-buffer", "nn.Parameter"),
    ("learned-pe", "no_offset", "offset", "fail", "no-offset", "offset"),
    ("learned-pe", "no_range_check", "out-of-range", "fail", None, "实际抛出 RuntimeError"),
    ("learned-pe", "dtype_promotion", "dtype", "fail", "dtype-promotion", "bfloat16"),
    ("rope-interleaved", "half_layout", "values", "fail", "half-layout", "前后半布局"),
    ("rope-interleaved", "angles_bf16", "bf16", "fail", "angles-in-bf16", "float32"),
    ("rope-interleaved", "uses_arange", "batched-positions", "fail", None, "带偏移"),
    ("rope-half", "interleaved_layout", "values", "fail", "interleaved-layout", "交错布局"),
    ("rope-half", "wrong_direction", "values", "fail", "wrong-direction", "−mθ"),
    ("rope-kv-cache", "forget_offset", "decode", "fail", "no-offset", "缓存长度 P"),
    ("rope-kv-cache", "off_by_one", "decode", "fail", "off-by-one", "P+1"),
    ("rope-kv-cache", "rotate_v", "prefill", "fail", "rotate-v", "值向量"),
    ("rope-kv-cache", "rotate_v", "cache-contents", "fail", "rotate-v", "v_cache"),
    ("rope-kv-cache", "sdpa_is_causal", "chunked-prefill", "fail", "causal-top-left", "is_causal"),
    ("rope-kv-cache", "sdpa_is_causal", "decode", "fail", "causal-top-left", "右下角"),
    ("rope-kv-cache", "fixed_table", "long-cache", "error", None, "IndexError"),
    ("rope-cache-module", "persistent_buffer", "state-dict", "fail", "persistent-buffer", "persistent=False"),
    ("rope-cache-module", "buffer_cast", "after-bf16-cast", "fail", "buffer-cast-to-bf16", "bf16"),
    ("rope-cache-module", "fixed_table", "beyond-cache", "error", None, "IndexError"),
    ("rope-permute", "global_permutation", "rows", "fail", "not-per-head", "每个头内部"),
    ("rope-permute", "inverse", "rows", "fail", "inverse-direction", "2j"),
    ("rope-permute", "inverse", "scores", "fail", None, "分数"),
    ("alibi", "naive_slopes", "slopes-other", "fail", "naive-geometric", "2 的幂"),
    ("alibi", "wrong_sign", "bias-square", "fail", "wrong-sign", "符号"),
    ("alibi", "top_left", "bias-cache", "fail", "query-top-left", "最后 t_q 个"),
    ("t5-bucket", "sign_flipped", "sign", "fail", "sign-flipped", "键位置 − 查询位置"),
    ("t5-bucket", "no_halving", "exact-buckets", "fail", "no-halving", "减半"),
    ("t5-bucket", "no_clamp", "log-buckets", "fail", "no-clamp", "num_buckets − 1"),
    ("t5-bucket", "unidirectional_abs", "unidirectional", "fail", "unidirectional-abs", "桶 0"),
    ("rope-scaling", "ntk_base_times_s", "ntk", "fail", "ntk-base-times-s", "d/(d−2)"),
    ("rope-scaling", "ratio_ramp", "yarn", "fail", "ratio-ramp", "floor/ceil"),
    ("rope-scaling", "no_mscale", "yarn", "fail", "attention-factor", "0.1·ln s + 1"),
    ("position-ids", "arange", "left-padding", "fail", "ignores-mask", "arange(T)"),
    ("position-ids", "off_by_one", "no-padding", "fail", "cumsum-off-by-one", "减 1"),
    ("position-ids", "pads_minus_one", "pads-valid", "fail", None, "−1"),
    ("position-ids", "next_is_t", "next-step", "fail", "next-is-T", "mask.sum(-1)"),
    ("packed-positions", "continues", "positions", "fail", "positions-continue", "从 0 开始"),
    ("packed-positions", "plain_causal", "mask", "fail", "plain-causal", "块对角"),
    ("packed-positions", "cu_int64", "cu-seqlens", "fail", None, "int32"),
]


@pytest.mark.parametrize("drill,fixture,check,status,bug,text", SEEDED, ids=[f"{r[0]}/{r[1]}/{r[2]}" for r in SEEDED])
def test_seeded_bug_fails_with_the_right_message(fixture_file, drill, fixture, check, status, bug, text):
    report = check_file(fixture_file(drill.replace("-", "_"), fixture), drill_name=drill, seed=7, in_process=True)
    assert report.status == "failed"
    result = report.result(check)
    assert result.status == status, (result.status, result.detail)
    assert result.bug == bug, (result.bug, result.detail)
    assert text in f"{result.case} {result.detail} {result.bug_message or ''}"
    assert result.case  # the (smallest) failing input is named


@pytest.mark.parametrize("fixture", ["bloom_form", "query_shift"])
def test_alibi_accepts_forms_equal_under_softmax(fixture_file, fixture):
    """Bloom's m·j and a per-row shift of −m(i − j) give the same causal attention: not bugs."""
    assert check_file(fixture_file("alibi", fixture), drill_name="alibi", seed=7, in_process=True).passed


def test_every_seeded_fixture_is_in_the_table():
    from pathlib import Path

    root = Path(__file__).resolve().parent / "fixtures"
    on_disk = {(p.parent.name, p.stem) for p in root.glob("*/*.py") if p.parent.name != "broken"}
    listed = {(d.replace("-", "_"), f) for d, f, *_ in SEEDED} | {("alibi", "bloom_form"), ("alibi", "query_shift")}
    assert on_disk == listed
