"""BVH files -> :class:`Bvh`: the skeleton and motion as the file writes them, their forward kinematics
and the file's length unit. :mod:`synthhuman.motion.bvh` retargets a :class:`Bvh` onto SMPL.

Reading. ``HIERARCHY``: one ``ROOT``, nested ``JOINT`` and ``End Site`` blocks, each joint with an
``OFFSET`` (its position in its parent's frame at rest) and ``CHANNELS`` (any of X/Y/Zposition and
X/Y/Zrotation, in any order; names compared case-insensitively). ``MOTION``: ``Frames: N``,
``Frame Time: dt`` (seconds, > 0) and N lines of one value per channel. Rotations are degrees and compose
in the listed order: ``Zrotation Xrotation Yrotation`` is ``R = Rz Rx Ry`` acting on column vectors (the
first listed axis is the outermost). Position channels are added to the joint's OFFSET (the root's
position is its OFFSET plus its channels; some readers let them replace the OFFSET instead, which agrees
wherever the OFFSET is zero, as in CMU's files). A joint at frame t is then at
``P_j = P_parent + G_parent (OFFSET_j + position channels)`` with global rotation ``G_j = G_parent R_j``.
Every problem raises a ValueError naming the file, the line and what was expected.

Units. Positions and rotations stay in the file's axes and unit here. :func:`detect_scale` detects the
unit from the rest skeleton: of metres, centimetres, millimetres, inches and CMU's unit (0.056444 m: the
cgspeed conversions of CMU's ASF files keep the ASF's ``length 0.45`` inch-based unit, about 17.7 units
a metre), the one that makes the skeleton's size nearest :data:`HUMAN_SIZE`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LENGTH_UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "cmu": (1.0 / 0.45) * 0.0254}
"""Length units :func:`detect_scale` chooses from (metres per file unit)."""

HUMAN_SIZE = 1.6
"""Metres: the size (largest side of the rest skeleton's box, joints and end sites) units are judged by.
A standing skeleton's joints span about its stature less the skull top and sole, an adult T-pose's arm
span about as much; units 2.2x apart (inches, CMU's) are told apart for sizes within 1.1 - 2.4 m."""

_AXES = {"x": 0, "y": 1, "z": 2}


@dataclass(frozen=True)
class Bvh:
    """A parsed BVH file. Joints (not end sites) in file order, parents before children.

    names: joint names; parents: parent index, -1 for the root; offsets (J, 3) in file units;
    channels: per joint, e.g. ``('xposition', ..., 'zrotation')``; end_sites: (joint index, offset) pairs,
    used only for the skeleton's size; frame_time: seconds;
    motion (T, C) float64, C = total channel count, columns in joint order.
    """

    path: Path
    names: tuple[str, ...]
    parents: tuple[int, ...]
    offsets: np.ndarray
    channels: tuple[tuple[str, ...], ...]
    end_sites: tuple[tuple[int, tuple[float, float, float]], ...]
    frame_time: float
    motion: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time


class _Tokens:
    """Whitespace-separated tokens of the HIERARCHY section with their line numbers."""

    def __init__(self, path: Path, lines: list[str], motion_line: int | None) -> None:
        self.path = path
        self.items = [(tok, no) for no, line in enumerate(lines, 1) for tok in line.split()]
        self.pos = 0
        self.last_line = len(lines)
        self.motion_line = motion_line  # 1-based line of 'MOTION', which ends the tokens; None: no MOTION

    def error(self, what: str, at: int | None = None) -> ValueError:
        if self.pos >= len(self.items) and at is None:
            if self.motion_line is not None:
                return ValueError(f"{self.path}:{self.motion_line}: expected {what}, got 'MOTION'")
            return ValueError(f"{self.path}:{self.last_line}: unexpected end of file, expected {what}")
        tok, no = self.items[min(self.pos if at is None else at, len(self.items) - 1)]
        return ValueError(f"{self.path}:{no}: expected {what}, got {tok!r}")

    def next(self, what: str) -> tuple[str, int]:
        if self.pos >= len(self.items):
            raise self.error(what)
        self.pos += 1
        return self.items[self.pos - 1]

    def expect(self, word: str) -> int:
        tok, no = self.next(repr(word))
        if tok != word:
            self.pos -= 1
            raise self.error(repr(word))
        return no

    def number(self, what: str) -> float:
        tok, _ = self.next(what)
        try:
            v = float(tok)
        except ValueError:
            self.pos -= 1
            raise self.error(what) from None
        if not math.isfinite(v):
            self.pos -= 1
            raise self.error(f"{what} (a finite number)")
        return v


def _parse_joint(tk: _Tokens, parent: int, names, parents, offsets, channels, end_sites) -> None:
    """After 'ROOT'/'JOINT': name, '{', OFFSET, CHANNELS, children, '}'."""
    name, _ = tk.next("a joint name")
    if name in names:
        raise tk.error(f"a new joint name (joint {name!r} is defined twice)", tk.pos - 1)
    index = len(names)
    names.append(name)
    parents.append(parent)
    tk.expect("{")
    tk.expect("OFFSET")
    offsets.append([tk.number(f"OFFSET value {k + 1} of 3 of joint {name!r}") for k in range(3)])
    tk.expect("CHANNELS")
    n = tk.number(f"the channel count of joint {name!r}")
    if n != int(n) or not 0 <= n <= 6:
        tk.pos -= 1
        raise tk.error(f"a channel count 0..6 for joint {name!r}")
    chans = []
    for _ in range(int(n)):
        tok, _ = tk.next(f"a channel name of joint {name!r}")
        c = tok.lower()
        if len(c) != 9 or c[0] not in _AXES or c[1:] not in ("position", "rotation"):
            tk.pos -= 1
            raise tk.error("a channel name (X/Y/Zposition or X/Y/Zrotation)")
        if c in chans:
            tk.pos -= 1
            raise tk.error(f"a channel not yet listed for joint {name!r}")
        chans.append(c)
    channels.append(tuple(chans))
    while True:
        tok, _ = tk.next(f"JOINT, End Site or '}}' closing joint {name!r}")
        if tok == "}":
            return
        if tok == "JOINT":
            _parse_joint(tk, index, names, parents, offsets, channels, end_sites)
        elif tok == "End":
            tk.expect("Site")
            tk.expect("{")
            tk.expect("OFFSET")
            site = tuple(tk.number(f"End Site OFFSET value {k + 1} of 3 under {name!r}") for k in range(3))
            end_sites.append((index, site))
            tk.expect("}")
        else:
            tk.pos -= 1
            raise tk.error(f"JOINT, End Site or '}}' closing joint {name!r}")


def _motion_header(path: Path, lines: list[str], start: int, key: str) -> tuple[str, int]:
    """The value after ``key`` ('Frames:' or 'Frame Time:') on the first non-blank line from ``start``."""
    no = start
    while no < len(lines) and not lines[no].strip():
        no += 1
    if no >= len(lines):
        raise ValueError(f"{path}:{len(lines)}: unexpected end of file, expected {key!r}")
    line = lines[no].strip()
    if not line.startswith(key):
        raise ValueError(f"{path}:{no + 1}: expected {key!r}, got {line[:40]!r}")
    return line[len(key) :].strip(), no + 1


def parse_bvh(path: str | Path) -> Bvh:
    """Read a BVH file (module docstring). Raises FileNotFoundError or a ValueError ``file:line: ...``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as e:
        raise ValueError(f"{path}: unreadable ({e})") from e
    motion_at = next((no for no, line in enumerate(lines) if line.strip() == "MOTION"), None)
    tk = _Tokens(path, lines[:motion_at], None if motion_at is None else motion_at + 1)
    tk.expect("HIERARCHY")
    tk.expect("ROOT")
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[tuple[str, ...]] = []
    end_sites: list = []
    _parse_joint(tk, -1, names, parents, offsets, channels, end_sites)
    if tk.pos < len(tk.items):
        raise tk.error("MOTION after the one ROOT's closing '}'")
    if motion_at is None:
        raise ValueError(f"{path}:{len(lines)}: unexpected end of file, expected 'MOTION'")

    value, no = _motion_header(path, lines, motion_at + 1, "Frames:")
    if not re.fullmatch(r"\d+", value) or int(value) < 1:
        raise ValueError(f"{path}:{no}: expected 'Frames: N' with an integer N >= 1, got {value!r}")
    num_frames = int(value)
    value, no = _motion_header(path, lines, no, "Frame Time:")
    try:
        frame_time = float(value)
    except ValueError:
        frame_time = float("nan")
    if not (math.isfinite(frame_time) and frame_time > 0):
        raise ValueError(
            f"{path}:{no}: expected 'Frame Time: dt' with dt > 0 seconds (frame rate 1/dt), got {value!r}"
        )

    columns = [(names[j], c) for j in range(len(names)) for c in channels[j]]
    rows = [(k + 1, line) for k, line in enumerate(lines[no:], no) if line.strip()]
    if len(rows) < num_frames:
        raise ValueError(
            f"{path}:{len(lines)}: unexpected end of file, expected {num_frames} frames ('Frames:'), "
            f"got {len(rows)}"
        )
    if len(rows) > num_frames:
        raise ValueError(
            f"{path}:{rows[num_frames][0]}: expected the end of the file after {num_frames} frames "
            f"('Frames:'), got another line"
        )
    motion = np.empty((num_frames, len(columns)))
    for t, (line_no, line) in enumerate(rows):
        values = line.split()
        if len(values) != len(columns):
            raise ValueError(
                f"{path}:{line_no}: expected {len(columns)} values (one per channel) in frame {t}, "
                f"got {len(values)}"
            )
        for k, v in enumerate(values):
            try:
                x = float(v)
            except ValueError:
                x = float("nan")
            if not math.isfinite(x):
                joint, chan = columns[k]
                raise ValueError(
                    f"{path}:{line_no}: expected a finite number for value {k + 1} ({joint} {chan}) of "
                    f"frame {t}, got {v!r}"
                )
            motion[t, k] = x
    return Bvh(
        path=path, names=tuple(names), parents=tuple(parents), offsets=np.asarray(offsets, dtype=np.float64),
        channels=tuple(channels), end_sites=tuple(end_sites), frame_time=frame_time, motion=motion,
    )  # fmt: skip


def _axis_rotations(axis: str, degrees: np.ndarray) -> np.ndarray:
    """(T,) angles -> (T, 3, 3) rotation matrices about the 'x', 'y' or 'z' axis."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    i, j = [(1, 2), (2, 0), (0, 1)][_AXES[axis]]
    R = np.zeros(a.shape + (3, 3))
    R[..., _AXES[axis], _AXES[axis]] = 1.0
    R[..., i, i], R[..., i, j], R[..., j, i], R[..., j, j] = c, -s, s, c
    return R


def forward_kinematics(bvh: Bvh) -> tuple[np.ndarray, np.ndarray]:
    """Global rotations (T, J, 3, 3) and positions (T, J, 3, file units) of every joint at every frame."""
    T, J = bvh.num_frames, len(bvh.names)
    G = np.empty((T, J, 3, 3))
    P = np.empty((T, J, 3))
    col = 0
    for j in range(J):
        R = np.broadcast_to(np.eye(3), (T, 3, 3))
        shift = np.zeros((T, 3))
        for c in bvh.channels[j]:
            values = bvh.motion[:, col]
            col += 1
            if c.endswith("rotation"):
                R = R @ _axis_rotations(c[0], values)
            else:
                shift[:, _AXES[c[0]]] = values
        local = bvh.offsets[j] + shift
        p = bvh.parents[j]
        if p < 0:
            G[:, j], P[:, j] = R, local
        else:
            G[:, j] = G[:, p] @ R
            P[:, j] = P[:, p] + np.einsum("tab,tb->ta", G[:, p], local)
    return G, P


def rest_positions(bvh: Bvh) -> np.ndarray:
    """(J, 3) joint positions with every channel zero (the rest pose the OFFSETs define), file units."""
    P = np.zeros((len(bvh.names), 3))
    for j, p in enumerate(bvh.parents):
        P[j] = bvh.offsets[j] + (P[p] if p >= 0 else 0.0)
    return P


def detect_scale(bvh: Bvh) -> float:
    """Metres per file unit: the :data:`LENGTH_UNITS` entry that brings the rest skeleton's size (the
    largest side of the box around its joints and end sites) nearest :data:`HUMAN_SIZE` (by ratio)."""
    P = rest_positions(bvh)
    pts = np.concatenate([P, [P[j] + np.asarray(o) for j, o in bvh.end_sites]]) if bvh.end_sites else P
    size = float((pts.max(0) - pts.min(0)).max())
    if size <= 0:
        raise ValueError(f"{bvh.path}: the rest skeleton has zero size (all OFFSETs zero); pass scale")
    units = list(LENGTH_UNITS.values())
    return min(units, key=lambda u: abs(math.log(size * u / HUMAN_SIZE)))
