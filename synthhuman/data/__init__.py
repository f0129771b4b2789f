"""Training data: batches of single labelled frames (``frames``), rendered on the fly (``onthefly``) or
read from datasets written by ``synthhuman generate`` (``disk``)."""
