"""The verbs of the archiver: scan, capture, check, rewrite, export (one module each)."""
