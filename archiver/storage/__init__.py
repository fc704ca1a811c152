"""Storage: the database (models, migrations, queries) and the content-addressed media store.

models.py   the tables, SQLAlchemy 2 typed ORM
db.py       engines, sessions, `upgrade` (Alembic; scripts in the top-level alembic/ folder)
queries/    every query the archiver runs, as named functions over a Session, one module per room
blobs.py    BlobStore, LocalBlobStore and S3BlobStore (blobs named by their sha256), `blob_store`
"""
