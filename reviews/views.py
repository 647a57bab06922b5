"""The reviews app's pages live in sub-packages (``reviews.queue`` and
``reviews.ruleadmin``); ``queue`` stays importable here for ``reviews:queue``."""

from reviews.queue.views import queue

__all__ = ["queue"]
