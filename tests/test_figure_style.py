"""peprep.figure_style: the one place every figure's backend and fonts are set."""

from __future__ import annotations

from matplotlib import font_manager

from peprep.figure_style import CJK_FONT, pyplot


def test_pyplot_draws_without_a_display_in_the_shared_fonts():
    plt = pyplot(font_size=7)
    assert plt.get_backend().lower() == "agg"
    assert plt.rcParams["font.sans-serif"][0] == CJK_FONT and plt.rcParams["font.size"] == 7
    assert plt.rcParams["axes.unicode_minus"] is False


def test_the_cjk_font_is_installed_so_chinese_labels_do_not_fall_back_to_boxes():
    path = font_manager.findfont(font_manager.FontProperties(family=CJK_FONT), fallback_to_default=False)
    assert "NotoSansCJK" in path.replace("-", "").replace("_", "")
