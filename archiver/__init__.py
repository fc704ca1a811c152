"""embed-archiver: find social embeds in articles, snapshot them while alive, keep articles readable."""

__version__ = "0.1.0"
