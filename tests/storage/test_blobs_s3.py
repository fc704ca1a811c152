"""The S3-compatible media store: same keys and promises as the local one, errors as one line.

S3 is moto's in-process mock (`moto.mock_aws`), which answers botocore's requests without a network;
the capture test drives the real pipeline against the loopback fake Instagram with media going to S3.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from support.fake_server import FakeServer

from archiver.app import App
from archiver.clock import FixedClock
from archiver.config import MediaSettings, load_settings
from archiver.errors import ConfigError, NotFound, StorageError
from archiver.pipeline.capture import capture_due
from archiver.records import Article, EmbedRef, MarkupKind, Outcome
from archiver.storage import blobs, queries
from archiver.storage.models import Snapshot
from tests.support.instagram_world import JPEG, PNG, serve_instagram, settings_for

BUCKET = "archive-media"
REGION = "us-east-1"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials from the environment, and no shared AWS files of the machine running the tests."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def s3(aws_env: None) -> Iterator[Any]:
    """A mocked S3 with the bucket created; yields a plain boto3 client to look inside."""
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket=BUCKET)
        yield client


def keys(client: Any) -> list[str]:
    return sorted(obj["Key"] for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def count_puts(client: Any) -> list[str]:
    """Record the key of every PutObject the client sends (botocore's own event hooks)."""
    puts: list[str] = []
    client.meta.events.register(
        "before-call.s3.PutObject", lambda params, **_: puts.append(params["url_path"])
    )
    return puts


# --- the store ----------------------------------------------------------------------------------------


def test_put_open_round_trip_with_the_content_addressed_layout(s3: Any) -> None:
    store = blobs.S3BlobStore(BUCKET, region=REGION)
    data = PNG
    digest = sha(data)

    stored = store.put(data)

    key = f"{digest[:2]}/{digest[2:4]}/{digest}"
    assert stored == blobs.StoredBlob(sha256=digest, size=len(data), path=f"s3://{BUCKET}/{key}")
    assert store.path_for(digest) == stored.path
    assert keys(s3) == [key]
    assert store.exists(digest) and store.open(digest) == data
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentType"] == "application/octet-stream"
    assert head["Metadata"] == {"sha256": digest}


def test_put_skips_the_upload_when_the_object_is_there(s3: Any) -> None:
    client = boto3.client("s3", region_name=REGION)
    puts = count_puts(client)
    store = blobs.S3BlobStore(BUCKET, client=client)

    first = store.put(b"same bytes")
    second = store.put(b"same bytes")

    assert second == first
    assert len(puts) == 1
    assert keys(s3) == [first.path.removeprefix(f"s3://{BUCKET}/")]


def test_put_repairs_an_object_of_the_wrong_size(s3: Any) -> None:
    client = boto3.client("s3", region_name=REGION)
    store = blobs.S3BlobStore(BUCKET, client=client)
    stored = store.put(b"the real content")
    s3.put_object(Bucket=BUCKET, Key=stored.path.removeprefix(f"s3://{BUCKET}/"), Body=b"trunc")
    puts = count_puts(client)

    assert store.put(b"the real content") == stored
    assert len(puts) == 1
    assert store.open(stored.sha256) == b"the real content"


def test_missing_blob_is_not_found_like_the_local_store(s3: Any, tmp_path: Path) -> None:
    missing = "00" * 32
    for store in (blobs.S3BlobStore(BUCKET), blobs.LocalBlobStore(tmp_path)):
        assert not store.exists(missing)
        with pytest.raises(NotFound, match=missing):
            store.open(missing)


def test_prefix_puts_objects_in_a_folder_of_the_bucket(s3: Any) -> None:
    store = blobs.S3BlobStore(BUCKET, prefix="/archive/media/")
    other = blobs.S3BlobStore(BUCKET, prefix="elsewhere")
    stored = store.put(JPEG)

    key = f"archive/media/{stored.sha256[:2]}/{stored.sha256[2:4]}/{stored.sha256}"
    assert keys(s3) == [key]
    assert stored.path == f"s3://{BUCKET}/{key}"
    assert store.open(stored.sha256) == JPEG
    assert not other.exists(stored.sha256)  # another prefix is another store


def test_bad_hashes_are_refused_before_any_request(s3: Any) -> None:
    store = blobs.S3BlobStore(BUCKET)
    for bad in ("../../etc/passwd", "AB" * 32, "ab" * 31, ""):
        with pytest.raises(ValueError):
            store.path_for(bad)
        with pytest.raises(ValueError):
            store.open(bad)


def test_service_errors_are_one_line_storage_errors(s3: Any) -> None:
    store = blobs.S3BlobStore("no-such-bucket")
    with pytest.raises(StorageError) as put_error:
        store.put(b"x")
    assert "NoSuchBucket" in str(put_error.value) and "\n" not in str(put_error.value)
    with pytest.raises(StorageError) as open_error:  # a missing bucket is not a missing file
        store.open("00" * 32)
    assert not isinstance(open_error.value, NotFound)


def test_unreachable_endpoint_is_a_one_line_storage_error(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = blobs.S3BlobStore(BUCKET, endpoint_url="http://127.0.0.1:9", region=REGION)
    for call in (lambda: store.put(b"x"), lambda: store.exists("00" * 32), lambda: store.open("00" * 32)):
        with pytest.raises(StorageError) as error:
            call()
        message = str(error.value)
        assert "127.0.0.1:9" in message and "\n" not in message
        assert not isinstance(error.value, NotFound)


def test_missing_credentials_are_a_one_line_storage_error(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-role lookup on the network
    store = blobs.S3BlobStore(BUCKET, endpoint_url="http://127.0.0.1:9", region=REGION)
    with pytest.raises(StorageError, match="credentials"):
        store.put(b"x")


def test_s3_store_is_a_blob_store(s3: Any) -> None:
    store: blobs.BlobStore = blobs.S3BlobStore(BUCKET)
    assert store.exists(store.put(b"x").sha256)


# --- settings and the factory ---------------------------------------------------------------------------


def test_blob_store_follows_the_settings(s3: Any, tmp_path: Path) -> None:
    local = blobs.blob_store(MediaSettings(dir=tmp_path / "media"))
    assert isinstance(local, blobs.LocalBlobStore) and local.root == tmp_path / "media"
    remote = blobs.blob_store(MediaSettings(backend="s3", s3_bucket=BUCKET, s3_prefix="m", s3_region=REGION))
    assert isinstance(remote, blobs.S3BlobStore)
    assert remote.path_for("ab" * 32) == f"s3://{BUCKET}/m/ab/ab/{'ab' * 32}"


def write_config(tmp_path: Path, media: str) -> Path:
    path = tmp_path / "archiver.toml"
    path.write_text(f"[media]\n{media}\n", encoding="utf-8")
    return path


def test_s3_settings_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        'backend = "s3"\ns3_bucket = "media-bucket"\ns3_prefix = "archive"\n'
        's3_endpoint_url = "http://minio.internal:9000"\ns3_region = ""\n',
    )
    media = load_settings(path, {}).media
    assert (media.backend, media.s3_bucket, media.s3_prefix) == ("s3", "media-bucket", "archive")
    assert (media.s3_endpoint_url, media.s3_region) == ("http://minio.internal:9000", None)

    env = {"ARCHIVER_MEDIA__BACKEND": "s3", "ARCHIVER_MEDIA__S3_BUCKET": "from-env"}
    assert load_settings(None, env).media.s3_bucket == "from-env"
    assert load_settings(None, {}).media.backend == "local"


@pytest.mark.parametrize(
    ("media", "message"),
    [
        ('backend = "s3"', "media.s3_bucket is required"),
        ('backend = "s3"\ns3_bucket = ""', "media.s3_bucket is required"),
        ('backend = "azure"', "media.backend"),
        ('s3_bucket = "s3://my-bucket/media"', "media.s3_bucket"),
        ('s3_endpoint_url = "minio:9000"', "media.s3_endpoint_url"),
        ('s3_endpoint_url = "https://key:secret@minio.internal"', "credentials in the endpoint URL"),
        ('s3_secret_access_key = "abc"', "standard AWS chain"),
        ('aws_access_key_id = "AKIA..."', "standard AWS chain"),
    ],
)
def test_bad_s3_settings_give_one_line_naming_the_key(tmp_path: Path, media: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(write_config(tmp_path, media), {})
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert "secret@" not in str(error.value) and '"abc"' not in str(error.value)


# --- the capture pipeline stores media in S3 -----------------------------------------------------------


def test_capture_stores_media_in_the_bucket(s3: Any, fake_server: FakeServer, tmp_path: Path) -> None:
    settings = settings_for(
        fake_server,
        tmp_path,
        media={"dir": str(tmp_path / "media"), "backend": "s3", "s3_bucket": BUCKET, "s3_prefix": "media"},
    )
    app = App(settings, FixedClock(NOW), {})
    try:
        assert isinstance(app.blobs, blobs.S3BlobStore)
        serve_instagram(fake_server)
        ref = EmbedRef(
            "instagram", "B9bOM-6Ax_d", "https://www.instagram.com/p/B9bOM-6Ax_d/", MarkupKind.LINK
        )
        with app.sessions() as session, session.begin():
            source = queries.ensure_source(session, "test", "files", NOW)
            article = Article("a.html", "test", b"<p>x</p>", "<p>x</p>", "utf-8", "0" * 64)
            queries.save_scan(session, source, article, [ref], NOW)

        report = capture_due(app.sessions, app.capture_deps())

        assert [item.outcome for item in report.items] == [Outcome.OK]
        with app.sessions() as session:
            snapshot = session.query(Snapshot).one()
            stored = {m.kind: m.media_file.sha256 for m in snapshot.media if m.media_file is not None}
        assert stored == {"thumbnail": sha(JPEG), "image": sha(PNG)}
        assert keys(s3) == sorted(f"media/{h[:2]}/{h[2:4]}/{h}" for h in stored.values())
        assert app.blobs.open(sha(PNG)) == PNG
        assert not (tmp_path / "media").exists()  # nothing went to the local folder
    finally:
        app.close()
