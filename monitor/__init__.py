"""monitor: watch feeds and social media for posts related to an article."""

__version__ = "0.1.0"
