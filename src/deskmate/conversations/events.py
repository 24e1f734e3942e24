"""What happens to a conversation that other domains react to, declared in one place (pluggy hook specs).

The conversations domain owns three events: a message arrived (`message_appended`), a
conversation closed (`conversation_closed`) and its reason was corrected from one label to
another (`conversation_relabelled`). Other domains answer them with hook implementations
(`outcomes.hooks`, `insights.hooks`, `learning.hooks`, `assist.hooks`), which
`deskmate.plugins.register_default_listeners` registers, in the order they run, on the plugin
manager the app factory and the CLI build. Nothing registers itself by being imported.

Listeners run in registration order (pluggy alone would call the last registered first; `notify_*`
walk them in the order `plugins.py` lists them, so that file reads top to bottom as they run), and
each runs isolated: a failing listener is logged and never undoes the event. Close and relabel
listeners run inside the caller's transaction, each in its own savepoint (scores, records and
corrections are derived data; closing must not fail because one of them did). Arrival listeners
run after the message is committed, so live assist never holds the database's write lock and
cannot lose a message.

The manager travels with the session factory (`bind_events`): services that fire an event take
`events=` or find it on their session. A session from a factory nobody bound (a script, a test
helper) gets the default listeners configured from the environment, as the CLI would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pluggy
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("deskmate.events")

PROJECT = "deskmate"
EVENTS_KEY = "deskmate.events"  # session.info key of the bound plugin manager

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Events = pluggy.PluginManager


@dataclass
class Arrival:
    """What a `message_appended` listener knows beyond the stored row."""

    raw_text: str | None = None  # the unredacted text: memory only, to recognise this customer's identifiers
    assist: bool = True  # the sender wants the live-assist update (HTTP `?assist=false` turns it off)
    stored_ms: float | None = None  # time taken to store and commit the message, for the update's timings


class ConversationEvents:
    """The hook specifications: one method per event, the arguments every listener receives."""

    @hookspec
    def message_appended(self, session: Session, tenant, conversation, message, arrival: Arrival) -> dict | None:
        """A message (or agent action) is stored and committed.

        Return a live payload (`{"type": ..., ...}`, JSON-ready) to publish to the conversation's
        sockets and the workspace's floor after the message itself, or None."""

    @hookspec
    def conversation_closed(self, session: Session, conversation) -> None:
        """The conversation's status became closed (flushed, not yet committed)."""

    @hookspec
    def conversation_relabelled(self, session: Session, conversation, old_reason: str, new_reason: str) -> None:
        """The conversation's reason changed from one label to another (a first label is not a relabel)."""


def make_plugin_manager() -> Events:
    """A manager that knows the conversation events and has no listeners yet."""
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(ConversationEvents)
    return pm


def bind_events(factory: sessionmaker, events: Events) -> None:
    """Every session `factory` makes carries `events`, so services fire them without a global."""
    factory.configure(info={**(factory.kw.get("info") or {}), EVENTS_KEY: events})


def events_of(session: Session) -> Events:
    """The manager bound to the session's factory, else the default listeners with the environment's settings."""
    events = session.info.get(EVENTS_KEY)
    if events is None:
        from deskmate.config import get_settings
        from deskmate.plugins import default_events

        events = default_events(get_settings())
    return events


def _listeners(events: Events, name: str):
    return getattr(events.hook, name).get_hookimpls()  # registration order (see the module docstring)


def _conversation_id(kwargs: dict):
    return getattr(kwargs.get("conversation"), "id", None)


def notify_in_transaction(events: Events, name: str, session: Session, **kwargs) -> None:
    """Call each listener of `name` inside its own savepoint; a failure is logged and rolled back alone."""
    for impl in _listeners(events, name):
        try:
            with session.begin_nested():
                impl.function(**{arg: ({"session": session} | kwargs)[arg] for arg in impl.argnames})
        except Exception:  # noqa: BLE001 - derived data never blocks the event that caused it
            log.exception("%s listener %s failed on conversation %s", name, impl.plugin_name, _conversation_id(kwargs))


def notify_committed(events: Events, name: str, session: Session, **kwargs) -> list:
    """Call each listener of `name` after a commit; returns their non-None results in order."""
    results = []
    for impl in _listeners(events, name):
        try:
            result = impl.function(**{arg: ({"session": session} | kwargs)[arg] for arg in impl.argnames})
        except Exception:  # noqa: BLE001 - the event is committed already; a listener cannot take it back
            log.exception("%s listener %s failed on conversation %s", name, impl.plugin_name, _conversation_id(kwargs))
            session.rollback()  # whatever it left half-done; the committed event is untouched
            continue
        if result is not None:
            results.append(result)
    return results
