"""``check``: every inconsistency between the database and the disk, and inside the database.

``scan.find_all(session, tree, options)`` returns the findings (``findings.py``)
of the disk checks (``disk.py``) and the database checks (``database.py``),
limited to the kinds asked for; ``repair.fix_findings`` repairs them, one
recorded transaction each, never deleting a file.  The original's
``dbOnlyFiles``, ``scrubber`` and ``possibleProblemDates`` are views: the
same findings filtered by kind (``findings.VIEWS``).

Nothing is imported here, so the commands can build their parsers (the kinds
and views of ``findings.py``) without loading the database layer.
"""
