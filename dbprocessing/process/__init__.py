"""Processing (``ProcessQueue -p``, DBRunner, reprocess*): plan children ->
run codes -> record outputs with provenance, wired in ``pipeline``.
"""

# ProcessQueue -p's default --retry-after, in hours (schedule.py): here, so that
# ProcessQueue can build its arguments without importing the planner.
RETRY_AFTER_HOURS = 6.0
