"""Ingest (``ProcessQueue -i``): incoming -> identify (inspectors) -> record
(file row) -> archive (move), wired crash-safe in ``pipeline``.
"""

# Files recorded per transaction (ProcessQueue -i --batch-size): here, so that
# ProcessQueue can build its arguments without importing the pipeline.
BATCH_SIZE = 500
