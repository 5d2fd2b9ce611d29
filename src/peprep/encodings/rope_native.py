"""The compiled RoPE kernel (rope_kernel.c): built with the machine's C compiler on first use, then cached.

Why it exists, and what it computes, is in rope_kernel.c: one pass over q and k whatever the dtype,
the same numbers as `rope.apply_rotary` bit for bit. `rope_fast` uses it when it loads and falls back
to its blocked torch path when it does not (no C compiler, or `PEPREP_NATIVE=0`); `reason()` says why.

The library is built with `-march=native`, so the cache key holds the CPU's model and feature flags as
well as the source and the flags: a cache shared between machines never hands one a binary built for
another. Builds go to a temporary name and are renamed into place, so two processes building at once
both end with a whole library. Nothing is compiled when the module is imported.

Threads: ctypes releases the GIL for the length of a foreign call, so `rope_fast`'s Python threads
run the kernel on their chunks truly in parallel.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SOURCE = Path(__file__).with_name("rope_kernel.c")
FLAGS = ("-O3", "-march=native", "-ffp-contract=off", "-std=gnu11", "-fPIC", "-shared")
# Tried first, dropped if the compiler refuses them (the vector-width hint is an x86 option; clang and
# other targets reject it): the kernel is correct either way, only its speed differs.
OPTIONAL_FLAGS = ("-mprefer-vector-width=512",)
DTYPES = ("float32", "bfloat16")  # float16 stays on the torch path (rope_kernel.c says why)
LAYOUTS = ("interleaved", "half")
# x, heads, sb, sh, st, cos, sin, table_sb, half, row_begin, row_end, t_begin, t_end (rope_kernel.c)
_ARGTYPES = [ctypes.c_void_p, *[ctypes.c_int64] * 4, ctypes.c_void_p, ctypes.c_void_p, *[ctypes.c_int64] * 6]

_lock = threading.Lock()
_state: dict[str, object] = {}  # "library": ctypes.CDLL | None, "reason": str


def kernel(layout: str, dtype: str):
    """The compiled function for (layout, dtype), or None (then `reason()` says why)."""
    library = _load()
    if library is None or dtype not in DTYPES or layout not in LAYOUTS:
        return None
    return getattr(library, f"rope_{layout}_{dtype}")


def reason() -> str:
    """Why the kernel is not in use, or 'loaded from <path>'."""
    _load()
    return str(_state["reason"])


def _load() -> ctypes.CDLL | None:
    with _lock:
        if "reason" not in _state:
            try:
                _state["library"], _state["reason"] = _build_and_open()
            except OSError as error:  # no writable cache folder, or the library would not load
                _state["library"], _state["reason"] = None, f"could not build or load the kernel: {error}"
        return _state["library"]  # type: ignore[return-value]


def _build_and_open() -> tuple[ctypes.CDLL | None, str]:
    if os.environ.get("PEPREP_NATIVE", "1") == "0":
        return None, "disabled by PEPREP_NATIVE=0"
    if sys.byteorder != "little":
        return None, "big-endian machine (the bfloat16 kernel reads a pair as one little-endian word)"
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return None, "no C compiler (cc or gcc) on PATH"
    source = SOURCE.read_bytes()
    flags = " ".join(FLAGS + OPTIONAL_FLAGS).encode()
    key = hashlib.sha256(b"\0".join([source, flags, compiler.encode(), _cpu_identity()]))
    path = _cache_dir() / f"rope_kernel-{key.hexdigest()[:16]}.so"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=path.parent)
        os.close(fd)
        try:
            for attempt in (FLAGS + OPTIONAL_FLAGS, FLAGS):
                done = subprocess.run([compiler, *attempt, "-o", tmp, str(SOURCE)], capture_output=True, text=True)
                if done.returncode == 0:
                    break
            else:
                return None, f"{compiler} failed on {SOURCE.name}: {done.stderr.strip()[-500:]}"
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    library = ctypes.CDLL(str(path))
    for layout in LAYOUTS:
        for dtype in DTYPES:
            fn = getattr(library, f"rope_{layout}_{dtype}")
            fn.argtypes, fn.restype = _ARGTYPES, None
    return library, f"loaded from {path}"


def _cache_dir() -> Path:
    """$PEPREP_CACHE, else $XDG_CACHE_HOME/peprep or ~/.cache/peprep; a temporary folder if unwritable."""
    root = os.environ.get("PEPREP_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "peprep"
    for folder in (Path(root) / "native", Path(tempfile.gettempdir()) / f"peprep-native-{os.getuid()}"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder
        except OSError:
            continue
    raise OSError(f"no writable folder for the compiled RoPE kernel (tried {root} and the temp folder)")


def _cpu_identity() -> bytes:
    """Machine, model name and feature flags: what -march=native compiles for."""
    wanted = ("model name", "flags", "Features", "CPU part")
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    seen = sorted({line for line in lines if line.split(":")[0].strip() in wanted})
    return "\n".join([platform.machine(), platform.processor(), *seen]).encode()
