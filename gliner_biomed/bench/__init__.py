"""Inference benchmark: this project's models against the reference `gliner` package on the
same weights, interleaved in one process (``runner``), and a per-stage profile (``profile``)."""
