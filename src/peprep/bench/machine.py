"""What a benchmark run ran on, and the memory-copy bandwidth it is measured against.

Copy bandwidth is measured on already-touched memory: both buffers are allocated and written once
before timing, so page faults (which a fresh allocation pays, and which the peers pay on every call)
are not part of the baseline. Bytes moved = bytes read + bytes written = 2 × buffer size, the same
accounting as an in-place rotation of q and k.
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime, timezone

from peprep.bench.runner import interleave, medians


def copy_bandwidth(n_bytes: int, dtype=None, *, rounds: int = 7) -> float:
    """GB/s of `dst.copy_(src)` for two warm buffers of `n_bytes` each (read + write counted)."""
    import torch

    dtype = dtype or torch.float32
    n = max(1, n_bytes // torch.empty((), dtype=dtype).element_size())
    src = torch.ones(n, dtype=dtype)
    dst = torch.zeros(n, dtype=dtype)  # written once: its pages are mapped before timing
    seconds = medians(interleave({"copy": lambda: dst.copy_(src)}, rounds=rounds))["copy"]
    return 2 * src.numel() * src.element_size() / seconds / 1e9


def describe() -> dict[str, object]:
    """CPU, cores, memory, load, library versions and torch's threads: the header of RESULTS.md."""
    import torch

    info: dict[str, object] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "caches": _caches(),
        "logical cpus": os.cpu_count(),
        "memory": _memory(),
        "load average (1, 5, 15 min)": _load(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": torch.__version__,
        "torch threads": torch.get_num_threads(),
        "torch cpu capability": torch.backends.cpu.get_cpu_capability(),
    }
    for package in ("transformers", "rotary-embedding-torch", "x-transformers"):
        info[package] = _version(package)
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _caches() -> str:
    """L1d/L2/L3 sizes of cpu0 from sysfs ("L1d 48K, L2 2048K, L3 …"), or "unknown"."""
    root = "/sys/devices/system/cpu/cpu0/cache"
    found = []
    try:
        for index in sorted(n for n in os.listdir(root) if n.startswith("index")):
            with open(f"{root}/{index}/level") as f:
                level = f.read().strip()
            with open(f"{root}/{index}/type") as f:
                kind = f.read().strip()
            with open(f"{root}/{index}/size") as f:
                size = f.read().strip()
            if kind != "Instruction":
                found.append(f"L{level}{'d' if kind == 'Data' else ''} {size}")
    except OSError:
        return "unknown"
    return ", ".join(found) or "unknown"


def _memory() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(f.readline().split()[1])
        return f"{kb / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def _load() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
