"""Where the learning loop plugs into the rest of Deskmate: on close, and on a reason relabel.

`LearningLoop` answers two conversation events (`deskmate.conversations.events`), registered by
`deskmate.plugins` after outcome scoring:
- `conversation_closed`: the conversation's feedback is joined to its outcome, and the process's
  live ranker is told to read the new rows on its next call: the online update.
- `conversation_relabelled`: a reason changed from one label to another (an agent's PATCH, a
  supervisor's correction) leaves an `IntentCorrection`, training data for the next intent model.
  Setting a reason where there was none is a label, not a correction, and the conversations
  service does not fire the event for it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.conversations.events import hookimpl

SKIP_RELABEL = "learning_skip_relabel"  # session.info flag: the caller records the correction itself


class LearningLoop:
    """The learning loop's listeners, with the ranker store and models under `settings`."""

    def __init__(self, settings):
        self.settings = settings

    @hookimpl
    def conversation_closed(self, session: Session, conversation) -> None:
        from deskmate.accounts.models import Tenant
        from deskmate.learning.feedback import join_conversations
        from deskmate.learning.ranking import registry

        slug = session.scalar(select(Tenant.slug).where(Tenant.id == conversation.tenant_id))
        written = join_conversations(session, tenant_id=conversation.tenant_id, conversation_ids=[conversation.id],
                                     settings=self.settings, tenant_slug=slug)
        if written:
            registry.touch(self.settings, slug)

    @hookimpl
    def conversation_relabelled(self, session: Session, conversation, old_reason: str, new_reason: str) -> None:
        if session.info.get(SKIP_RELABEL):
            return
        from deskmate.learning.corrections import new_correction

        session.add(new_correction(session, tenant_id=conversation.tenant_id, conversation_id=conversation.id,
                                   old_reason=old_reason, new_reason=new_reason, user_id=conversation.agent_id,
                                   source="relabel"))
        session.flush()


def configure(settings) -> None:
    """Does nothing: listeners get their settings from `deskmate.plugins`. Kept until `learning/cli.py` stops calling it."""


def register() -> None:
    """Does nothing: `deskmate.plugins.register_default_listeners` registers the listeners. Kept for old callers."""
