"""Benchmarks: peprep side by side with the peers, in one process, interleaved, reported as ratios.

The machine these run on is shared and noisy, so a benchmark never trusts one timing: competitors
run in rounds, each round calls every competitor once (in a rotated order), and the result is the
median per competitor and the ratio between medians. Timings live here and in `benchmarks/RESULTS.md`
(written by `peprep bench --write`), never in unit tests; tests/bench checks only that the outputs
are well formed, on tiny sizes.

- `runner`: interleaved rounds, medians, the `Result` record and its JSON form.
- `machine`: what the run ran on, and the copy bandwidth of already-touched memory.
- `rope`: RoPE on q and k — the fast path vs transformers vs rotary-embedding-torch, profiled.
- `attention`: ALiBi and T5 biases through torch SDPA vs an explicit softmax, against no bias.
- `lab`: training tokens/s of the lab's tiny model vs the same model built with x-transformers.
- `web`: `peprep serve` start-up time and page latency under 50 concurrent loopback clients.
- `suite`: runs a selection and writes the Markdown report.
"""
