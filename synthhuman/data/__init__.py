"""Training data: batches of single labelled frames (``frames``), rendered on the fly (``onthefly``) or
read from datasets written by ``synthhuman generate`` (``disk``)."""

from synthhuman.data.disk import DiskConfig, DiskFrames
from synthhuman.data.frames import LabeledFrames, StreamConfig
from synthhuman.data.onthefly import OnTheFlyConfig, SyntheticHumans

__all__ = ["DiskConfig", "DiskFrames", "LabeledFrames", "OnTheFlyConfig", "StreamConfig", "SyntheticHumans"]
