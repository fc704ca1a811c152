"""Reading article files: exact bytes kept, encodings detected, binary and oversized files refused."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from archiver.config import ScanSettings
from archiver.errors import ArticleError
from archiver.sources.files import ArticleFile, decode_html, files_of, read_article


def read(path: Path, **settings: int) -> object:
    return read_article(ArticleFile(path, str(path)), "test", ScanSettings(**settings))


def test_utf8_bom_wins(tmp_path: Path) -> None:
    text, encoding = decode_html(codecs.BOM_UTF8 + "<p>naïve</p>".encode())
    assert (text, encoding) == ("<p>naïve</p>", "utf-8-sig")


def test_meta_charset_cp1252_page() -> None:
    data = '<meta charset="windows-1252"><p>Café “quoted”</p>'.encode("cp1252")
    text, encoding = decode_html(data)
    assert "Café “quoted”" in text
    assert encoding == "cp1252"


def test_iso_8859_1_label_means_windows_1252_as_in_browsers() -> None:
    data = '<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"><p>“x”</p>'.encode(
        "cp1252"
    )
    text, _ = decode_html(data)
    assert "“x”" in text


def test_undeclared_cp1252_falls_back_after_utf8() -> None:
    text, encoding = decode_html("<p>Grüße</p>".encode("cp1252"))
    assert text == "<p>Grüße</p>"
    assert encoding == "cp1252"


def test_wrong_declaration_does_not_crash() -> None:
    data = '<meta charset="utf-8"><p>caf\xe9 \x81</p>'.encode("latin-1")
    text, encoding = decode_html(data)
    assert text.startswith("<meta")
    assert encoding in ("cp1252", "latin-1")


def test_article_keeps_exact_bytes_and_hash(tmp_path: Path) -> None:
    path = tmp_path / "a.html"
    data = "<p>Grüße</p>\r\n".encode("cp1252")
    path.write_bytes(data)
    article = read(path)
    assert article.data == data  # type: ignore[attr-defined]
    import hashlib

    assert article.sha256 == hashlib.sha256(data).hexdigest()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG"),
        (b"\x1f\x8b\x08\x00" + bytes(100), "gzip"),
        (bytes(range(256)) * 40, "binary content (NUL bytes)"),
        (bytes(range(1, 32)) * 300, "binary content (control characters)"),
    ],
)
def test_binary_files_are_refused_in_one_line(tmp_path: Path, data: bytes, needle: str) -> None:
    path = tmp_path / "x.html"
    path.write_bytes(data)
    with pytest.raises(ArticleError) as info:
        read(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_a_few_stray_control_characters_do_not_make_a_page_binary(tmp_path: Path) -> None:
    # Pasted text brings the odd form feed or escape; below 5% of the first 8 KB that is still HTML.
    data = b"<p>" + b"x" * 1000 + b"\x0c\x1b\x07" + b"</p>"
    path = tmp_path / "x.html"
    path.write_bytes(data)
    assert read(path).data == data  # type: ignore[attr-defined]


def test_oversized_file_is_skipped_with_the_setting_named(tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    path.write_bytes(b"<p>" + b"x" * 5000 + b"</p>")
    with pytest.raises(ArticleError, match=r"scan\.max_article_bytes"):
        read(path, max_article_bytes=1000)


def test_missing_file_is_an_article_error(tmp_path: Path) -> None:
    with pytest.raises(ArticleError, match="cannot read"):
        read(tmp_path / "nope.html")


def test_files_of_folder_glob_and_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.html", "a.htm", "sub/c.html", "notes.txt"):
        (tmp_path / name).write_text("<p>x</p>")
    assert [f.path.name for f in files_of(str(tmp_path))] == ["a.htm", "b.html", "c.html"]
    assert [f.path.name for f in files_of(str(tmp_path / "**" / "*.html"))] == ["b.html", "c.html"]
    assert [f.label for f in files_of(str(tmp_path / "b.html"))] == [str(tmp_path / "b.html")]
    assert list(files_of(str(tmp_path / "missing"))) == []
