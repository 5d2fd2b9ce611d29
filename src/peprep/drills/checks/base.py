"""What every drill's checks share: calling the candidate safely, comparing tensors, naming the bug.

A property is a function `prop(c: Candidate) -> None` that tries inputs from the smallest to the
largest and raises `Fail` at the first input whose output differs from the reference, so the input a
report shows is the smallest one that fails (in that property's order). When a wrong output equals a
known wrong implementation (`Bug`) on that input, the failure names the bug.

This module runs inside the checker's subprocess (or a test), never in the web server: it imports torch.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import torch
from torch import Tensor


class Fail(Exception):
    """A property does not hold: on which input, what differed, and (if recognised) which bug it is."""

    def __init__(self, case: str, detail: str, bug: "Bug | None" = None):
        super().__init__(detail)
        self.case, self.detail, self.bug = case, detail, bug


class CandidateError(Exception):
    """The candidate's code raised: the exception, and the line of the candidate file it came from."""

    def __init__(self, case: str, call: str, exc: BaseException, line: int | None):
        where = f"（候选文件第 {line} 行）" if line else ""
        super().__init__(f"{call} 抛出 {type(exc).__name__}: {exc}{where}")
        self.case, self.exc, self.line = case, exc, line


@dataclass(frozen=True)
class Bug:
    """A known wrong implementation: an id the tests assert on, and what to tell the candidate."""

    id: str
    message: str


@dataclass
class Candidate:
    """The candidate's module, loaded from `path`, with calls that report where they failed."""

    module: ModuleType
    path: Path
    seed: int = 0  # fresh per check unless the caller fixes it; reported so a failure can be replayed
    case: str = field(default="")

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        fn = getattr(self.module, name)
        try:
            return fn(*args, **kwargs)
        except (Exception, SystemExit) as exc:  # the candidate's bug, not ours: report it with its line
            raise CandidateError(self.case, f"调用 {name}", exc, self.line_of(exc)) from exc

    def line_of(self, exc: BaseException) -> int | None:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == self.path.resolve()]
        return frames[-1].lineno if frames else None


def fmt(x: Any, limit: int = 8) -> str:
    """A short, readable rendering of a value for a report line."""
    if isinstance(x, Tensor):
        flat = x.detach().flatten()
        if x.is_floating_point():
            shown = ", ".join(f"{v:.4g}" for v in flat[:limit].double().tolist())
        else:
            shown = ", ".join(str(v) for v in flat[:limit].tolist())
        more = ", …" if flat.numel() > limit else ""
        return f"tensor[{tuple(x.shape)}, {str(x.dtype).replace('torch.', '')}]([{shown}{more}])"
    return repr(x)


def mismatch(expected: Tensor, got: Any, *, atol: float, rtol: float = 0.0, name: str = "输出",
             check_dtype: bool = True) -> str | None:
    """None if `got` matches `expected` (shape, dtype, values within atol + rtol·|expected|); else why not."""
    if not isinstance(got, Tensor):
        return f"{name} 应为 torch.Tensor，实际是 {type(got).__name__}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"{name} 形状应为 {tuple(expected.shape)}，实际是 {tuple(got.shape)}"
    if check_dtype and got.dtype != expected.dtype:
        return f"{name} dtype 应为 {expected.dtype}，实际是 {got.dtype}"
    if expected.dtype == torch.bool or not expected.is_floating_point():
        wrong = got.to(expected.dtype) != expected
        if not wrong.any():
            return None
        idx = tuple(int(i) for i in wrong.nonzero()[0])
        return (f"{name}[{', '.join(map(str, idx))}] 应为 {expected[idx].item()}，实际是 {got[idx].item()}"
                f"（共 {int(wrong.sum())} 处不同）")
    e, g = expected.double(), got.detach().double()
    if not torch.isfinite(g).all():
        idx = tuple(int(i) for i in (~torch.isfinite(g)).nonzero()[0])
        return f"{name}[{', '.join(map(str, idx))}] 是 {g[idx].item()}（出现 NaN/inf）"
    err = (g - e).abs()
    bad = err > atol + rtol * e.abs()
    if not bad.any():
        return None
    excess = (err - atol - rtol * e.abs()).flatten()
    idx = tuple(int(i) for i in torch.unravel_index(excess.argmax(), err.shape))
    return (f"{name}[{', '.join(map(str, idx))}] 应为 {e[idx].item():.6g}，实际是 {g[idx].item():.6g}"
            f"（最大误差 {err.max().item():.3g}，容差 {atol:.3g}；共 {int(bad.sum())} 个元素超出）")


def which_bug(got: Any, variants: dict[Bug, Callable[[], Any]], *, atol: float) -> Bug | None:
    """The first known bug whose output equals `got` on this input (None if none does)."""
    if not isinstance(got, Tensor):
        return None
    for bug, make in variants.items():
        try:
            value = make()
        except Exception:  # a variant that cannot run on this input cannot be the explanation
            continue
        if isinstance(value, Tensor) and value.shape == got.shape and mismatch(
                value, got, atol=atol, check_dtype=False) is None:
            return bug
    return None


def expect(c: Candidate, case: str, expected: Tensor, got: Any, *, atol: float, rtol: float = 0.0, name: str = "输出",
           variants: dict[Bug, Callable[[], Any]] | None = None, check_dtype: bool = True) -> None:
    """Raise `Fail` naming the case (and the bug, if recognised) when `got` is not `expected`."""
    problem = mismatch(expected, got, atol=atol, rtol=rtol, name=name, check_dtype=check_dtype)
    if problem is not None:
        bug = which_bug(got, variants or {}, atol=max(atol, 1e-6))
        raise Fail(case, problem, bug)


def expect_raises(c: Candidate, case: str, run: Callable[[], Any], label: str,
                  allowed: tuple[type[BaseException], ...], what: str) -> None:
    """Raise `Fail` unless `run()` raises one of `allowed` (a NotImplementedError is reported as such)."""
    c.case = case
    try:
        got = run()
    except allowed:
        return
    except NotImplementedError as exc:
        raise CandidateError(case, label, exc, c.line_of(exc)) from exc
    except Exception as exc:
        allowed_names = " 或 ".join(a.__name__ for a in allowed)
        raise Fail(case, f"{what}：应抛出 {allowed_names}，实际抛出 {type(exc).__name__}: {exc}") from None
    raise Fail(case, f"{what}：应抛出异常，实际返回了 {fmt(got)}")


def call_method(c: Candidate, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a method of an object the candidate built; its exceptions become `CandidateError`."""
    try:
        return fn(*args, **kwargs)
    except (Exception, SystemExit) as exc:
        raise CandidateError(c.case, label, exc, c.line_of(exc)) from exc


def randn(*shape: int, seed: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Standard normal values drawn in float64 from `seed`, then rounded to `dtype`."""
    g = torch.Generator().manual_seed(seed % (2**63))
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)


def randint(low: int, high: int, shape: tuple[int, ...], *, seed: int) -> Tensor:
    g = torch.Generator().manual_seed(seed % (2**63))
    return torch.randint(low, high, shape, generator=g)
