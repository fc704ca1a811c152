"""What several platform providers share; no platform's own knowledge beyond what two of them share.

    base         the `Provider` base class (detection hooks, the default oEmbed ladder) and the records
                 detection hands the scanner: PostUrl, Sighting, MarkupFields, Page; text helpers
    context      CaptureContext: what a provider is handed to capture one post
    ladder       the capture ladder's shared rungs: a request, its answer classified (DESIGN.md section 6),
                 fields read (text, URLs, ISO times), a climb assembled into a Capture
    public_api   public JSON sources as rungs (X syndication, Bluesky AppView, Mastodon, Reddit .json)
    meta         Meta's Graph API error answers (Instagram, Facebook, Threads)
    av_capture   the oEmbed ladders of the video, audio and music players
    itunes       Apple's item URLs (storefronts) and iTunes lookup API (Apple Music, Apple Podcasts)
    players      `PlayerProvider`: the forms media players take beyond the generic ones
    attribution  "— Name (@handle) Date" lines of microblog embeds (Twitter, Bluesky)
    urlparts     the one URL splitter every provider reads URLs with; query parameters; the corpus form
    pagemeta     what a post's own page says in its head (og, twitter, article meta, JSON-LD), read from
                 archived copies by recovery (`Provider.read_archived_page`'s default)

May import: records, config, errors, clock, http, sanitize, and each other without cycles (urlparts,
pagemeta and context at the bottom, then ladder, base, and the rest above them). Never a platform module
(`providers/NAME.py`) or the registry (`providers/__init__.py`): those import this package.
"""
