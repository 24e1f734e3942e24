"""Live assist as a listener of message arrival.

`LiveAssist` answers `message_appended` (`deskmate.conversations.events`; registered by
`deskmate.plugins`): for every committed message whose sender wants assist, it computes the
conversation's next update and returns it as the live payload that `receive_message` publishes
after the message and hands back to the HTTP caller. Assist only reads, after the commit, so it
never holds the database's write lock, and a failure (logged by the caller) cannot lose the message.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from deskmate.conversations.events import Arrival, hookimpl


class LiveAssist:
    """Assist updates with the models under `settings`."""

    def __init__(self, settings):
        self.settings = settings

    @hookimpl
    def message_appended(self, session: Session, tenant, conversation, message, arrival: Arrival) -> dict | None:
        from deskmate.assist.service import assist_message

        if not arrival.assist:
            return None
        update = assist_message(session, settings=self.settings, tenant=tenant, conversation=conversation,
                                message=message, raw_text=arrival.raw_text)
        if arrival.stored_ms is not None:  # "store" and "server" (store + assist) beside the engine's own timings
            update.timings = {**update.timings, "store": round(arrival.stored_ms, 3),
                              "server": round(arrival.stored_ms + update.timings.get("total", 0.0), 3)}
        return {"type": "assist", "update": update.model_dump(mode="json")}
