"""RoPE applied fast on CPU: rotate q and k in place (or into a caller's buffer), no full-size temporaries.

The readable reference is `peprep.encodings.rope.apply_rotary` (x·cos + rotate(x)·sin). This module
computes the same map (tests/encodings/test_rope_fast.py checks equality with the reference in both
layouts, all dtypes, partial rotary, per-sequence positions) and is what `peprep bench` times against
`transformers`' `apply_rotary_pos_emb` and `rotary-embedding-torch`.

Where the peers' time goes (torch.profiler, `peprep.bench.rope.profile_peers`, in benchmarks/RESULTS.md):
every call allocates fresh full-size tensors — `rotate_half` makes a negation and a `cat`, then x·cos,
rot·sin and their sum are three more (about 4.5× the bytes of q and k for transformers) — and each is
streamed through memory and page-faulted in by the kernel. Here q and k are rotated where they are,
reading and writing each once, on one of two backends (`backend=`; "auto" picks the first that applies):

- "native": the compiled kernel `rope_kernel.c` (`rope_native` builds it with the machine's C compiler
  on first use): each pair is loaded, widened, rotated in float32 and rounded in registers — bit for
  bit the reference's numbers, in float32 and bfloat16. Calls are tiles of a few rows × a few dozen
  positions, so the table rows a tile reads serve every head from L1; `torch.get_num_threads()` Python
  threads take tiles from a shared list (ctypes releases the GIL during each call).
- "torch": blocked torch ops, for float16 and float64, and wherever no C compiler is found:

1. Precompute once per sequence length a compact table (`RotaryTable`): e^{i m θ_j} as complex numbers
   (T, R/2) for the interleaved layout, cos/sin (T, R/2) for the half layout — shared by every batch
   row and head, where the peers broadcast a (T, R) cos and sin.
2. Interleaved layout: channels (2j, 2j+1) are one complex number, so the rotation is one in-place
   complex multiply, `view_as_complex(x).mul_(table)`: q is read once and written once.
   Half layout: pairs (j, j + R/2) take six in-place ops on the two halves and a scratch for a·sin.
3. Work in blocks of at most `BLOCK_ELEMENTS` (128 KB of float32), so the ops of a block run on data
   already in the core's L2 and memory sees one read and one write of q and k. bfloat16 and float16
   blocks are widened to float32 in a per-thread scratch, rotated, and rounded once, as the reference
   rounds once. Once warm, nothing is allocated (a test checks).
4. Blocks are smaller than ATen's intra-op grain (32768 elements), so no op starts an OpenMP team
   (whose barrier stalls whenever another process holds a core). Parallelism is `torch.get_num_threads()`
   Python threads pulling groups of `GROUP_BLOCKS` blocks from a shared iterator, each group handled by
   `torch._foreach_*` ops: one call per op for the whole group, in C++, GIL released. Measured here:
   per-block Python calls in two threads ran *slower* than one thread (the GIL changed hands after
   every 5 µs op); foreach groups in two threads ran 1.6-1.9× faster than one.

On the torch path bfloat16 stays well below float32 in GB/s: torch has no bfloat16 complex type, so a
block costs three ops (widen, multiply, round) instead of one — the gap the native kernel closes.

Tolerance (tests/encodings/test_rope_fast.py): the native kernel equals the reference exactly. The
torch path: float32 within 2e-6 of the reference for |x| = O(1) (a complex multiply rounds a·c − b·s in
a different order); bfloat16/float16 within one unit in the last place of the output dtype (both round
a float32 result once; the two float32 results differ by float32 round-off, which can move a value
across a rounding boundary).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Literal

import torch
from torch import Tensor

from peprep.encodings import rope_native
from peprep.encodings.rope import LAYOUTS, Layout, angles, inv_freq

Backend = Literal["auto", "native", "torch"]
BACKENDS = ("auto", "native", "torch")

# Just under ATen's GRAIN_SIZE (32768 elements), so every op of a block runs serially on the thread
# that calls it; 128 KB of float32, so a block and its scratch stay in the core's L2 between ops.
BLOCK_ELEMENTS = 32767
GROUP_BLOCKS = 4  # blocks per foreach call: 512 KB of float32 scratch per thread, in its L2 (8 measured slower)
MIN_BLOCKS_PER_THREAD = 8  # below this, handing blocks to a thread costs more than it saves
# Positions per call of the compiled kernel: ~256 KB of float32, so a call's ctypes overhead (µs) is
# under 1% of its work and two threads still get dozens of chunks each to balance.
NATIVE_CHUNK_ELEMENTS = 1 << 16
NATIVE_TABLE_TILE_BYTES = 1 << 15  # the cos and sin rows one call of the kernel reads: within L1 (48 KB)


@dataclass(frozen=True)
class RotaryTable:
    """Precomputed rotation for positions (T,) or per sequence (B, T): what `apply_rotary_` consumes.

    cos, sin: (…, T, R/2) real, one entry per pair; rot = cos + i·sin (complex), the interleaved form.
    They are float32 (complex64) unless built from float64 angles.
    """

    layout: Layout
    cos: Tensor
    sin: Tensor
    rot: Tensor

    @property
    def rotary_dim(self) -> int:
        return 2 * self.cos.shape[-1]

    @classmethod
    def from_angles(cls, angle: Tensor, layout: Layout = "interleaved") -> "RotaryTable":
        """From m·θ_j, shape (…, T, R/2), as returned by `rope.angles`."""
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        cos, sin = angle.cos().contiguous(), angle.sin().contiguous()
        return cls(layout, cos, sin, torch.complex(cos, sin))

    @classmethod
    def from_positions(
        cls, positions: Tensor, rotary_dim: int, *, base: float = 10000.0, layout: Layout = "interleaved"
    ) -> "RotaryTable":
        """θ_j = base^(−2j/R) from float64, angles m·θ_j in float32: the same numbers as `rope.rope`."""
        return cls.from_angles(angles(positions, inv_freq(rotary_dim, base)), layout)

    @classmethod
    def from_cos_sin(cls, cos: Tensor, sin: Tensor, layout: Layout = "interleaved") -> "RotaryTable":
        """From the reference's full (…, T, R) cos/sin (`rope.cos_sin`), keeping one entry per pair."""
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        half = cos.shape[-1] // 2
        pick = (lambda t: t[..., 0::2]) if layout == "interleaved" else (lambda t: t[..., :half])
        c, s = pick(cos).contiguous(), pick(sin).contiguous()
        if not c.is_floating_point() or c.dtype not in (torch.float32, torch.float64):
            c, s = c.float(), s.float()
        return cls(layout, c, s, torch.complex(c, s))


def apply_rotary_(
    x: Tensor, table: RotaryTable | Tensor, sin: Tensor | None = None, *, layout: Layout | None = None,
    out: Tensor | None = None, backend: Backend = "auto",
) -> Tensor:
    """RoPE on the first R channels of x (B, H, T, D) in place — or into `out`, leaving x untouched.

    Same numbers as `rope.apply_rotary(x, cos, sin, layout=...)`. Pass a `RotaryTable` (fast: built
    once per length), or the reference's cos and sin with `layout` (the table is built per call).
    Per-sequence tables (B, T, ·) rotate batch row b with table b. Returns the rotated tensor.
    `backend`: "native" (the compiled kernel), "torch" (blocked torch ops), or "auto" (native where
    it loads and covers the dtype, else torch).
    """
    if not isinstance(table, RotaryTable):
        if sin is None:
            raise TypeError("pass a RotaryTable, or cos and sin (…, T, R) with layout=")
        table = RotaryTable.from_cos_sin(table, sin, layout or "interleaved")
    elif layout is not None and layout != table.layout:
        raise ValueError(f"the table is for the {table.layout!r} layout, not {layout!r}")
    _check(x, table, out)
    native = _native_kernel(x, table, backend)
    if native is not None:
        dest = x if out is None else out.copy_(x)  # the kernel rotates in place, so rotate the copy
        _run(_native_chunks(dest, table, native), _call_each, group=1)
        return dest
    dest = x if out is None else out
    if out is not None and table.rotary_dim < x.shape[-1]:
        out[..., table.rotary_dim:].copy_(x[..., table.rotary_dim:])  # pass-through channels
    kernel, blocks = _plan(x.dtype, table)
    _run(blocks(x, dest), kernel)
    return dest


def apply_rotary_qk_(q: Tensor, k: Tensor, table: RotaryTable, *, backend: Backend = "auto") -> tuple[Tensor, Tensor]:
    """Rotate q and k in place with one table, in one pass of the thread pool (q and k must not overlap)."""
    _check(q, table, None)
    _check(k, table, None)
    if q.dtype != k.dtype:
        raise ValueError(f"q and k must have one dtype, got {q.dtype} and {k.dtype}")
    native = _native_kernel(q, table, backend)
    if native is not None:
        _run([*_native_chunks(q, table, native), *_native_chunks(k, table, native)], _call_each, group=1)
        return q, k
    kernel, blocks = _plan(q.dtype, table)
    _run([*blocks(q, q), *blocks(k, k)], kernel)
    return q, k


def backend_in_use(dtype: torch.dtype, layout: Layout = "interleaved") -> str:
    """Which path `backend="auto"` takes for this dtype and layout, and why: for reports."""
    table = RotaryTable.from_positions(torch.arange(1), 2, layout=layout)
    if _native_kernel(torch.empty(0, dtype=dtype), table, "auto") is not None:
        return f"native ({rope_native.reason()})"
    if str(dtype).removeprefix("torch.") not in rope_native.DTYPES:
        return f"torch (the compiled kernel does not cover {dtype})"
    return f"torch ({rope_native.reason()})"


# --- the compiled kernel ----------------------------------------------------------------------------


def _native_kernel(x: Tensor, table: RotaryTable, backend: Backend):
    """The compiled function for this call, or None for the torch path.

    The kernel reads raw pointers, so it is only handed what it can read: tensors in CPU memory and a
    contiguous float32 table (anything else takes the torch path, or is refused with backend="native").
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "torch":
        return None
    on_cpu = x.device.type == "cpu" and table.cos.device.type == "cpu" and table.sin.device.type == "cpu"
    readable = table.cos.dtype == torch.float32 and table.cos.is_contiguous() and table.sin.is_contiguous()
    fn = rope_native.kernel(table.layout, str(x.dtype).removeprefix("torch.")) if on_cpu and readable else None
    if fn is None and backend == "native":
        if not on_cpu:
            raise ValueError(f"the compiled kernel works on CPU tensors, not {x.device.type}")
        if not readable:
            raise ValueError(f"the compiled kernel takes a contiguous float32 table, not {table.cos.dtype}")
        raise RuntimeError(f"the compiled RoPE kernel is not available for {x.dtype}: {rope_native.reason()}")
    return fn


def _native_chunks(x: Tensor, table: RotaryTable, fn) -> list[tuple]:
    """Argument tuples for `fn`: tiles of a few rows (b·H + h) × NATIVE_TABLE_TILE_BYTES of positions.

    Every row reads the same table, so a tile reads its table rows from memory once and from L1 for
    its other rows; consecutive tiles share their positions, so the next few rows find them in L2.
    Walking each row over all of T instead streams the whole table once per head — for bfloat16 twice
    the bytes of x itself (8 bytes of cos and sin per 4-byte pair): measured 1.1-1.3× slower here.
    The kernel uses x's own strides, so any (B, H, T, D) view with a unit channel stride works as it is.
    """
    batch, heads, length, channels = x.shape
    sb, sh, st, _ = x.stride()
    half = table.rotary_dim // 2
    table_sb = length * half if table.cos.ndim == 3 else 0
    rows = batch * heads
    t_tile = min(length, max(1, NATIVE_TABLE_TILE_BYTES // (2 * 4 * half)))  # float32 cos and sin
    rows_per_tile = min(rows, max(1, NATIVE_CHUNK_ELEMENTS // (t_tile * channels)))
    head = (fn, x.data_ptr(), heads, sb, sh, st, table.cos.data_ptr(), table.sin.data_ptr(), table_sb, half)
    return [
        (*head, r0, min(r0 + rows_per_tile, rows), t0, min(t0 + t_tile, length))
        for t0 in range(0, length, t_tile)
        for r0 in range(0, rows, rows_per_tile)
    ]


def _call_each(group: list[tuple]) -> None:
    for fn, *args in group:
        fn(*args)  # ctypes releases the GIL for the call


def _check(x: Tensor, table: RotaryTable, out: Tensor | None) -> None:
    if torch.is_grad_enabled() and (x.requires_grad or (out is not None and out.requires_grad)):
        # The compiled kernel writes through a raw pointer, which autograd never sees: backward would
        # silently treat q as unrotated. Refuse, on both backends, rather than return wrong gradients.
        raise ValueError("rope_fast has no backward (it rotates in place, invisibly to autograd): use "
                         "rope.apply_rotary when gradients are needed, or call it under torch.no_grad()")
    if not x.dtype.is_floating_point:
        raise ValueError(f"x must be a floating-point tensor, got {x.dtype}")
    if x.ndim != 4:
        raise ValueError(f"x must be (B, H, T, D), got shape {tuple(x.shape)}")
    if table.rotary_dim > x.shape[-1]:
        raise ValueError(f"the table covers {table.rotary_dim} channels but x has {x.shape[-1]}")
    if x.stride(-1) != 1 or any(st % 2 for st in x.stride()[:-1]):
        raise ValueError("x must have unit stride in its last axis (call .contiguous() first)")
    if table.sin.shape != table.cos.shape:
        raise ValueError(f"the table's cos {tuple(table.cos.shape)} and sin {tuple(table.sin.shape)} differ in shape")
    if table.cos.shape[-2] != x.shape[-2]:
        raise ValueError(f"the table has {table.cos.shape[-2]} positions but x has T={x.shape[-2]}")
    if table.cos.ndim == 3 and table.cos.shape[0] != x.shape[0]:
        raise ValueError(f"a per-sequence table has {table.cos.shape[0]} rows but x has B={x.shape[0]}")
    if out is not None and (out.shape != x.shape or out.dtype != x.dtype or out.stride() != x.stride()):
        raise ValueError("out must have x's shape, dtype and strides")


# --- plans: how blocks are cut and what one block does ------------------------------------------


def _plan(dtype: torch.dtype, table: RotaryTable):
    """(kernel, blocks): `blocks(x, dest)` lists argument tuples, `kernel(group)` rotates a list of them.

    Four cases: {interleaved, half} x {x rotated where it is (float32/64), x widened into scratch}.
    A kernel handles a group of blocks with `torch._foreach_*` ops (what torch.optim uses): one call
    per op for the whole group, in C++, with the GIL released throughout — so two threads really run
    at once, where per-block Python calls would spend their time handing the GIL back and forth.
    """
    wide = dtype in (torch.float32, torch.float64)
    work_dtype = dtype if wide else torch.float32
    r = table.rotary_dim
    if table.layout == "interleaved":
        rot = table.rot.to(torch.complex128 if work_dtype == torch.float64 else torch.complex64)
        if wide:
            def blocks(x, dest):
                _copy_rotated(x, dest, r)
                return _split([_complex(dest, r)], [rot])

            def kernel(group):
                pairs, rots = _columns(group)
                torch._foreach_mul_(pairs, rots)  # (x_2j + i·x_2j+1)·e^{i m θ_j}, in place
        else:
            def blocks(x, dest):
                return _split([x[..., :r], dest[..., :r]], [rot])

            def kernel(group):
                srcs, dsts, rots = _columns(group)
                works, works_c, _, _ = _columns(_scratch(work_dtype, srcs))
                torch._foreach_copy_(works, srcs)  # widen to float32
                torch._foreach_mul_(works_c, rots)
                torch._foreach_copy_(dsts, works)  # round once
        return kernel, blocks

    cos, sin, half = table.cos.to(work_dtype), table.sin.to(work_dtype), r // 2

    def rotate(a, b, tmp, c, s):  # pair j = (a_j, b_j) = channels (j, j + R/2); lists of blocks
        torch._foreach_copy_(tmp, a)
        torch._foreach_mul_(tmp, s)  # a·sin, kept before a is overwritten
        torch._foreach_mul_(a, c)
        torch._foreach_addcmul_(a, b, s, value=-1)  # a' = a·cos − b·sin
        torch._foreach_mul_(b, c)
        torch._foreach_add_(b, tmp)  # b' = b·cos + a·sin

    if wide:
        def blocks(x, dest):
            _copy_rotated(x, dest, r)
            return _split([dest[..., :half], dest[..., half:r]], [cos, sin])

        def kernel(group):
            a, b, c, s = _columns(group)
            rotate(a, b, _columns(_scratch(work_dtype, a))[0], c, s)
    else:
        def blocks(x, dest):
            return _split([x[..., :r], dest[..., :r]], [cos, sin])

        def kernel(group):
            srcs, dsts, c, s = _columns(group)
            works, _, a, b = _columns(_scratch(work_dtype, srcs))
            torch._foreach_copy_(works, srcs)
            rotate(a, b, _columns(_scratch(work_dtype, a, tmp=True))[0], c, s)
            torch._foreach_copy_(dsts, works)
    return kernel, blocks


def _columns(rows: list[tuple]) -> list[list]:
    """[(a0, b0), (a1, b1)] -> [[a0, a1], [b0, b1]]: the per-op lists of a group."""
    return [list(column) for column in zip(*rows)]


def _copy_rotated(x: Tensor, dest: Tensor, r: int) -> None:
    if dest is not x:
        dest[..., :r].copy_(x[..., :r])


def _complex(x: Tensor, r: int) -> Tensor:
    return torch.view_as_complex(x[..., :r].unflatten(-1, (r // 2, 2)))


def _split(tensors: list[Tensor], tables: list[Tensor]) -> list[tuple[Tensor, ...]]:
    """Matching blocks of (B, H, T, C) tensors, at most BLOCK_ELEMENTS each, with their table rows.

    Heads share the table, so B and H merge into one axis N of rows × T (a per-sequence table
    (B, T, ·) instead gives each batch row its own table). Long sequences are cut along T inside a
    row; short ones (decoding, T = 1) put several rows in one block.
    """
    batch, heads, t_, c = tensors[0].shape
    per_sequence = tables[0].ndim == 3
    if not per_sequence and all(x.stride(0) == heads * x.stride(1) for x in tensors):
        groups = [([x.flatten(0, 1) for x in tensors], tables)]  # (N, T, C): a view, not a copy
    else:
        groups = [([x[b] for x in tensors], [tb[b] if per_sequence else tb for tb in tables]) for b in range(batch)]
    n_rows = groups[0][0][0].shape[0]
    blocks: list[tuple[Tensor, ...]] = []
    if t_ * c <= BLOCK_ELEMENTS:  # short sequences: whole rows, several per block
        sizes = _sizes(n_rows, max(1, BLOCK_ELEMENTS // (t_ * c)))
        for xs, tabs in groups:
            blocks += [(*views, *tabs) for views in zip(*(x.split_with_sizes(sizes) for x in xs))]
        return blocks
    sizes = _sizes(t_, BLOCK_ELEMENTS // c)  # long sequences: cut along T, one row per block
    for xs, tabs in groups:
        tab_rows = [tb.split_with_sizes(sizes) for tb in tabs]
        chunks = [x.split_with_sizes(sizes, 1) for x in xs]  # each (N, rows, C)
        for i in range(len(sizes)):
            rows = [tr[i] for tr in tab_rows]
            blocks += [(*views, *rows) for views in zip(*(ch[i].unbind(0) for ch in chunks))]
    return blocks


def _sizes(total: int, step: int) -> list[int]:
    return [step] * (total // step) + ([total % step] if total % step else [])


_local = threading.local()
_SCRATCH_BUFFERS = 256  # a thread keeps at most this many block buffers (one group of one or two shapes)


def _scratch(dtype: torch.dtype, like: list[Tensor], *, tmp: bool = False) -> list[tuple[Tensor, ...]]:
    """This thread's buffers for a group of blocks, one per block: (work, its complex view, its halves
    a and b); with `tmp`, (buffer,) each. Reused across calls: once warm, rotating allocates nothing.
    """
    cache = _local.__dict__.setdefault("scratch", {})
    out = []
    for i, block in enumerate(like):
        key = (dtype, block.shape, i, tmp)
        views = cache.get(key)
        if views is None:
            if len(cache) >= _SCRATCH_BUFFERS:
                cache.clear()
            buf = torch.empty(block.shape, dtype=dtype)
            half = block.shape[-1] // 2
            views = cache[key] = (buf,) if tmp else (buf, _complex(buf, block.shape[-1]) if block.shape[-1] % 2 == 0
                                                     else None, buf[..., :half], buf[..., half:])
        out.append(views)
    return out


# --- threads ---------------------------------------------------------------------------------------

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _run(blocks: list, kernel: Callable[[list], None], group: int = GROUP_BLOCKS) -> None:
    """Apply `kernel` to groups of `group` blocks on `torch.get_num_threads()` threads (the caller
    is one of them). Threads pull groups from one shared iterator (`next` on a list iterator is atomic
    under the GIL), so a thread that the OS deschedules simply takes fewer groups.
    """
    groups = [blocks[i:i + group] for i in range(0, len(blocks), group)]
    workers = min(torch.get_num_threads(), len(groups) * group // MIN_BLOCKS_PER_THREAD)
    if workers <= 1:
        for group in groups:
            kernel(group)
        return
    shared = iter(groups)

    def drain() -> None:
        for group in shared:
            kernel(group)

    helpers = [_executor(workers - 1).submit(drain) for _ in range(workers - 1)]
    drain()
    for future in helpers:
        future.result()


def _executor(n: int) -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < n:
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="peprep-rope")
        return _pool
