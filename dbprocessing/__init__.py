"""dbprocessing: a process controller for space science data pipelines.

Files arrive in a mission's incoming directory, inspector plugins identify
them, they are recorded in a SQL database and archived, and registered codes
build every child product from them, with provenance.

Importing the package does nothing else: no files, no directories, no
database connections (spec section 12).
"""
from __future__ import annotations

__version__ = "0.2.0.dev0"
