"""WARC export: real snapshots (captured from the loopback fake Instagram) into a gzip WARC that warcio's
reader and command-line tools accept, with digests that check out, media bytes equal to the blobs, no
secret in any header or URI, and never a half-written file under the name asked for."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.fake_server import Canned, FakeServer
from warcio.archiveiterator import ArchiveIterator

from archiver.app import App
from archiver.clock import FixedClock
from archiver.errors import StorageError, UsageError
from archiver.pipeline.capture import capture_due, capture_one
from archiver.pipeline.export import ExportReport, export_warc
from archiver.records import Article, Capture, EmbedRef, Field, MarkupKind, Outcome
from archiver.storage import blobs, queries
from archiver.storage.models import Embed, Snapshot
from tests.support.instagram_world import JPEG, OEMBED_PATH, PNG, embed_page, serve_instagram, settings_for

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
POST = ("B9bOM-6Ax_d", "https://www.instagram.com/p/B9bOM-6Ax_d/")
REEL = ("CIyNZQhH4DQ", "https://www.instagram.com/reel/CIyNZQhH4DQ/")
TOKEN = "123|s3cret"


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    # With a token, so the oEmbed URL the capture fetched carried one.
    application = App(settings_for(fake_server, tmp_path), FixedClock(START), {"TEST_META_TOKEN": TOKEN})
    yield application
    application.close()


def add_embeds(app: App, *posts: tuple[str, str]) -> None:
    refs = [EmbedRef("instagram", code, url, MarkupKind.BLOCKQUOTE) for code, url in posts]
    article = Article("a.html", "test", b"<p>x</p>", "<p>x</p>", "utf-8", "0" * 64)
    with app.sessions() as session, session.begin():
        source = queries.ensure_source(session, "test", "files", START)
        queries.save_scan(session, source, article, refs, START)


def embed_id(app: App, code: str) -> int:
    with app.sessions() as session:
        found = session.scalar(select(Embed.id).where(Embed.post_id == code))
        assert found is not None
        return found


def captured_archive(app: App, fake_server: FakeServer) -> None:
    """Two posts showing the same two files; the first one edited later (version 2, same files)."""
    serve_instagram(fake_server, (("p", POST[0]), ("reel", REEL[0])))
    add_embeds(app, POST, REEL)
    assert capture_due(app.sessions, app.capture_deps()).new_snapshots == 2
    edited = embed_page(fake_server).replace(b"Harbour at dawn", b"Harbour at dusk")
    fake_server.route(f"/p/{POST[0]}/embed/captioned/", Canned(200, {"Content-Type": "text/html"}, edited))
    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(days=1))
    ref = EmbedRef("instagram", POST[0], POST[1], MarkupKind.LINK)
    assert capture_one(app.sessions, app.capture_deps(), embed_id(app, POST[0]), ref).new_version == 2


def first_snapshot(session: Session) -> Snapshot:
    """Version 1 of the post: the first snapshot of the export (captures may finish in any order)."""
    return session.scalars(
        select(Snapshot).join(Embed).where(Embed.post_id == POST[0], Snapshot.version == 1)
    ).one()


def records(path: Path) -> list[dict[str, Any]]:
    """Every record of a WARC as read by warcio: type, WARC headers, HTTP status and headers, payload."""
    found = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            http = record.http_headers
            found.append(
                {
                    "type": record.rec_type,
                    "headers": dict(record.rec_headers.headers),
                    "status": http.get_statuscode()
                    if http is not None and record.rec_type == "response"
                    else None,
                    "statusline": f"{http.protocol} {http.statusline}" if http is not None else None,
                    "http": dict(http.headers) if http is not None else {},
                    "payload": record.content_stream().read(),
                }
            )
    return found


def sha256_digest(data: bytes) -> str:
    return "sha256:" + base64.b32encode(hashlib.sha256(data).digest()).decode()


def export(app: App, path: Path, **options: Any) -> ExportReport:
    return export_warc(app.sessions, app.blobs, path, app.clock, **options)


def warcio_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """warcio's own command-line tool, as another program would run it."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from warcio.cli import main; main(sys.argv[1:])", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- what is written -------------------------------------------------------------------------------------


def test_every_snapshot_becomes_responses_resources_and_metadata(
    app: App, fake_server: FakeServer, tmp_path: Path
) -> None:
    captured_archive(app, fake_server)
    out = tmp_path / "archive.warc.gz"

    report = export(app, out)

    assert report == ExportReport(
        path=out, snapshots=3, responses=6, media=2, revisits=4, skipped=0, missing_media=()
    )
    found = records(out)
    assert [r["type"] for r in found] == [
        "warcinfo",
        *["response", "response", "resource", "resource", "metadata"],  # post, version 1
        *["response", "response", "revisit", "revisit", "metadata"],  # post, version 2: same files
        *["response", "response", "revisit", "revisit", "metadata"],  # reel: same files again
    ]
    info = found[0]
    assert info["headers"]["WARC-Date"] == "2026-11-21T12:00:00Z"  # the injected clock, not the machine's
    assert b"embed-archiver/" in info["payload"]

    with app.sessions() as session:
        snapshots = session.scalars(select(Snapshot).order_by(Snapshot.embed_id, Snapshot.version)).all()
        raw_urls = [raw["url"] for snapshot in snapshots for raw in snapshot.raw]
    responses = [r for r in found if r["type"] == "response"]
    assert [r["headers"]["WARC-Target-URI"] for r in responses] == raw_urls
    assert "access_token=REDACTED" in responses[0]["headers"]["WARC-Target-URI"]
    for response in responses:
        assert response["statusline"] == "HTTP/1.1 200 OK"
        assert response["headers"]["WARC-Payload-Digest"] == sha256_digest(response["payload"])
        assert response["http"]["Content-Length"] == str(len(response["payload"]))
        assert response["http"]["Content-Type"].endswith("charset=utf-8")
    oembed, page = responses[0], responses[1]
    assert json.loads(oembed["payload"])["thumbnail_url"] == f"{fake_server.url}/media/thumb.jpg"
    assert oembed["http"]["Content-Type"].startswith("application/json")
    assert b"Harbour at dawn" in page["payload"]
    assert oembed["headers"]["WARC-Date"] == "2026-11-20T12:00:00Z"  # when it was fetched

    resources = [r for r in found if r["type"] == "resource"]
    assert [r["headers"]["WARC-Target-URI"] for r in resources] == [
        f"{fake_server.url}/media/thumb.jpg",
        f"{fake_server.url}/media/image.jpg",
    ]
    assert [r["payload"] for r in resources] == [JPEG, PNG]
    for resource in resources:
        digest = hashlib.sha256(resource["payload"]).hexdigest()
        assert resource["payload"] == app.blobs.open(digest)
        assert resource["headers"]["WARC-Payload-Digest"] == sha256_digest(resource["payload"])
    assert [r["headers"]["Content-Type"] for r in resources] == ["image/jpeg", "image/png"]

    revisits = [r for r in found if r["type"] == "revisit"]
    first_ids = {r["headers"]["WARC-Payload-Digest"]: r["headers"]["WARC-Record-ID"] for r in resources}
    for revisit in revisits:
        assert revisit["headers"]["WARC-Refers-To"] == first_ids[revisit["headers"]["WARC-Payload-Digest"]]
        assert revisit["headers"]["WARC-Profile"].endswith("/revisit/identical-payload-digest")
        assert revisit["payload"] == b""

    metadata = [json.loads(r["payload"]) for r in found if r["type"] == "metadata"]
    assert [(m["embed"]["id"], m["version"]) for m in metadata] == [(POST[0], 1), (POST[0], 2), (REEL[0], 1)]
    first = metadata[0]
    assert first["embed"] == {"provider": "instagram", "id": POST[0], "url": POST[1]}
    assert first["captured_at"] == "2026-11-20T12:00:00Z"
    assert first["fields"]["text"].startswith("Harbour at dawn")
    assert first["provenance"]["text"] == "embed_page"
    assert [(m["kind"], m["sha256"], m["mime"]) for m in first["media"]] == [
        ("thumbnail", hashlib.sha256(JPEG).hexdigest(), "image/jpeg"),
        ("image", hashlib.sha256(PNG).hexdigest(), "image/png"),
    ]
    assert metadata[1]["fields"]["text"].startswith("Harbour at dusk")
    meta_records = [r for r in found if r["type"] == "metadata"]
    assert [r["headers"]["WARC-Target-URI"] for r in meta_records] == [POST[1], POST[1], REEL[1]]
    assert all(r["headers"]["Content-Type"] == "application/json" for r in meta_records)


def test_standard_tools_read_and_verify_the_file(app: App, fake_server: FakeServer, tmp_path: Path) -> None:
    captured_archive(app, fake_server)
    out = tmp_path / "archive.warc.gz"
    export(app, out)

    with gzip.open(out, "rb") as stream:  # plain gzip, member per record, as the WARC spec asks
        assert stream.read(9) == b"WARC/1.0\r"
    index = warcio_cli("index", "-f", "warc-type,warc-target-uri,http:status", str(out))
    assert index.returncode == 0, index.stderr
    lines = [json.loads(line) for line in index.stdout.splitlines()]
    assert len(lines) == 16
    assert {line["warc-type"] for line in lines} == {
        "warcinfo",
        "response",
        "resource",
        "revisit",
        "metadata",
    }
    assert {line.get("http:status") for line in lines if line["warc-type"] == "response"} == {"200"}
    check = warcio_cli("check", "-v", str(out))  # recomputes every block and payload digest
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout and "fail" not in check.stdout


def test_no_secret_in_any_header_or_uri(app: App, fake_server: FakeServer, tmp_path: Path) -> None:
    captured_archive(app, fake_server)
    # Rows written before redaction existed (or by a bug): the export redacts again.
    with app.sessions() as session, session.begin():
        snapshot = first_snapshot(session)
        leaky = f"{fake_server.url}{OEMBED_PATH}?url=x&access_token={TOKEN}"
        snapshot.raw = [
            {**raw, "url": leaky, "error": f"timeout: no answer from {leaky}"} for raw in snapshot.raw
        ]
        snapshot.media[0].original_url = f"{fake_server.url}/media/thumb.jpg?oe=1&sig={TOKEN}"
        snapshot.author_url = f"https://user:{TOKEN}@example.com/a"
    out = tmp_path / "archive.warc.gz"

    export(app, out)

    text = gzip.decompress(out.read_bytes())
    assert TOKEN.encode() not in text and b"s3cret" not in text
    found = records(out)
    for record in found:
        for value in [*record["headers"].values(), *record["http"].values()]:
            assert "s3cret" not in value
    uris = [r["headers"].get("WARC-Target-URI", "") for r in found]
    assert f"{fake_server.url}{OEMBED_PATH}?url=x&access_token=REDACTED" in uris
    assert f"{fake_server.url}/media/thumb.jpg?oe=1&sig=REDACTED" in uris


# --- what is left out, and said so ------------------------------------------------------------------------


def test_transport_errors_and_lost_files_are_skipped_and_counted(
    app: App, fake_server: FakeServer, tmp_path: Path
) -> None:
    captured_archive(app, fake_server)
    with app.sessions() as session, session.begin():
        snapshot = first_snapshot(session)
        no_answer = {"rung": "oembed", "url": "https://example.com/o", "status": None, "content_type": None}
        snapshot.raw = [*snapshot.raw, {**no_answer, "body": "", "error": "timeout: no response"}]
    lost = hashlib.sha256(PNG).hexdigest()
    store = app.blobs
    assert isinstance(store, blobs.LocalBlobStore)
    Path(store.path_for(lost)).unlink()
    out = tmp_path / "archive.warc.gz"

    report = export(app, out)

    # One transport error; the lost file where the first snapshot shows it, and again in the two others.
    assert (report.responses, report.media, report.revisits, report.skipped) == (6, 1, 2, 4)
    assert report.missing_media == (lost,)
    found = records(out)
    assert [r["payload"] for r in found if r["type"] == "resource"] == [JPEG]
    assert "https://example.com/o" not in {r["headers"].get("WARC-Target-URI") for r in found}
    first_metadata = json.loads(next(r["payload"] for r in found if r["type"] == "metadata"))
    assert first_metadata["responses"][-1] == {
        "rung": "oembed",
        "url": "https://example.com/o",
        "status": None,
        "content_type": None,
        "fetched_at": None,
        "error": "timeout: no response",
    }


def test_a_damaged_file_is_not_exported_under_its_digest(
    app: App, fake_server: FakeServer, tmp_path: Path
) -> None:
    captured_archive(app, fake_server)
    damaged = hashlib.sha256(JPEG).hexdigest()
    store = app.blobs
    assert isinstance(store, blobs.LocalBlobStore)
    Path(store.path_for(damaged)).write_bytes(b"not the original bytes")

    report = export(app, tmp_path / "archive.warc.gz")

    assert report.missing_media == (damaged,)
    assert [r["payload"] for r in records(report.path) if r["type"] == "resource"] == [PNG]


def test_embed_ids_limit_the_export(app: App, fake_server: FakeServer, tmp_path: Path) -> None:
    captured_archive(app, fake_server)

    report = export(app, tmp_path / "reel.warc.gz", embed_ids=[embed_id(app, REEL[0])])

    assert (report.snapshots, report.responses, report.media, report.revisits) == (1, 2, 2, 0)
    uris = [r["headers"]["WARC-Target-URI"] for r in records(report.path) if r["type"] == "metadata"]
    assert uris == [REEL[1]]
    assert export(app, tmp_path / "none.warc.gz", embed_ids=[]).snapshots == 0


def test_an_empty_archive_is_a_valid_warc_with_its_warcinfo(app: App, tmp_path: Path) -> None:
    report = export(app, tmp_path / "empty.warc.gz")
    assert (report.snapshots, report.responses, report.media) == (0, 0, 0)
    assert [r["type"] for r in records(report.path)] == ["warcinfo"]


# --- the file appears whole or not at all ---------------------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(blobs.TEMP_PREFIX))


def test_an_existing_file_is_refused_unless_overwrite(
    app: App, fake_server: FakeServer, tmp_path: Path
) -> None:
    captured_archive(app, fake_server)
    out = tmp_path / "archive.warc.gz"
    out.write_bytes(b"someone else's file")

    with pytest.raises(UsageError, match="already exists"):
        export(app, out)
    assert out.read_bytes() == b"someone else's file"

    report = export(app, out, overwrite=True)
    assert report.snapshots == 3 and records(out)[0]["type"] == "warcinfo"
    assert leftovers(tmp_path) == []


def test_a_failure_midway_leaves_no_file_and_no_temp(
    app: App, fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured_archive(app, fake_server)
    store = app.blobs
    out_folder = tmp_path / "exports"
    out_folder.mkdir()
    out = out_folder / "archive.warc.gz"
    seen: list[str] = []

    def broken_open(sha256: str) -> bytes:
        # The temp file is being written while the store is read.
        seen.extend(leftovers(out_folder))
        raise StorageError("cannot read media file: Input/output error")

    monkeypatch.setattr(store, "open", broken_open)
    with pytest.raises(StorageError, match="Input/output"):
        export_warc(app.sessions, store, out, app.clock)
    assert seen and seen[0].endswith(".warc.gz")
    assert not out.exists()
    assert leftovers(out_folder) == []

    out.write_bytes(b"the previous export")
    with pytest.raises(StorageError):
        export_warc(app.sessions, store, out, app.clock, overwrite=True)
    assert out.read_bytes() == b"the previous export"  # replaced only by a finished file
    assert leftovers(out_folder) == []


def test_a_full_disk_is_a_storage_error_and_no_file(
    app: App, fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    captured_archive(app, fake_server)
    out = tmp_path / "archive.warc.gz"

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(StorageError, match="No space left"):
        export(app, out)
    monkeypatch.undo()
    assert not out.exists() and leftovers(tmp_path) == []


def test_a_missing_folder_is_a_usage_error(app: App, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        export(app, tmp_path / "no" / "such" / "archive.warc.gz")


# --- the query behind it ----------------------------------------------------------------------------------


def test_snapshots_for_export_reads_in_batches_by_embed_and_version(
    app: App, fake_server: FakeServer
) -> None:
    captured_archive(app, fake_server)
    post, reel = embed_id(app, POST[0]), embed_id(app, REEL[0])
    with app.sessions() as session:
        batches = list(queries.snapshots_for_export(session, batch_size=2))
        assert [len(batch) for batch in batches] == [2, 1]
        assert [(s.embed_id, s.version) for batch in batches for s in batch] == sorted(
            [(post, 1), (post, 2), (reel, 1)]
        )
        assert all(len(s.media) == 2 and s.media[0].media_file is not None for b in batches for s in b)
        only_reel = [s.embed.post_id for b in queries.snapshots_for_export(session, [reel]) for s in b]
        assert only_reel == [REEL[0]]
        assert list(queries.snapshots_for_export(session, [])) == []


def test_snapshots_for_export_pages_by_embed_and_version_on_every_database(session: Session) -> None:
    """The keyset (embed, version) row comparison, on SQLite and on PostgreSQL."""
    source = queries.ensure_source(session, "site", "files", START)
    codes = ("AAA", "BBB", "CCC")
    refs = [
        EmbedRef("instagram", c, f"https://www.instagram.com/p/{c}/", MarkupKind.BLOCKQUOTE) for c in codes
    ]
    article = Article("a.html", "site", b"<p>x</p>", "<p>x</p>", "utf-8", "0" * 64)
    queries.save_scan(session, source, article, refs, START)
    ids = {}
    thumb = queries.StoredMediaRef(
        "thumbnail", "https://cdn.example/t.jpg", "oembed", "ab" * 32, "image/jpeg", 5, None
    )
    for code in codes:
        embed = queries.find_embed(session, code)
        assert embed is not None
        ids[code] = embed.id
        for version in (1, 2):
            capture = Capture(
                "instagram",
                code,
                embed.canonical_url,
                Outcome.OK,
                "ok",
                200,
                fields={"text": Field(f"{code} version {version}", "embed_page")},
            )
            now = START + timedelta(hours=version)
            assert queries.record_capture(session, embed, capture, [thumb], now, None, None) is not None
    session.commit()

    batches = list(queries.snapshots_for_export(session, batch_size=4))
    assert [len(batch) for batch in batches] == [4, 2]
    order = [(s.embed.post_id, s.version, s.media[0].media_file.sha256) for b in batches for s in b]
    assert order == [(c, v, "ab" * 32) for c in sorted(codes, key=ids.__getitem__) for v in (1, 2)]
    chosen = [ids["CCC"], ids["AAA"], 10_000]
    picked = [
        (s.embed.post_id, s.version)
        for b in queries.snapshots_for_export(session, chosen, batch_size=1)
        for s in b
    ]
    assert sorted(picked) == [("AAA", 1), ("AAA", 2), ("CCC", 1), ("CCC", 2)]
