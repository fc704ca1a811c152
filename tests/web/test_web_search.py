"""The editors' search page through Flask's test client: sign-in first, hits link to the embed and the
article pages, words are marked, typed markup is shown as text, and pages follow each other."""

from __future__ import annotations

import re

from support.viewer_world import Viewer, login


def test_search_needs_a_session(viewer: Viewer) -> None:
    response = viewer.client().get("/search?q=caption")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_search_finds_captions_authors_and_articles(viewer: Viewer) -> None:
    client = viewer.client()
    login(client)
    html = client.get("/search?q=caption+line").get_data(as_text=True)
    assert html.count("/editors/embeds/") == 4  # all four posts carry the caption
    assert "<mark>Caption</mark> <mark>line</mark> one" in html
    html = client.get("/search?q=CODE333").get_data(as_text=True)
    assert "instagram:CODE333" in html and "Author of <mark>CODE333</mark>" in html
    assert html.count("/editors/embeds/") == 1
    html = client.get("/search?q=harbour").get_data(as_text=True)
    assert re.search(r'href="/editors/articles/\d+">[^<]*<mark>harbour</mark>\.html</a>', html)
    assert 'value="harbour"' in html  # the box keeps what was typed
    assert "Nothing matches every word" in client.get("/search?q=submarine").get_data(as_text=True)
    assert "Type a word or two" in client.get("/search?q=%22%2A%28").get_data(as_text=True)


def test_typed_markup_is_shown_as_text(viewer: Viewer) -> None:
    client = viewer.client()
    login(client)
    html = client.get("/search", query_string={"q": '"><script>alert(1)</script> caption'}).get_data(
        as_text=True
    )
    assert "<script>alert(1)" not in html
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt; caption" in html


def test_search_pages_with_a_cursor_and_refuses_a_forged_one(viewer: Viewer) -> None:
    client = viewer.client()
    login(client)
    first = client.get("/search?q=someone").get_data(as_text=True)
    assert first.count("/editors/embeds/") == 4 and "Next page" not in first
    assert client.get("/search?q=someone&after=p1%20OR%201=1").status_code == 400
    second = client.get("/search?q=someone&after=p3").get_data(as_text=True)
    assert second.count("/editors/embeds/") == 2  # snapshots 2 and 1
