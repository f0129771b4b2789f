"""Per-sample seeds: clip ``index`` of ``split`` in a run seeded ``seed`` always gets the same generator,
on disk and on the fly, whatever the batch size, worker, shard or resume (DESIGN.md section 2)."""

from __future__ import annotations

import hashlib

import torch

SPLITS = ("train", "test")


def clip_seed(seed: int, split: str, index: int) -> int:
    """A 63-bit seed from (run seed, split, clip index), by hashing: neighbouring clips are unrelated."""
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
    if index < 0:
        raise ValueError(f"index: expected >= 0, got {index}")
    digest = hashlib.blake2b(f"synthhuman/{int(seed)}/{split}/{int(index)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def clip_generator(seed: int, split: str, index: int) -> torch.Generator:
    """A CPU generator seeded with :func:`clip_seed`."""
    return torch.Generator().manual_seed(clip_seed(seed, split, index))
