"""Score a conversation the moment it closes.

`deskmate.conversations.service.update_conversation` calls `conversation_closed` when a
conversation's status becomes closed. Listeners run inside a savepoint: scores are derived
data, so a scoring failure is logged and never blocks closing the conversation (the
scorecard is computed on demand later).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

log = logging.getLogger("deskmate.outcomes")

_settings = None


def configure(settings) -> None:
    """The app factory's settings (models directory) for scoring on close; defaults to the environment's."""
    global _settings
    _settings = settings


def _current_settings():
    if _settings is not None:
        return _settings
    from deskmate.config import get_settings

    return get_settings()


def score_on_close(session: Session, conversation) -> None:
    from deskmate.outcomes.service import score_conversation

    score_conversation(session, settings=_current_settings(), tenant_id=conversation.tenant_id,
                       conversation_id=conversation.id)


closed_listeners: list[Callable[[Session, object], None]] = [score_on_close]


def conversation_closed(session: Session, conversation) -> None:
    for listener in closed_listeners:
        try:
            with session.begin_nested():
                listener(session, conversation)
        except Exception:
            log.exception("outcomes: listener %s failed for conversation %s", getattr(listener, "__name__", listener),
                          conversation.id)
