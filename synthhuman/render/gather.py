"""Row gathers through ``index_select`` on flattened tensors: on CPU several times faster than advanced
indexing with broadcast index tensors (``x[b[:, None], idx]``), which the hot paths would otherwise use."""

from __future__ import annotations

from torch import Tensor


def take_rows(table: Tensor, index: Tensor) -> Tensor:
    """``table[index]`` for a (R, ...) table and an integer index of any shape -> (*index.shape, ...)."""
    return table.index_select(0, index.reshape(-1)).view(*index.shape, *table.shape[1:])


def take_batched(values: Tensor, batch: Tensor, index: Tensor) -> Tensor:
    """``values[batch[:, None], index]`` for (B, R, ...) values, batch (N,), index (N, K) -> (N, K, ...)."""
    rows = values.shape[1]
    flat = values.reshape(values.shape[0] * rows, *values.shape[2:])
    return take_rows(flat, index + (batch * rows)[:, None])
