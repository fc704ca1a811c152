"""Where articles come from and go back to: one module per kind of source, and one table of kinds.

    kinds.py   open_store(source, settings): the store a source's kind calls for (the one table of kinds)
    store.py   the store protocols (read, compare-and-swap write, listing by key); FileStore (files)
    files.py   reading HTML files: finding them, decoding their bytes exactly
    sql.py     SqlStore: articles as rows of a table in a database SQLAlchemy reaches
    wordpress.py  WordPressStore: posts of a WordPress site, read and written through its REST API

Sources import config, errors and records (and the wordpress source the HTTP client it is handed),
never storage, pipeline or providers: they move article bytes, and the stages decide what to do with
them (a wordpress source's scan cursor is kept by the scan stage). Import `open_store` from `kinds`; this
front door re-exports nothing, so reading a file (`files`, in scan worker processes) does not load a
database driver.
"""
