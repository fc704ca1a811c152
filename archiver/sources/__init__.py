"""Where articles come from and go back to: one module per kind of source, and one table of kinds.

    kinds.py   open_store(source, settings): the store a source's kind calls for (the one table of kinds)
    store.py   the store protocols (read, compare-and-swap write, listing by key); FileStore (files)
    files.py   reading HTML files: finding them, decoding their bytes exactly
    sql.py     SqlStore: articles as rows of a table in a database SQLAlchemy reaches

Sources import config, errors and records only (never storage, pipeline or providers): they move
article bytes, and the stages decide what to do with them. Import `open_store` from `kinds`; this
front door re-exports nothing, so reading a file (`files`, in scan worker processes) does not load a
database driver.
"""
