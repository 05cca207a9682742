"""Reading the archive and its event log: status, history, lineage, releases,
coverage, the queue listing.  Nothing in ingest/ or process/ imports this.
"""
