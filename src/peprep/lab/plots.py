"""Plots of lab results (drawn as every figure is: `peprep.figure_style`), shared by the CLI and experiments/figures."""

from __future__ import annotations

from pathlib import Path

STYLE = {  # row -> (colour, line style, marker); RoPE variants share RoPE's colour family
    "sinusoidal": ("#d62728", "-", "o"),
    "learned": ("#8c564b", "-", "X"),
    "rope": ("#1f77b4", "-", "s"),
    "rope+pi": ("#6baed6", "--", "v"),
    "rope+ntk": ("#08519c", "--", "^"),
    "rope+yarn": ("#17becf", "--", "D"),
    "alibi": ("#2ca02c", "-", "P"),
    "t5": ("#ff7f0e", "-", "*"),
    "nope": ("#7f7f7f", "-", "h"),
}


def _save(fig, path: Path) -> None:
    """PNG at dpi 110, reduced to a 256-colour palette so that it stays well under 150 KB."""
    from PIL import Image

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256).save(path, optimize=True)


def plot_extrapolation(results: dict, path: Path) -> None:
    """Left: perplexity against L_eval (log2 axis), Press et al. 2022 Fig. 1 style. Right: mean loss at each
    position (blocks of L_train/2 positions) inside the longest windows — where the models break."""
    from peprep.figure_style import pyplot

    plt = pyplot(font_size=9)
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    cfg = results["config"]
    values = [c["ppl"] for row in results["rows"] for c in results["eval"][row].values() if "ppl" in c]
    low, high = min(values) * 0.95, max(values) * 1.05
    lens, train_len = cfg["eval_lens"], cfg["train_len"]
    longest = max(lens)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.5, 4.4))
    for row in results["rows"]:
        colour, line, marker = STYLE.get(row, ("black", "-", "o"))
        cells = {n: results["eval"][row][str(n)] for n in lens}
        points = [(n, c["ppl"]) for n, c in cells.items() if "ppl" in c]
        label = row + ("（超出 L_train：无此位置，不适用）" if any("error" in c for c in cells.values()) else "")
        left.plot([n for n, _ in points], [v for _, v in points], line, color=colour, marker=marker, ms=4.5, lw=1.4,
                  label=label)
        at_longest = cells[longest]
        if "position_loss" in at_longest:
            block = train_len // 2
            centres = [block * (k + 0.5) for k in range(len(at_longest["position_loss"]))]
            right.plot(centres, at_longest["position_loss"], line, color=colour, lw=1.3, label=row)
    left.axvline(train_len, color="0.5", ls=":", lw=1)
    left.set_xscale("log", base=2)
    left.set_xticks(lens, [str(n) for n in lens])
    left.set_yscale("log")
    ticks = [t for t in (2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 80, 100, 200, 500) if low <= t <= high]
    left.yaxis.set_major_locator(FixedLocator(ticks))
    left.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    left.yaxis.set_minor_formatter(NullFormatter())
    left.set_xlabel(f"评测窗口长度 L_eval（训练长度 L_train = {train_len}）")
    left.set_ylabel("困惑度（字节级，越低越好）")
    left.set_title("困惑度随评测长度（不重叠窗口，全部词元）")
    left.legend(fontsize=7.5, ncol=2, loc="upper left")
    right.axvline(train_len, color="0.5", ls=":", lw=1)
    right.set_xlabel(f"窗口内的位置（L_eval = {longest}，每 {train_len // 2} 个位置取平均）")
    right.set_ylabel("交叉熵（奈特/字节）")
    right.set_title(f"在 {longest} 长的窗口里，损失从哪个位置开始变坏")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.25)
    env = results["environment"]
    first = next(iter(results["train"].values()))
    fig.suptitle(f"短训长测：{first['parameters'] / 1e6:.2f}M 参数字节级语言模型，pydoc 文本，"
                 f"{cfg['steps']} 步 × 批量 {cfg['batch_size']} × 长度 {train_len}；torch {env['torch']}，{env['threads']} 线程",
                 fontsize=9)
    _save(fig, path)
    plt.close(fig)
