"""The archiver's exceptions.

Expected failures (a deleted post, a rate limit, a timeout) are *results*, not exceptions: they travel
as records (`records.Outcome`, `http.FetchResult.error`). Exceptions are for what stops a command::

    ArchiverError                 one readable line for the user; never a traceback at the CLI edge
    ├── ConfigError               bad settings file, bad value, unknown key (exit code 2)
    ├── UsageError                a command was asked for something that cannot be (exit code 2)
    ├── StorageError              the database or the media folder cannot be used
    ├── ArticleError              one article cannot be read (binary, too large, undecodable); the run goes on
    ├── SourceError               a source (a WordPress site) cannot be listed or written right now
    │   └── ArticleGone           the article is not in its source any more (a deleted post)
    ├── ScanPoolError             a scan worker process died; what was stored before it stands (scan)
    ├── NotFound                  `archive show` and friends: no such embed or article
    ├── WriteConflict             an article changed since it was read: nothing written (sources)
    └── RestoreError              a card to put back is not in the article any more (rewrite)
"""

from __future__ import annotations


class ArchiverError(Exception):
    """Root of everything the archiver raises on purpose. `str(exc)` is one line for the user."""

    exit_code = 1


class ConfigError(ArchiverError):
    """The configuration file or an `ARCHIVER_*` variable is wrong; the message names the key."""

    exit_code = 2


class UsageError(ArchiverError):
    """The command line asks for something impossible (e.g. no articles to scan)."""

    exit_code = 2


class StorageError(ArchiverError):
    """The database or media store cannot be opened, migrated or written."""


class ArticleError(ArchiverError):
    """One article cannot be read as HTML. Reported per article; the rest of the run goes on."""


class SourceError(ArchiverError):
    """A source cannot be listed or written: a WordPress site refused (401, 403), is down or in
    maintenance, or did not answer as its REST API does. Nothing was written."""


class ArticleGone(SourceError):
    """The article is not in its source any more (a WordPress post deleted, or not of the types read)."""


class ScanPoolError(ArchiverError):
    """A scan worker process died (killed, or out of memory): what was saved before stays saved."""


class NotFound(ArchiverError):
    """A lookup by URL or id found nothing."""

    exit_code = 2


class WriteConflict(ArchiverError):
    """The article changed since it was read (an editor saved it): nothing was written."""


class RestoreError(ArchiverError):
    """A card to put back is not where (nor anywhere near where) the journal says."""
