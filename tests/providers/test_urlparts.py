"""Splitting the URLs providers are given, and reading their query parameters."""

from __future__ import annotations

import pytest

from archiver.providers.common.urlparts import split_url


@pytest.mark.parametrize(
    ("url", "name", "value"),
    [
        ("https://www.facebook.com/x/posts/1?comment_id=42", "comment_id", "42"),
        ("https://www.facebook.com/x/posts/1?a=1&amp;comment_id=42", "comment_id", "42"),
        # A name written with escapes is read as the parser decodes it.
        ("https://www.facebook.com/x/posts/1?comment%5Fid=42", "comment_id", "42"),
        ("https://www.youtube.com/watch?v=%20abc%20", "v", "abc"),
        ("https://www.youtube.com/watch?v=", "v", ""),
        ("https://www.youtube.com/watch?list=1", "v", None),
        ("https://www.youtube.com/watch", "v", None),
        ("https://www.youtube.com/watch?vv=1", "v", None),
    ],
)
def test_a_query_parameter_is_read_as_decoded(url: str, name: str, value: str | None) -> None:
    parts = split_url(url)
    assert parts is not None
    assert parts.param(name) == value


def test_urls_without_a_host_are_not_split() -> None:
    assert split_url("javascript:alert(1)") is None
    assert split_url("") is None
