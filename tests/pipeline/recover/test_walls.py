"""Which archived copies are not the article: error pages, login walls and consent pages are ignored, while
an article whose headline merely holds such a word is read."""

from __future__ import annotations

import pytest

from archiver.pipeline.recover.memento import wall_reason


def page(title: str, body: str = "<p>One.</p><p>Two.</p><p>Three.</p>") -> bytes:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{body}</body></html>".encode()


@pytest.mark.parametrize(
    ("title", "reason"),
    [
        ("Login \u2022 Instagram", "title says 'login'"),
        ("Login &bull; Instagram", "title says 'login'"),
        ("Page Not Found | The Daily Example", "title says 'page not found'"),
        ("404 Not Found", "title says '404 not found'"),
        ("Error 404 - Not Found", "title says 'error 404'"),
        ("Sign in \u00b7 GitHub", "title says 'sign in'"),
        ("Error", "title says 'error'"),
        ("Access Denied", "title says 'access denied'"),
        ("The Daily Example: Something went wrong", "title says 'something went wrong'"),
    ],
)
def test_a_wall_or_error_page_is_named_by_its_title(title: str, reason: str) -> None:
    assert wall_reason(page(title)) == reason


@pytest.mark.parametrize(
    "title",
    [
        "The error that cost Arsenal the title | The Daily Example",
        "Fans report login troubles on Instagram",
        "Missing hiker not found after three days of searching",
        "Hayley Atwell on driving lessons: “Check out the video below”",
        "Sign in sheets and other relics of the office",
    ],
)
def test_an_article_whose_headline_holds_such_a_word_is_read(title: str) -> None:
    assert wall_reason(page(title)) is None


def test_body_phrases_and_a_bare_login_form_are_walls() -> None:
    assert wall_reason(page("Example", "<p>Before you continue to Example</p>")) == "before you continue to"
    form = '<form><input type="password" name="p"></form>'
    assert wall_reason(page("Example", form)) == "a login form"
