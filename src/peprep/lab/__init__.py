"""The lab: small experiments that run on a laptop CPU in minutes (design.md, "Lab").

- `data`: the corpus (CPython's pydoc help text, byte tokens) and batching.
- `positions`: position schemes adapting `peprep.encodings` to one interface (embed / rotate / bias).
- `model`: a tiny nanoGPT-style causal LM with a pluggable scheme.
- `extrapolation`: the train-short / test-long task, its config, results document and table.
- `cache`: content-addressed reuse of trained models and evaluations.
- `plots`: figures of results.

`TASKS` names the experiments `peprep lab run` knows. torch is imported only by the modules above, never here,
so that the OpenMP setting below takes effect when torch is first imported through the lab: passive waiting
instead of spinning. On this 2-core machine shared with other processes, two spinning threads burned
about 8× the CPU per training step (measured 1.9 s vs 0.23 s); passive waiting costs nothing when idle.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

TASKS = {
    "extrapolation": "train short (64 tokens), test long (up to 8×): six encodings + RoPE with PI / NTK / YaRN at inference",
}
