"""The real WordPress the `wordpress` tests share: started once per test session (about 15 s) by
tests/support/wordpress_site.py, skipped (saying which Debian packages are missing) where it cannot run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.wordpress_site import WordPressSite, missing


@pytest.fixture(scope="session")
def site() -> Iterator[WordPressSite]:
    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    wordpress = WordPressSite()
    try:
        wordpress.start()
        yield wordpress
    finally:
        wordpress.close()
