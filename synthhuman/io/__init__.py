"""Dataset files: each format's writer and reader side by side (:mod:`~synthhuman.io.canonical`,
:mod:`~synthhuman.io.surreal`, :mod:`~synthhuman.io.webdataset`), the typed records they pass
(:mod:`~synthhuman.io.record`), H.264 video (:mod:`~synthhuman.io.video`) and the formats together
(:mod:`~synthhuman.io.formats`: ``make_writer``, ``list_clips``, ``read_frames``).

This package's ``__init__`` imports nothing, so importing one format does not load the others.
"""
