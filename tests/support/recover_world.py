"""Synthetic earlier copies of the two seed articles (and of a third one that never held an embed), as
a WARC for a real pywb: see recover_world_NOTES.md. Nothing here was captured from a real archive.

    SITE                      the articles' public URLs: https://news.example/{path_noext}/
    write_warc(path)          the WARC: for each article, an earlier copy and a later, broken one
    write_articles(folder)    the articles as they are now (the seed pages, as published after the break)
    write_post_pages_warc(path)   the posts' own pages too: the driving post's captioned embed page, the
                              training post's page (a login wall, then an older copy with og meta), their
                              images; the training article's earlier copy holds a v14 embed (no caption)
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "seeds"
SITE = "https://news.example"
DRIVING = "atwell-driving"  # seed-001: the residue line "A post shared by Hayley Atwell (@wellhayley)"
TRAINING = "atwell-training"  # seed-000: "Check out the video below." over nothing
QUIET = "quiet-story"  # a lead-in whose copies never held an embed
# Made-up shortcodes: the synthetic copies' posts.
DRIVING_POST = "CSynthDrv01"
TRAINING_POST = "CSynthTrn02"
RESIDUE_LINE = b"<p>A post shared by Hayley Atwell (@wellhayley)</p>"
LEAD_IN_END = b"Check out the video below.</p>"
QUIET_PAGE = (
    b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Quiet</title></head><body><article>'
    b"<p>The council met on Tuesday and the mayor spoke about the budget for the coming year.</p>"
    b"<p>Here's the tweet:</p>"
    b"<p>The budget passed by a narrow margin after a long debate about road repairs in the north.</p>"
    b"</article></body></html>"
)


def url_of(name: str) -> str:
    return f"{SITE}/{name}/"


def blockquote(code: str, caption: str, date: str) -> bytes:
    """An Instagram v12 captioned embed as publishers pasted it (caption, attribution line, date)."""
    permalink = f"https://www.instagram.com/p/{code}/?utm_source=ig_embed&amp;utm_campaign=loading"
    return (
        f'<blockquote class="instagram-media" data-instgrm-captioned data-instgrm-permalink="{permalink}" '
        f'data-instgrm-version="12"><div style="padding:8px;"><p style="margin:8px 0 0 0;">'
        f'<a href="{permalink}" target="_blank">{caption}</a></p>'
        f'<p style="margin-bottom:0; margin-top:8px;">A post shared by '
        '<a href="https://www.instagram.com/wellhayley/?utm_source=ig_embed" target="_blank">'
        "Hayley Atwell</a> "
        f'(@wellhayley) on <time style="font-family:Arial" datetime="{date}">{date[:10]}</time></p>'
        f"</div></blockquote>\n"
        f'<script async src="//www.instagram.com/embed.js"></script>'
    ).encode()


def seed(name: str) -> bytes:
    return (SEEDS / name).read_bytes()


def earlier_driving() -> bytes:
    page = seed("seed-001.html")
    assert page.count(RESIDUE_LINE) == 1
    embed = blockquote(DRIVING_POST, "My new driving instructor 🚗 #MI7", "2020-10-02T18:04:11+00:00")
    return page.replace(RESIDUE_LINE, embed)


def earlier_training() -> bytes:
    page = seed("seed-000.html")
    assert page.count(LEAD_IN_END) == 1
    embed = blockquote(
        TRAINING_POST, "Training day. Every day. #MissionImpossible", "2021-03-15T09:30:00+00:00"
    )
    return page.replace(LEAD_IN_END, LEAD_IN_END + b"\n" + embed)


def write_warc(path: Path, extra: tuple[tuple[str, str, bytes], ...] = ()) -> Path:
    """Earlier copies with the embeds in place, later copies as broken as the seeds, and two copies of the
    quiet story: (url, WARC-Date, body); `extra` copies after them."""
    records = [
        (url_of(DRIVING), "2020-10-05T08:15:00Z", earlier_driving()),
        (url_of(DRIVING), "2023-01-20T10:00:00Z", seed("seed-001.html")),
        (url_of(TRAINING), "2021-03-20T12:00:00Z", earlier_training()),
        (url_of(TRAINING), "2023-02-01T12:00:00Z", seed("seed-000.html")),
        (url_of(QUIET), "2021-06-01T12:00:00Z", QUIET_PAGE),
        (url_of(QUIET), "2022-06-01T12:00:00Z", QUIET_PAGE),
        *extra,
    ]
    return _write(path, records)


# ---- the posts' own pages (synthetic too: recover_world_NOTES.md) -------------------------------------
POST_CAPTION = "Training day. Every day. #MissionImpossible"
DRIVING_IMAGE = "https://scontent.cdninstagram.com/v/t51.2885-15/synthetic-drv01.jpg"
TRAINING_IMAGE = "https://scontent.cdninstagram.com/v/t51.2885-15/synthetic-trn02.jpg"
# Not photographs: the smallest bytes the media store takes for a JPEG (its magic number), each its own.
DRIVING_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00synthetic driving image\xff\xd9"
TRAINING_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00synthetic training image\xff\xd9"
LOGIN_WALL = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Login \xe2\x80\xa2 Instagram</title>'
    b'<meta property="og:title" content="Instagram"></head><body><form><input name="username">'
    b'<input type="password" name="password"><button>Log in</button></form></body></html>'
)


def post_url(code: str) -> str:
    return f"https://www.instagram.com/p/{code}/"


def embed_page_url(code: str) -> str:
    return f"https://www.instagram.com/p/{code}/embed/captioned/"


def blockquote_v14(code: str) -> bytes:
    """An Instagram v14 embed as publishers pasted it: no caption, only "View this post" and the line."""
    permalink = f"https://www.instagram.com/p/{code}/?utm_source=ig_embed&amp;utm_campaign=loading"
    return (
        f'<blockquote class="instagram-media" data-instgrm-permalink="{permalink}" data-instgrm-version="14">'
        f'<div><a href="{permalink}" target="_blank"><div>View this post on Instagram</div></a>'
        f'<p style="margin-bottom:0; margin-top:8px;"><a href="{permalink}" target="_blank">'
        "A post shared by Hayley Atwell (@wellhayley)</a></p></div></blockquote>\n"
        '<script async src="//www.instagram.com/embed.js"></script>'
    ).encode()


def earlier_training_v14() -> bytes:
    page = seed("seed-000.html")
    return page.replace(LEAD_IN_END, LEAD_IN_END + b"\n" + blockquote_v14(TRAINING_POST))


def post_page(code: str, caption: str, image: str) -> bytes:
    """A post page as Instagram served it around 2021: og meta in the head, the rest drawn by script."""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Hayley Atwell on Instagram: “{caption}”</title>"
        f'<meta property="og:url" content="{post_url(code)}">'
        f'<meta property="og:title" content="Hayley Atwell on Instagram: “{caption}”">'
        '<meta property="og:description" content="45.2k Likes, 512 Comments - Hayley Atwell (@wellhayley) '
        f'on Instagram: “{caption}”">'
        f'<meta property="og:image" content="{image}">'
        '</head><body><div id="react-root"></div></body></html>'
    ).encode()


def embed_page(caption: str, image: str) -> bytes:
    """The captioned embed page as Instagram served it: caption, handle and image in plain HTML."""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Instagram</title></head><body>'
        f'<div class="Embed"><img class="EmbeddedMediaImage" src="{image}" alt="">'
        '<div class="Caption"><a class="CaptionUsername" href="https://www.instagram.com/wellhayley/">'
        f'wellhayley</a><br>{caption}<div class="CaptionComments"></div></div></div></body></html>'
    ).encode()


def write_post_pages_warc(path: Path) -> Path:
    """The articles' earlier copies (the training one with a v14 embed: its markup gives no caption), the
    driving post's captioned embed page with its image, and the training post's page: a login wall in
    2023, an older copy with og meta and its image in 2021."""
    records = [
        (url_of(DRIVING), "2020-10-05T08:15:00Z", earlier_driving()),
        (url_of(TRAINING), "2021-03-20T12:00:00Z", earlier_training_v14()),
        (url_of(QUIET), "2021-06-01T12:00:00Z", QUIET_PAGE),
        (
            embed_page_url(DRIVING_POST),
            "2020-10-06T09:00:00Z",
            embed_page("My new driving instructor", DRIVING_IMAGE),
        ),
        (DRIVING_IMAGE, "2020-10-06T09:00:00Z", DRIVING_JPEG),
        (post_url(TRAINING_POST), "2023-02-02T12:00:00Z", LOGIN_WALL),
        (
            post_url(TRAINING_POST),
            "2021-03-21T12:00:00Z",
            post_page(TRAINING_POST, POST_CAPTION, TRAINING_IMAGE),
        ),
        (TRAINING_IMAGE, "2021-03-21T12:00:00Z", TRAINING_JPEG),
    ]
    return _write(path, records)


def _write(path: Path, records: list[tuple[str, str, bytes]]) -> Path:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, date, body in records:
            kind = "image/jpeg" if body.startswith(b"\xff\xd8") else "text/html; charset=utf-8"
            headers = StatusAndHeaders("200 OK", [("Content-Type", kind)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url,
                "response",
                payload=BytesIO(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)
            record.raw_stream.close()  # warcio's spooled digest buffer, left open otherwise
    return path


def write_articles(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pages = {DRIVING: seed("seed-001.html"), TRAINING: seed("seed-000.html"), QUIET: QUIET_PAGE}
    written = {}
    for name, data in pages.items():
        path = folder / f"{name}.html"
        path.write_bytes(data)
        written[name] = path
    return written


def config(
    folder: Path,
    archive_base: str,
    http: str = "",
    mode: str = "approve",
    more: str = "",
    database: str = "sqlite:///archive.db",
) -> str:
    """The config of the recovery tests: the articles as source `site` in `mode`, one archive `local`;
    `more` is appended (provider tables, `[recover]`)."""
    return (
        f'[database]\nurl = "{database}"\n[media]\ndir = "media"\n'
        f'[http]\nallow_networks = ["127.0.0.0/8"]\n{http}'
        f'[[sources]]\nname = "site"\nkind = "files"\npath = "{folder}"\nmode = "{mode}"\n'
        f'url_template = "{SITE}/{{path_noext}}/"\n'
        f'[[archives]]\nname = "local"\nbase = "{archive_base}"\nrate = "600/m"\n{more}'
    )


def instagram_gone(server_url: str) -> str:
    """Config for an Instagram on loopback (`server_url`) where every post answers 404: gone."""
    return (
        f'[providers.instagram]\noembed_endpoint = "{server_url}/v26.0/instagram_oembed"\n'
        f'embed_page_base = "{server_url}"\naccess_token_env = "TEST_META_TOKEN"\n'
    )
