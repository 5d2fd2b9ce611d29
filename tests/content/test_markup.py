"""Math and code are told apart from prose, so grounding compares formulas with formulas."""

from peprep.content.markup import normalize_tex, split_markup


def test_inline_and_display_math_are_found_in_order():
    m = split_markup("设 $\\theta_i = b^{-2i/d}$，则 $$PE(p+k) = M_k PE(p)$$ 成立。")
    assert [(f.tex, f.display) for f in m.formulas] == [("\\theta_i = b^{-2i/d}", False), ("PE(p+k) = M_k PE(p)", True)]
    assert "theta" not in m.prose and "成立" in m.prose


def test_dollars_in_code_are_not_math_and_code_is_not_prose():
    m = split_markup("用 `x = $a$` 和\n```python\ny = '$b$'\nRoPE()\n```\n然后 $c$")
    assert [f.tex for f in m.formulas] == ["c"]
    assert "RoPE" not in m.prose and len(m.code) == 2


def test_escaped_dollar_and_prices_are_not_math():
    m = split_markup("花了 \\$5 和 $3 与 $4 之间")
    assert m.formulas == []


def test_offsets_point_into_the_original_text():
    text = "第一行\n第二行 $x^2$"
    (f,) = split_markup(text).formulas
    assert text[f.offset:].startswith("$x^2$")


def test_prose_keeps_offsets():
    text = "a $x$ b"
    assert len(split_markup(text).prose) == len(text)


def test_normalize_tex_ignores_whitespace_only():
    assert normalize_tex("a + b \n= c") == normalize_tex("a+b=c") == "a+b=c"
    assert normalize_tex("\\frac{1}{2}") != normalize_tex("\\frac{2}{1}")
