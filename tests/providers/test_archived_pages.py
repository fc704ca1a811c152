"""Reading archived copies of posts' own pages (`Provider.archived_pages`, `read_archived_page`): the
generic og / twitter / JSON-LD reading, Instagram's embed and post pages, Twitter's status pages. The
pages are synthetic, in the shapes the platforms served (tests/support/recover_world_NOTES.md)."""

from __future__ import annotations

import tests.support.recover_world as world
from archiver.providers import provider_named
from archiver.providers.common.base import PostUrl

TWEET = "1256632460130639872"
STATUS_PAGE = (
    '<!DOCTYPE html><html><head><title>Jane Doe on Twitter: "Hello"</title>'
    f'<meta property="og:url" content="https://twitter.com/janedoe/status/{TWEET}">'
    '<meta property="og:title" content="Jane Doe on Twitter">'
    '<meta property="og:description" content="“The bridge is open again. Thanks to everyone who helped!”">'
    '<meta property="og:image" content="https://pbs.twimg.com/profile_images/1/avatar_400x400.jpg">'
    "</head><body></body></html>"
)


def test_instagram_reads_its_archived_post_page_and_embed_page_and_refuses_walls() -> None:
    instagram = provider_named("instagram")
    post = PostUrl("instagram", world.TRAINING_POST, world.post_url(world.TRAINING_POST))
    assert instagram.archived_pages(post) == (world.embed_page_url(world.TRAINING_POST), post.url)
    page = world.post_page(world.TRAINING_POST, world.POST_CAPTION, world.TRAINING_IMAGE).decode()
    shown = instagram.read_archived_page(post, post.url, page)
    assert shown is not None
    assert dict(shown.fields) == {
        "author_name": "Hayley Atwell",
        "handle": "wellhayley",
        "author_url": "https://www.instagram.com/wellhayley/",
        "text": world.POST_CAPTION,
    }
    assert shown.image_url == world.TRAINING_IMAGE
    # Since 2021 Instagram writes the handle and the date, not the name.
    newer = page.replace(
        "45.2k Likes, 512 Comments - Hayley Atwell (@wellhayley) on Instagram:",
        "12K likes, 300 comments - wellhayley on March 15, 2021:",
    )
    read = instagram.read_archived_page(post, post.url, newer)
    assert read is not None and read.fields["published"] == "2021-03-15"
    assert read.fields["handle"] == "wellhayley" and read.fields["text"] == world.POST_CAPTION
    # Another post's page (a redirect), a login wall and "this page isn't available" show no post.
    other = page.replace(world.TRAINING_POST, world.DRIVING_POST)
    assert instagram.read_archived_page(post, post.url, other) is None
    assert instagram.read_archived_page(post, post.url, world.LOGIN_WALL.decode()) is None
    gone = page.replace("<body>", "<body><h2>Sorry, this page isn't available.</h2>")
    assert instagram.read_archived_page(post, post.url, gone) is None
    embed = instagram.read_archived_page(
        post, world.embed_page_url(world.TRAINING_POST), world.embed_page("Hi", world.TRAINING_IMAGE).decode()
    )
    assert embed is not None and embed.fields["text"] == "Hi" and embed.fields["handle"] == "wellhayley"


def test_twitter_reads_an_archived_status_page_and_never_takes_the_avatar_for_the_tweets_image() -> None:
    twitter = provider_named("twitter")
    post = PostUrl("twitter", TWEET, f"https://x.com/janedoe/status/{TWEET}")
    assert twitter.archived_pages(post) == (f"https://twitter.com/janedoe/status/{TWEET}", post.url)
    shown = twitter.read_archived_page(post, twitter.archived_pages(post)[0], STATUS_PAGE)
    assert shown is not None
    assert dict(shown.fields) == {
        "author_name": "Jane Doe",
        "text": "The bridge is open again. Thanks to everyone who helped!",
        "handle": "janedoe",
        "author_url": "https://x.com/janedoe",
    }
    assert shown.image_url is None  # the author's avatar, not the tweet's media
    media = STATUS_PAGE.replace(
        '<meta property="og:image" content="https://pbs.twimg.com/profile_images/1/avatar_400x400.jpg">',
        '<meta property="og:image" content="https://pbs.twimg.com/media/EXsynth.jpg:large">'
        '<meta property="og:image:user_generated" content="true">',
    )
    with_media = twitter.read_archived_page(post, post.url, media)
    assert with_media is not None and with_media.image_url == "https://pbs.twimg.com/media/EXsynth.jpg:large"
    # The home page or a login wall after a redirect names no status: nothing.
    home = STATUS_PAGE.replace(f"https://twitter.com/janedoe/status/{TWEET}", "https://twitter.com/")
    assert twitter.read_archived_page(post, post.url, home) is None


def test_the_generic_reading_takes_json_ld_and_meta_only_from_a_page_that_names_the_post() -> None:
    youtube = provider_named("youtube")
    post = youtube.parse_url("https://www.youtube.com/watch?v=dQw4w9WgXcQ")
    assert post is not None and youtube.archived_pages(post) == (post.url,)
    page = (
        "<html><head>"
        f'<link rel="canonical" href="{post.url}">'
        '<meta property="og:title" content="A synthetic video">'
        '<meta property="og:description" content="What the video is about.">'
        '<meta property="og:image" content="https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg">'
        '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "VideoObject",'
        ' "name": "A synthetic video", "uploadDate": "2009-10-25",'
        ' "author": {"@type": "Person", "name": "Some Channel"}}</script>'
        "</head><body></body></html>"
    )
    shown = youtube.read_archived_page(post, post.url, page)
    assert shown is not None
    assert dict(shown.fields) == {
        "title": "A synthetic video",
        "published": "2009-10-25",
        "author_name": "Some Channel",
        "text": "What the video is about.",
    }
    assert shown.image_url == "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"
    elsewhere = page.replace(post.url, "https://www.youtube.com/")
    assert youtube.read_archived_page(post, post.url, elsewhere) is None
