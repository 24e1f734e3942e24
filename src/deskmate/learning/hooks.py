"""Where the learning loop plugs into the rest of Deskmate: on close, and on a reason relabel.

- A closed conversation's feedback is joined to its outcome (after outcomes has scored it: this
  listener is appended to `outcomes.hooks.closed_listeners` behind `score_on_close`), and the
  process's live ranker is told to read the new rows on its next call: the online update.
- A conversation whose reason changes from one label to another (an agent's PATCH, a supervisor's
  correction, a re-import with a fixed label) leaves an `IntentCorrection`: training data for the
  next intent model. Setting a reason where there was none is a label, not a correction.

`register()` is idempotent; the API's `setup_app` and the CLI call it.
"""

from __future__ import annotations

import logging

from sqlalchemy import event, select
from sqlalchemy.orm import Session, object_session

log = logging.getLogger("deskmate.learning")

_settings = None
SKIP_RELABEL = "learning_skip_relabel"  # session.info flag: the caller records the correction itself
PENDING = "learning_relabels"


def configure(settings) -> None:
    global _settings
    _settings = settings


def current_settings():
    if _settings is not None:
        return _settings
    from deskmate.config import get_settings

    return get_settings()


def join_on_close(session: Session, conversation) -> None:
    from deskmate.accounts.models import Tenant
    from deskmate.learning.feedback import join_conversations
    from deskmate.learning.ranking import registry

    settings = current_settings()
    slug = session.scalar(select(Tenant.slug).where(Tenant.id == conversation.tenant_id))
    written = join_conversations(session, tenant_id=conversation.tenant_id, conversation_ids=[conversation.id],
                                 settings=settings, tenant_slug=slug)
    if written:
        registry.touch(settings, slug)


def _reason_set(target, value, oldvalue, initiator):
    if not isinstance(oldvalue, str) or not oldvalue or not value or value == oldvalue:
        return
    session = object_session(target)
    if session is None or session.info.get(SKIP_RELABEL) or target.id is None:
        return
    session.info.setdefault(PENDING, []).append((target.id, target.tenant_id, target.agent_id, oldvalue, value))


def _record_relabels(session: Session, flush_context, instances) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    from deskmate.learning.corrections import new_correction

    with session.no_autoflush:
        for conversation_id, tenant_id, agent_id, old, new in pending:
            session.add(new_correction(session, tenant_id=tenant_id, conversation_id=conversation_id, old_reason=old,
                                       new_reason=new, user_id=agent_id, source="relabel"))


_registered = False


def register() -> None:
    global _registered
    if _registered:
        return
    from deskmate.conversations.models import Conversation
    from deskmate.outcomes.hooks import closed_listeners

    if join_on_close not in closed_listeners:
        closed_listeners.append(join_on_close)
    event.listen(Conversation.reason, "set", _reason_set, active_history=True)
    event.listen(Session, "before_flush", _record_relabels)
    _registered = True
