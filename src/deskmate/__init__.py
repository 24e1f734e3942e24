"""Deskmate: an open-source, self-hosted copilot and intelligence engine for support teams."""

__version__ = "0.1.0"
