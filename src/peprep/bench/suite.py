"""Run a selection of benchmarks and collect what the report needs: results, machine, notes, profile.

`peprep bench` is a thin face over `run_suite`; `peprep.bench.report` turns a `Suite` into JSON or
the Markdown of `benchmarks/RESULTS.md`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

from peprep.bench.runner import Result

NAMES = ("rope", "attention", "lab", "web")


@dataclass
class Suite:
    results: list[Result] = field(default_factory=list)
    machine: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    profile: dict[str, list[dict]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    quick: bool = False


def run_suite(names: tuple[str, ...] = NAMES, *, quick: bool = False, profile: bool = True,
              say: Callable[[str], None] = lambda _: None) -> Suite:
    """Run the named benchmarks in order; a benchmark that cannot run here is noted, not fatal."""
    unknown = set(names) - set(NAMES)
    if unknown:
        raise ValueError(f"unknown benchmark(s) {sorted(unknown)}; choose from {', '.join(NAMES)}")
    # Passive OpenMP waiting, as the lab sets it: on a machine shared with other processes, spinning
    # threads steal the CPU the measured code needs. Only effective if torch is not imported yet.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from peprep.bench.machine import describe

    suite = Suite(machine=describe(), quick=quick)
    for name in names:
        say(f"bench {name} …")
        started = time.perf_counter()
        runner = _RUNNERS[name]
        suite.results += runner(suite, quick=quick, profile=profile)
        suite.seconds[name] = time.perf_counter() - started
    suite.machine["load average after"] = describe()["load average (1, 5, 15 min)"]
    suite.machine["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY", "")
    return suite


def _rope(suite: Suite, *, quick: bool, profile: bool) -> list[Result]:
    from peprep.bench import rope

    results = rope.run(quick=quick)
    if profile:
        shape = rope.QUICK_SHAPES[0] if quick else rope.SHAPES[0]
        suite.profile = {f"{name} — {shape} float32": rows for name, rows in rope.profile_peers(shape).items()}
    return results


def _attention(suite: Suite, *, quick: bool, profile: bool) -> list[Result]:
    from peprep.bench import attention

    return attention.run(quick=quick)


def _lab(suite: Suite, *, quick: bool, profile: bool) -> list[Result]:
    from peprep.bench import lab

    if why := lab.available():
        suite.notes.append(f"lab: skipped — {why}")
        return []
    return lab.run(quick=quick)


def _web(suite: Suite, *, quick: bool, profile: bool) -> list[Result]:
    from peprep.bench import web

    return web.run(quick=quick)


_RUNNERS = {"rope": _rope, "attention": _attention, "lab": _lab, "web": _web}
