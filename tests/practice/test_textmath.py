"""Formulas in the terminal: LaTeX as readable Unicode text."""

from __future__ import annotations

import pytest

from peprep.practice.textmath import latex_to_text, math_to_text


@pytest.mark.parametrize("latex, text", [
    (r"\mathrm{Attn}(PX)=P\,\mathrm{Attn}(X)", "Attn(PX) = P Attn(X)"),
    (r"\theta_i = 10000^{-2i/d}", "θᵢ = 10000^(-2i/d)"),
    (r"\frac{q^\top k}{\sqrt{d}}", "qᵀk/√d"),
    (r"X\in\mathbb{R}^{n\times d}", "X ∈ ℝ^(n×d)"),
    (r"\mathrm{PE}_{(pos,2i)} = \sin\left(\frac{pos}{10000^{2i/d}}\right)", "PE_(pos,2i) = sin(pos/(10000^(2i/d)))"),
    (r"q_m^\top k_n = \mathrm{Re}[\langle q, k\rangle e^{i(m-n)\theta}]", "qₘᵀkₙ = Re[⟨q,k⟩e^(i(m-n)θ)]"),
    (r"R_{\Theta,m} = \begin{pmatrix} \cos m\theta & -\sin m\theta \\ \sin m\theta & \cos m\theta \end{pmatrix}",
     "R_(Θ,m) = (cos mθ, -sin mθ; sin mθ, cos mθ)"),
    (r"\operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + B\right)V", "softmax(QKᵀ/√dₖ+B)V"),
    (r"\log_2 n \le \hat{x}_i", "log₂ n ≤ x̂ᵢ"),
    (r"f(x) = \text{if } x > 0", "f(x) = if x > 0"),
    (r"\sum_{i=0}^{d/2-1} \alpha_i", "Σᵢ₌₀^(d/2-1)αᵢ"),
    (r"\frac{1}{T}\mathbf{1}^\top F(X) + \frac{a}{b}", "1/T·1ᵀF(X)+a/b"),  # a factor after a fraction
    (r"e^{\frac{1}{2}x} \ne \{x_0,\dots,x_t\}", "e^(1/2·x) ≠ {x₀,…,xₜ}"),
])
def test_latex_to_text(latex, text):
    assert latex_to_text(latex) == text


def test_math_in_markdown_is_replaced_inline_and_display():
    assert math_to_text(r"因为 $\theta_i$ 随 $i$ 变小") == "因为 θᵢ 随 i 变小"
    assert math_to_text(r"见 $$a^2$$ 式", code=True) == "见 \n\n`a²`\n\n 式"
    assert "\\" not in math_to_text(r"$\mathbb{E}[\|x\|_2]$")
