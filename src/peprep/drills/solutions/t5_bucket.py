"""参考解：T5 相对位置分桶（Raffel et al. 2020；Mesh TensorFlow / transformers 的 _relative_position_bucket）。"""

import math

import torch


def relative_position_bucket(relative_position: torch.Tensor, bidirectional: bool = True,
                             num_buckets: int = 32, max_distance: int = 128) -> torch.Tensor:
    """把相对位置 r = 键位置 − 查询位置（任意形状的整数张量）映射到 [0, num_buckets) 的桶号（long）。

    双向（编码器）：桶数减半，r > 0（键在查询之后）的桶号再加 num_buckets/2，距离 n = |r|。
    单向（解码器）：n = max(−r, 0)，未来的键全部落在桶 0。
    设 E = （减半后的）num_buckets // 2：n < E 时桶号就是 n；否则
    E + ⌊log(n/E) / log(max_distance/E) · (num_buckets − E)⌋，且不超过 num_buckets − 1。
    对数用 float32 计算（与 Mesh TensorFlow、transformers 一致）。
    """
    r = relative_position.long()
    bucket = torch.zeros_like(r)
    if bidirectional:
        num_buckets //= 2
        bucket += (r > 0).long() * num_buckets
        n = r.abs()
    else:
        n = (-r).clamp(min=0)
    exact = num_buckets // 2
    is_small = n < exact
    log_part = torch.log(n.float().clamp(min=1) / exact) / math.log(max_distance / exact)
    large = exact + (log_part * (num_buckets - exact)).long()
    large = large.clamp(max=num_buckets - 1)
    return bucket + torch.where(is_small, n, large)
