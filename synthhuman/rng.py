"""Per-sample seeds: clip ``index`` of ``split`` in a run seeded ``seed`` always gets the same generator,
on disk and on the fly, whatever the batch size, worker, shard or resume (``docs/conventions.md``)."""

from __future__ import annotations

import hashlib

import torch

from synthhuman.conventions import SPLITS


def derived_seed(*parts: object) -> int:
    """A 63-bit seed hashed from ``parts`` (ints and names): different parts give unrelated streams."""
    key = "/".join(str(int(p)) if isinstance(p, int) else str(p) for p in parts)
    digest = hashlib.blake2b(f"synthhuman/{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def derived_generator(*parts: object) -> torch.Generator:
    """A CPU generator seeded with :func:`derived_seed` of ``parts``."""
    return torch.Generator().manual_seed(derived_seed(*parts))


def clip_seed(seed: int, split: str, index: int) -> int:
    """A 63-bit seed from (run seed, split, clip index), by hashing: neighbouring clips are unrelated."""
    if split not in SPLITS:
        raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
    if index < 0:
        raise ValueError(f"index: expected >= 0, got {index}")
    return derived_seed(int(seed), split, int(index))


def clip_generator(seed: int, split: str, index: int) -> torch.Generator:
    """A CPU generator seeded with :func:`clip_seed`."""
    return torch.Generator().manual_seed(clip_seed(seed, split, index))
