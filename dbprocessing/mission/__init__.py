"""The mission: its config file (load, export), its directory tree, and the
``{FIELD}`` substitutions of names, paths and arguments.
"""
