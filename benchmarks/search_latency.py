"""Search latency over the real content (design.md, "Budgets": search p99 < 50 ms). Not a test.

Builds the index from `content/` (or --content), runs the query table --runs times, from --threads
threads at once, and prints the index build time and the p50 / p99 latency of one `search()` call.
--scale K indexes every chapter K times, to see the build time of a larger knowledge base.

Example:
    .venv/bin/python benchmarks/search_latency.py --runs 200 --threads 8 --json
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from peprep.content import load_content
from peprep.search import SearchIndex

# Short and long, Chinese, English and mixed, alias-expanded, one character, FTS syntax, misses.
QUERIES = [
    "外推", "旋转", "旋转矩阵", "RoPE 衰减", "位置编码", "旋转位置编码", "rotary", "Rotary Position Embedding",
    "permutation equivariance", "置换等变", "Transformer 为什么需要位置编码", "注", "ALiBi", "NTK-aware 插值",
    'NEAR("x" *', "自注意力的置换等变性（permutation equivariance）", "qqqq 不存在的词", "position embedding 相对位置",
]


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def timed_search(index: SearchIndex, query: str) -> float:
    start = time.perf_counter()
    index.search(query)
    return (time.perf_counter() - start) * 1000


def measure(content_dir: Path | None, runs: int, threads: int, scale: int) -> dict:
    content = load_content(content_dir)
    if scale > 1:  # ids repeat, which the index does not mind: it only measures the size
        content = content.model_copy(update={"chapters": content.chapters * scale})
    start = time.perf_counter()
    index = SearchIndex.build(content)
    build_ms = (time.perf_counter() - start) * 1000
    index.search("warm up")
    work = QUERIES * runs
    with ThreadPoolExecutor(max_workers=threads) as pool:
        latencies = sorted(pool.map(lambda q: timed_search(index, q), work))
    return {
        "kps": len(content.knowledge_points()),
        "questions": len(content.questions()),
        "glossary_terms": len(content.glossary),
        "build_ms": round(build_ms, 2),
        "searches": len(latencies),
        "threads": threads,
        "p50_ms": round(percentile(latencies, 0.50), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
        "max_ms": round(latencies[-1], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, default=None, help="content folder (default: the repository's)")
    parser.add_argument("--runs", type=int, default=100, help="times to run the query table")
    parser.add_argument("--threads", type=int, default=1, help="searches in flight at once")
    parser.add_argument("--scale", type=int, default=1, help="index every chapter this many times")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = measure(args.content, args.runs, args.threads, args.scale)
    if args.json:
        print(json.dumps(result))
        return
    print(f"indexed {result['kps']} KPs, {result['questions']} questions, {result['glossary_terms']} terms "
          f"in {result['build_ms']:.1f} ms")
    print(f"{result['searches']} searches on {result['threads']} thread(s): "
          f"p50 {result['p50_ms']:.3f} ms, p99 {result['p99_ms']:.3f} ms, max {result['max_ms']:.3f} ms")


if __name__ == "__main__":
    main()
