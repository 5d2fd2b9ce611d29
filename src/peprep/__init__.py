"""peprep — 位置编码面试通关: a local, offline study system for positional encoding in Transformers.

The library is the product; `peprep.cli` and `peprep.web` are thin faces over it.
torch is imported only by `peprep.encodings` and `peprep.lab`, never at server start.
"""

__version__ = "0.1.0"
