"""How every figure is drawn: matplotlib without a display, Chinese set in Noto Sans CJK SC.

The figure scripts (experiments/figures/<chapter>.py) and the lab's plots (`peprep.lab.plots`) all
start here, so one place decides the look: the Agg backend (no screen on these machines), CJK text in
Noto Sans CJK SC (Debian's fonts-noto-cjk, which bin/setup installs) with DejaVu Sans as the fallback,
and minus signs drawn as ASCII hyphens (`axes.unicode_minus` off).
"""

from __future__ import annotations

CJK_FONT = "Noto Sans CJK SC"


def pyplot(font_size: float = 10):
    """matplotlib.pyplot, on Agg, with the shared fonts and the given base font size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": [CJK_FONT, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "font.size": font_size,
    })
    return plt
