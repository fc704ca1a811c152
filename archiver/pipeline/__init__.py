"""The verbs of the archiver: scan, capture, check, rewrite (one module each)."""
