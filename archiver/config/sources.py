"""`[[sources]]`: where articles come from (files, sql, wordpress), and each source's mode."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from archiver.config.values import Section, parse_rate


class SourceSettings(Section):
    name: str = Field(description="Name of the source, unique; shown in reports.")
    kind: Literal["files", "sql", "wordpress"] = Field(
        "files",
        description="Where articles come from: files, a table of a SQL database (sql), or a WordPress "
        "site through its REST API (wordpress).",
    )
    path: str = Field(
        "", description="files: a folder (all *.html below it) or a glob such as articles/**/*.html."
    )
    url: str = Field(
        "",
        description="sql: SQLAlchemy URL of the database holding the articles, without a password "
        "(put a URL with one in the variable named by url_env). wordpress: the site's root URL, as "
        "WordPress knows it (its Site Address), e.g. https://news.example.org.",
    )
    url_env: str = Field(
        "", description="sql: environment variable holding the database URL (wins over url)."
    )
    table: str = Field("", description='sql: the articles table, e.g. "wp_posts" or "cms.articles".')
    key_column: str = Field("", description="sql: the column that names an article (its primary key).")
    body_column: str = Field("", description="sql: the column holding the article's HTML.")
    version_column: str = Field(
        "",
        description="sql: a column the CMS changes on every save (an integer revision, bumped by one "
        "on a rewrite, or a timestamp, set to now); empty: writes compare the whole body instead.",
    )
    where: str = Field(
        "",
        description="sql: a SQL condition choosing the rows that are articles, e.g. "
        "\"post_status = 'publish'\" (trusted text from your config, pasted into the query).",
    )
    user: str = Field("", description="wordpress: the WordPress user name the archiver works as.")
    password_env: str = Field(
        "",
        description="wordpress: environment variable holding that user's application password "
        "(Users > Profile > Application Passwords); never in this file.",
    )
    post_types: tuple[str, ...] = Field(
        ("post", "page"), description="wordpress: the post types scanned (their REST routes are asked for)."
    )
    statuses: tuple[str, ...] = Field(
        ("publish",), description='wordpress: the post statuses scanned, e.g. ["publish", "future"].'
    )
    rate: str = Field(
        "5/s", description='wordpress: the site\'s request budget ("5/s", "3000/h"), one for all processes.'
    )
    concurrency: int = Field(
        2, ge=1, le=16, description="wordpress: requests a run (a scan, a rewrite) has in flight at once."
    )
    mode: Literal["monitor", "approve", "apply"] = Field(
        "approve",
        description="What a rewrite (`archive rewrite`, the daemon) does with broken embeds: monitor "
        "(report only), approve (an editor approves each rewrite), apply (rewrite at once).",
    )
    restore_on_return: bool = Field(
        True, description="Undo a rewrite by itself when its embed comes back alive."
    )

    @model_validator(mode="after")
    def _kind_keys(self) -> SourceSettings:
        if self.kind == "files":
            if not self.path.strip():
                raise ValueError(f"source {self.name!r}: path is required for a files source")
            return self
        if self.kind == "wordpress":
            return self._wordpress_keys()
        missing = [k for k in ("table", "key_column", "body_column") if not getattr(self, k).strip()]
        if not self.url.strip() and not self.url_env.strip():
            missing.insert(0, "url (or url_env)")
        if missing:
            raise ValueError(f"source {self.name!r}: a sql source needs {', '.join(missing)}")
        if urlsplit(self.url.strip()).password:
            raise ValueError(
                f"source {self.name!r}: url holds a password; put the URL in an environment variable "
                "and name it in url_env"
            )
        return self

    def _wordpress_keys(self) -> SourceSettings:
        missing = [k for k in ("url", "user", "password_env") if not getattr(self, k).strip()]
        if missing:
            raise ValueError(f"source {self.name!r}: a wordpress source needs {', '.join(missing)}")
        parts = urlsplit(self.url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"source {self.name!r}: url {self.url!r} is not an http(s) URL")
        if parts.username or parts.password:
            raise ValueError(
                f"source {self.name!r}: url holds credentials; give the user in user and the "
                "application password in the variable named by password_env"
            )
        if parts.query or parts.fragment:
            raise ValueError(f"source {self.name!r}: url is the site root, without ?query or #fragment")
        try:
            parse_rate(self.rate)
        except ValueError as exc:
            raise ValueError(f"source {self.name!r}: rate: {exc}") from None
        if not self.post_types or not self.statuses:
            raise ValueError(f"source {self.name!r}: post_types and statuses must not be empty")
        return self
