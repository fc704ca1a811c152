"""X / Twitter, capture rung 3 and X's error bodies: the syndication JSON the embed widget reads
(`cdn.syndication.twimg.com/tweet-result`, reference/providers.md section 2), and the errors X names in
4xx answers of it and of publish.twitter.com's oEmbed.

The syndication API asks for a `token` computed from the tweet id the way the widget computes it
(`syndication_token`). Its answer is the tweet (text, exact time, author, photos and video poster), or a
`TweetTombstone` for a tweet removed or withheld. The detection and the rest of the ladder are in
`twitter.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from urllib.parse import urlencode

from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import RungResult, add_media, iso_utc, reclassified, url_field
from archiver.providers.common.public_api import error_object, fill, items, obj, one_line, put, request_json
from archiver.records import Field, MediaRef, Outcome

# Tweets and profiles are written on x.com (`twitter.py` writes its canonical tweet URLs on it too).
CANONICAL_BASE = "https://x.com"
_SCREEN_NAME = re.compile(r"[A-Za-z0-9_]{1,15}")
_RADIX_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
# X error codes (v1.1 API and publish.twitter.com bodies, reference/providers.md section 2): the tweet
# does not exist; a platform outage (March 2023: never a verdict on the post); a protected account or a
# suspended one (not deleted: may come back).
_X_NOT_FOUND = frozenset({34, 144})
_X_OUTAGE = frozenset({467})
_X_NOT_ALLOWED = frozenset({63, 179})


def syndication_rung(
    ctx: CaptureContext, base: str, tweet_id: str, fields: dict[str, Field], media: list[MediaRef]
) -> RungResult:
    """Rung 3: the syndication JSON of the tweet (`base`: the `syndication_base` setting), read into
    `fields` and `media`; a tombstone is gone, a JSON that is not the tweet asked about ambiguous."""
    query = urlencode({"id": tweet_id, "token": syndication_token(tweet_id), "lang": "en"})
    result, data = request_json(ctx, f"{base}/tweet-result?{query}", "syndication", "syndication")
    result = x_error_outcome(result, "syndication")
    if data is None:
        return result
    if data.get("__typename") == "TweetTombstone":
        said = one_line(obj(obj(data, "tombstone"), "text").get("text", ""))
        reason = "syndication: the tweet is a tombstone (removed or withheld)" + (f": {said}" if said else "")
        return reclassified(result, Outcome.GONE, reason)
    user = obj(data, "user")
    if not (isinstance(data.get("id_str"), str) and isinstance(data.get("text"), str) and user):
        return reclassified(
            result,
            Outcome.AMBIGUOUS,
            "syndication: 200 but the JSON is not a tweet (no id_str, text or user)",
        )
    if data["id_str"] != tweet_id:
        return reclassified(
            result,
            Outcome.AMBIGUOUS,
            f"syndication: 200 but for another tweet ({one_line(data['id_str'], 30)})",
        )
    _syndication_fields(data, user, fields, media)
    return result


def syndication_token(tweet_id: str) -> str:
    """The `token` the syndication API asks for: ((id / 1e15) * pi) written in base 36 with its zeros
    and point removed, as the embed widget computes it (reference/providers.md section 2)."""
    return re.sub(r"0+|\.", "", _js_base36(int(tweet_id) / 1e15 * math.pi))


def _js_base36(value: float) -> str:
    """`Number.prototype.toString(36)` of a non-negative double as V8 writes it: integer digits, then
    fraction digits until the value is told apart from its neighbours (half an ulp), rounded to even."""
    integer = math.floor(value)
    fraction = value - integer
    delta = max(0.5 * math.ulp(value), math.nextafter(0.0, 1.0))
    digits: list[int] = []
    while fraction >= delta:
        fraction *= 36
        delta *= 36
        digit = int(fraction)
        digits.append(digit)
        fraction -= digit
        if (fraction > 0.5 or (fraction == 0.5 and digit & 1)) and fraction + delta > 1:
            while digits:  # round up, carrying through the digits written so far
                last = digits.pop() + 1
                if last < 36:
                    digits.append(last)
                    break
            else:
                integer += 1
            break
    head = ""
    number = int(integer)
    while True:
        number, digit = divmod(number, 36)
        head = _RADIX_DIGITS[digit] + head
        if number == 0:
            break
    return head + ("." + "".join(_RADIX_DIGITS[d] for d in digits) if digits else "")


def _syndication_fields(
    data: Mapping[str, object], user: Mapping[str, object], fields: dict[str, Field], media: list[MediaRef]
) -> None:
    name = user.get("name")
    put(fields, "author_name", one_line(name, 200) if isinstance(name, str) else None, "syndication")
    screen_name = user.get("screen_name")
    if isinstance(screen_name, str) and _SCREEN_NAME.fullmatch(screen_name):
        put(fields, "handle", screen_name, "syndication")
        fill(fields, "author_url", f"{CANONICAL_BASE}/{screen_name}", "syndication")
    put(fields, "published", iso_utc(data.get("created_at")), "syndication")
    fill(fields, "text", _display_text(data), "syndication")
    found: list[MediaRef] = []
    for photo in items(data, "photos"):
        image = url_field(photo, "url")
        if image:
            found.append(MediaRef("image", image, "syndication"))
    poster = url_field(obj(data, "video"), "poster")
    if poster:
        found.append(MediaRef("thumbnail", poster, "syndication"))
    if not found:
        for detail in items(data, "mediaDetails"):
            image = url_field(detail, "media_url_https")
            if image:
                found.append(
                    MediaRef("image" if detail.get("type") == "photo" else "thumbnail", image, "syndication")
                )
    add_media(media, found)


def _display_text(data: Mapping[str, object]) -> str | None:
    """The tweet text without the trailing media link: `display_text_range` counts UTF-16 code units (the
    recorded payload's range ends at 277 for a text of 276 characters, one of them an emoji)."""
    text = data.get("text")
    if not isinstance(text, str):
        return None
    units = text.encode("utf-16-le", errors="surrogatepass")
    span = data.get("display_text_range")
    if (
        isinstance(span, list)
        and len(span) == 2
        and all(isinstance(i, int) and not isinstance(i, bool) for i in span)
        and 0 <= span[0] < span[1] <= len(units) // 2
    ):
        text = units[2 * span[0] : 2 * span[1]].decode("utf-16-le", errors="ignore")
    return text.strip()[:20_000] or None


def x_error_outcome(result: RungResult, what: str) -> RungResult:
    """Refine a 4xx answer from X by the error it names (`{"errors": [{"code", "message"}]}` or
    `{"error": "..."}`): a tweet that does not exist is gone, a platform outage transient, a protected or
    suspended account ambiguous; other errors keep their status's outcome, with X's words added."""
    if result.outcome is Outcome.OK or result.status is None or not 400 <= result.status < 500:
        return result
    body = error_object(result.body)
    errors = items(body, "errors")
    codes = {code for e in errors if isinstance(code := e.get("code"), int)}
    message = one_line(
        next((e.get("message") for e in errors if e.get("message")), None) or body.get("error") or ""
    )
    if not (codes or message):
        return result
    code = f" (#{min(codes)})" if codes else ""
    if codes & _X_OUTAGE:
        return reclassified(result, Outcome.TRANSIENT, f"{what}: X platform outage{code}: {message}")
    if codes & _X_NOT_FOUND:
        return reclassified(result, Outcome.GONE, f"{what}: X says the tweet does not exist{code}: {message}")
    if codes & _X_NOT_ALLOWED or "not authorized" in message.lower():
        return reclassified(result, Outcome.AMBIGUOUS, f"{what}: X will not show it{code}: {message}")
    return reclassified(result, result.outcome, f"{result.reason}: X says{code} {message}")
