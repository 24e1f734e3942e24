"""A workspace's past conversations as assist trains and replays on them.

Training (`pipeline`), the replay harness and the learning loop read history through these two
calls, so the replayed conversations are shaped exactly like the ones the models learned from:
closed conversations in time order (replay splits training from held-out by that order), as
`deskmate.conversations.transcript.Transcript`s with the customer's records (replies are filled
from them).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from deskmate.conversations.transcript import Transcript, conversation_ids, load_transcripts


def history_ids(session: Session, tenant_id: int, *, closed_only: bool = True) -> list[int]:
    """Conversation ids in time order (the order replay splits training from held-out)."""
    return conversation_ids(session, tenant_id, status="closed" if closed_only else None)


def load_conversations(session: Session, tenant_id: int, ids: list[int]) -> list[Transcript]:
    """The conversations with their turns, customers (with records) and agent names, in the order of `ids`."""
    return load_transcripts(session, tenant_id, ids, customer_records=True)
