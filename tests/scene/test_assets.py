"""Scene assets: the train and test splits share no motion and no shape."""

from __future__ import annotations


def test_splits_use_disjoint_motions_and_shapes(assets):
    train = {s.name for s in assets.motions["train"]}
    test = {s.name for s in assets.motions["test"]}
    assert train and test and not train & test
    for g in assets.cfg.genders:
        rows_train = set(assets.shapes[(g, "train")].rows.tolist())
        rows_test = set(assets.shapes[(g, "test")].rows.tolist())
        assert rows_train and rows_test and not rows_train & rows_test
