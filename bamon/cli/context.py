"""The CLI's Context is the shared one in bamon/context.py (the web service uses it too)."""

from bamon.context import Context

__all__ = ["Context"]
