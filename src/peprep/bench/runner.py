"""Interleaved timing and the result record every benchmark returns.

`interleave` runs competitors in rounds: round r calls each competitor once, starting with competitor
r mod n, so none is always first after a pause (cold caches, a neighbour's burst of work). A noisy
neighbour then slows every competitor in the same round, and the ratio of medians stays meaningful
when absolute times do not.

JSON form of a result (`Result.to_json`), as `peprep bench --json` prints it:

    {"name": str, "unit": str, "ours": float, "peers": {name: float}, "ratio_best_peer_over_ours": float}

`ratio_best_peer_over_ours` is the best peer's value divided by ours, "best" being the lowest for
times ("ms", "s") and the highest for rates ("GB/s", "tokens/s", "%"). So for times a ratio above 1
means peprep is faster; for rates a ratio below 1 means peprep is faster. Where no peer exists (the
web budgets) the design budget stands in as the one peer, named "budget (design.md)".
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

HIGHER_IS_BETTER = {"GB/s", "tokens/s", "% of copy bandwidth", "requests/s"}


def interleave(
    competitors: dict[str, Callable[[], object]], *, rounds: int, warmup: int = 1, max_seconds: float | None = None
) -> dict[str, list[float]]:
    """Seconds per call of each competitor over `rounds` interleaved rounds (fewer if `max_seconds` runs out).

    Each competitor is called `warmup` times first (allocator, caches, lazy imports). Garbage collection
    is paused during a round so that it lands between rounds, not inside one competitor's call.
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    names = list(competitors)
    for name in names:
        for _ in range(warmup):
            competitors[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    started = time.perf_counter()
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        gc.collect()
        gc.disable()
        try:
            for name in order:
                t0 = time.perf_counter()
                competitors[name]()
                samples[name].append(time.perf_counter() - t0)
        finally:
            gc.enable()
        if max_seconds is not None and time.perf_counter() - started > max_seconds and r >= 2:
            break
    return samples


def medians(samples: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in samples.items()}


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass
class Result:
    """One benchmark line: our value, each peer's, in one unit; `details` only feed the Markdown report."""

    name: str
    unit: str
    ours: float
    peers: dict[str, float]
    details: dict[str, object] = field(default_factory=dict)

    @property
    def higher_is_better(self) -> bool:
        return self.unit in HIGHER_IS_BETTER

    @property
    def best_peer(self) -> tuple[str, float] | None:
        if not self.peers:
            return None
        pick = max if self.higher_is_better else min
        name = pick(self.peers, key=self.peers.__getitem__)
        return name, self.peers[name]

    @property
    def ratio(self) -> float:
        best = self.best_peer
        if best is None or self.ours == 0:
            return float("nan")
        return best[1] / self.ours

    @property
    def speedup(self) -> float:
        """How many times better ours is than the best peer, whatever the unit's direction."""
        r = self.ratio
        return 1 / r if self.higher_is_better and r else r

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "unit": self.unit,
            "ours": _round(self.ours),
            "peers": {k: _round(v) for k, v in self.peers.items()},
            "ratio_best_peer_over_ours": _round(self.ratio),
        }


def _round(x: float) -> float:
    """Four significant digits: more would be noise on this machine."""
    return float(f"{x:.4g}")
