"""Processing (``ProcessQueue -p``, DBRunner, reprocess*): plan children ->
run codes -> record outputs with provenance, wired in ``pipeline``.
"""
