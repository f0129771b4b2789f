"""Priors (pose Gaussian, joint limits, shape) and the fit's metrics, against analytic answers."""

from __future__ import annotations

import math

import pytest
import torch

from synthhuman.fit import (
    fit_pose_prior,
    joint_limit_penalty,
    library_pose_prior,
    mpjpe,
    pa_mpjpe,
    part_iou,
    procrustes,
    shape_penalty,
    silhouette_iou,
)
from synthhuman.motion.deepmimic import read_bundled_library
from synthhuman.motion.sequence import PoseSequence
from synthhuman.scene import BUNDLED_TEST_MOTIONS


def test_pose_prior_is_white_on_its_data_and_far_from_random_poses():
    gen = torch.Generator().manual_seed(0)
    mean = torch.linspace(-0.5, 0.5, 69, dtype=torch.float64)
    std = torch.linspace(0.2, 0.8, 69, dtype=torch.float64)
    poses = mean + std * torch.randn(20000, 69, generator=gen, dtype=torch.float64)
    full = torch.cat([torch.zeros(20000, 3, dtype=torch.float64), poses], 1).numpy()
    prior = fit_pose_prior([PoseSequence(full, full[:, :3] * 0, 30.0, "x")], mirrored=False, min_std=0.01)
    assert prior(poses.float()).mean() == pytest.approx(1.0, rel=0.03)  # E[chi2_69 / 69] = 1
    assert float(prior(mean.float()[None])) < 1e-3
    assert prior.examples.shape[1] == 72


def test_library_prior_prefers_held_out_motion_to_noise():
    prior = library_pose_prior(exclude=BUNDLED_TEST_MOTIONS)
    held_out = next(s for s in read_bundled_library() if s.name == "run")
    assert prior(torch.tensor(held_out.poses[:, 3:]).float()).mean() < 2
    noise = 0.6 * torch.randn(50, 69, generator=torch.Generator().manual_seed(1))
    assert prior(noise).mean() > 10
    with pytest.raises(ValueError, match=r"body_pose: expected \(N, 69\)"):
        prior(torch.zeros(2, 72))


def test_knees_and_elbows_bend_one_way():
    pose = torch.zeros(4, 72)
    pose[0, 3 * 4] = 1.0  # left knee flexed: fine
    pose[1, 3 * 4] = -0.5  # left knee hyper-extended
    pose[2, 3 * 18 + 1] = 0.3  # left elbow the wrong way
    pose[3, 3 * 19 + 1] = 1.2  # right elbow flexed: fine
    torch.testing.assert_close(joint_limit_penalty(pose), torch.tensor([0.0, 0.25, 0.09, 0.0]))
    assert all(
        float(joint_limit_penalty(torch.tensor(s.poses).float()).max()) < 0.05 for s in read_bundled_library()
    )
    assert float(shape_penalty(torch.tensor([[1.0, -1.0, 3.0]]))) == pytest.approx(11 / 3)


def test_procrustes_undoes_a_similarity_and_mpjpe_ignores_translation():
    gen = torch.Generator().manual_seed(2)
    true = torch.randn(3, 24, 3, generator=gen, dtype=torch.float64)
    angle = 0.7
    R = torch.tensor(
        [[math.cos(angle), -math.sin(angle), 0], [math.sin(angle), math.cos(angle), 0], [0, 0, 1]],
        dtype=torch.float64,
    )
    moved = 1.7 * true @ R.T + torch.tensor([0.3, -2.0, 5.0], dtype=torch.float64)
    torch.testing.assert_close(procrustes(moved, true), true)
    assert float(pa_mpjpe(moved, true).max()) < 1e-9
    shifted = true + torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    assert float(mpjpe(shifted, true).max()) < 1e-12
    bent = true.clone()
    bent[:, 5] += torch.tensor([0.24, 0.0, 0.0], dtype=torch.float64)  # one joint 24 cm off
    torch.testing.assert_close(mpjpe(bent, true), torch.full((3,), 0.01, dtype=torch.float64))


def test_part_and_silhouette_iou():
    true = torch.zeros(1, 4, 4, dtype=torch.int64)
    true[0, :2, :2] = 1
    true[0, 2:, 2:] = 2
    pred = true.clone()
    pred[0, 0, 0] = 0  # part 1: IoU 3/4
    pred[0, 3, 0] = 2  # part 2: IoU 4/5
    assert float(part_iou(pred, true)) == pytest.approx((3 / 4 + 4 / 5) / 2)
    assert float(silhouette_iou(pred > 0, true > 0)) == pytest.approx(7 / 9)
