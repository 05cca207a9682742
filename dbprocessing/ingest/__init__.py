"""Ingest (``ProcessQueue -i``): incoming -> identify (inspectors) -> record
(file row) -> archive (move), wired crash-safe in ``pipeline``.
"""
