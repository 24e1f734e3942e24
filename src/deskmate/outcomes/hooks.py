"""Score a conversation the moment it closes.

`OutcomeScoring` answers `conversation_closed` (declared in `deskmate.conversations.events`,
registered first by `deskmate.plugins`, so insights and learning see the scores). It runs in its
own savepoint: scores are derived data, so a scoring failure is logged and never blocks closing
the conversation (the scorecard is computed on demand later).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from deskmate.conversations.events import hookimpl


class OutcomeScoring:
    """Scores each closed conversation with the models under `settings`."""

    def __init__(self, settings):
        self.settings = settings

    @hookimpl
    def conversation_closed(self, session: Session, conversation) -> None:
        from deskmate.outcomes.service import score_conversation

        score_conversation(session, settings=self.settings, tenant_id=conversation.tenant_id,
                           conversation_id=conversation.id)
