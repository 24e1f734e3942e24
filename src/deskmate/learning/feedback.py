"""Fold a conversation's feedback events into one row per suggestion and join the conversation's result.

Two kinds of rows, both joined to the outcome:
- shown (`shown=True`): a suggestion assist showed, with what the agent did with it;
- observed (`shown=False`, ids "obs-<kind>:..."): what the agent actually did, whether or not it
  was suggested: each action taken (keyed by the action before it), each reply sent (as a
  template), each article the conversation records as used. This is how the loop learns about
  moves assist never proposed, and what "accepted" means for click-only ranking too: agents did it.
  An observed move already counted as an accepted suggestion is not counted twice.

Runs as each conversation closes (an `outcomes.hooks.closed_listeners` entry registered after
outcome scoring, so the sentiment shift and resolution quality are there to join), and in bulk
for history (`join_history`). Joining is idempotent: a conversation closed twice (reopened, then
closed again) has its rows replaced.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from deskmate.db import utcnow
from deskmate.learning.keys import action_key, parse_suggestion_id, reply_key
from deskmate.learning.models import FeedbackOutcome
from deskmate.learning.stats import Evidence

ACCEPT_EVENTS = ("inserted", "edited")
CHUNK = 500


def rated_down(rating: int | None) -> bool:
    return rating is not None and rating <= 0  # -1 (thumbs down) or 0 on a 0-5 scale


def reward_for(accepted: bool, resolved: bool | None, shift: float | None, rating: int | None = None) -> float:
    """1 for an accepted suggestion in a conversation that resolved and left the customer happier,
    0.5 when resolved with no measurable shift, toward 0 when resolved but the customer soured;
    0 whenever it was not accepted, rated down, or the conversation did not resolve."""
    if not accepted or not resolved or rated_down(rating):
        return 0.0
    if shift is None:
        return 0.5
    return round(0.5 + 0.5 * math.tanh(3.0 * float(shift)), 4)


def _template_lookup(settings, tenant_slug: str | None):
    """Bank entry -> template of the workspace's current reply model (entry numbers are per version)."""
    if settings is None or tenant_slug is None:
        return lambda entry: None
    try:
        from deskmate.assist.bundle import load_models

        models = load_models(settings, tenant_slug)
    except Exception:  # noqa: BLE001 - no models yet: reply keys stay unresolved, nothing else is lost
        models = None
    templates = models.replies.templates_ if models is not None else []

    def lookup(entry: str):
        try:
            i = int(entry)
        except ValueError:
            return None
        return templates[i] if 0 <= i < len(templates) else None

    return lookup


def fold_events(events: Iterable, *, actions_before: dict[int, list[str]], template_of) -> list[dict]:
    """Raw events (ordered by time) -> one dict per suggestion id with flags, times and key."""
    by_id: dict[str, dict] = {}
    for e in events:
        ref = parse_suggestion_id(e.suggestion_id)
        row = by_id.get(e.suggestion_id)
        if row is None:
            key = None
            if ref is not None:
                if ref.kind == "kb":
                    key = ref.item if ref.item.isdigit() else None
                elif ref.kind == "reply":
                    template = template_of(ref.item)
                    key = reply_key(template) if template else None
                elif ref.kind == "nba" and ref.item != "none":
                    key = action_key(actions_before.get(ref.seq, []), ref.item)
                elif ref.kind in ("alert", "intent"):
                    key = ref.item
            row = by_id[e.suggestion_id] = dict(
                suggestion_id=e.suggestion_id, kind=e.suggestion_type, key=key, seq=ref.seq if ref else None,
                shown=True, accepted=False, edited=False, dismissed=False, rating=None, final_text=None,
                first_event_at=e.created_at, acted_at=None, user_id=e.user_id)
        if e.event in ACCEPT_EVENTS:
            row["accepted"] = True
            row["dismissed"] = False  # dismissed, then used after all: it was used
            row["edited"] = row["edited"] or e.event == "edited"
            row["final_text"] = e.final_text or row["final_text"]
        elif e.event == "dismissed" and not row["accepted"]:
            row["dismissed"] = True
        elif e.event == "rated":
            row["rating"] = e.rating
        if e.event in ("inserted", "edited", "dismissed") and row["acted_at"] is None:
            row["acted_at"] = e.created_at
    for row in by_id.values():
        if row["acted_at"] is not None and row["first_event_at"] is not None:
            row["seconds_to_act"] = max(0.0, (row["acted_at"] - row["first_event_at"]).total_seconds())
    return list(by_id.values())


def _actions_before(conv) -> dict[int, list[str]]:
    """seq -> the actions taken at or before that message (what was done when a suggestion was made)."""
    out: dict[int, list[str]] = {}
    done: list[str] = []
    for turn in conv.turns:
        if turn.kind == "action" and turn.action:
            done = done + [turn.action]
        out[turn.seq] = done
    return out


def observed_rows(conv, *, already: set[tuple[str, str]], article_ids: dict[str, int],
                  articles_used: list = ()) -> list[dict]:
    """What the agent did in `conv` (a `Transcript` with its customer), as evidence rows; `already` holds (kind, key)
    pairs counted as accepted suggestions; `articles_used` the article ids or external ids it records."""
    from deskmate.assist.templating import to_template

    rows: list[dict] = []
    done: list[str] = []
    for turn in conv.turns:
        kind = key = item = None
        if turn.role == "agent" and turn.kind == "action" and turn.action:
            kind, item, key = "nba", turn.action, action_key(done, turn.action)
            done = done + [turn.action]
        elif turn.role == "agent" and turn.kind == "text" and turn.text.strip() and turn is not conv.turns[0]:
            kind = "reply"  # assist suggests replies once there is something to reply to
            key = item = reply_key(to_template(turn.text, conv.customer, conv.agent_name))
        if kind is None or (kind, key) in already:
            continue
        rows.append(_observed(f"obs-{kind}:{item}:{conv.id}:{turn.seq}", kind, key, turn.seq, turn.at))
    for ref in articles_used:
        article = ref if isinstance(ref, int) else article_ids.get(str(ref))
        if article is not None and ("kb", str(article)) not in already:
            rows.append(_observed(f"obs-kb:{article}:{conv.id}:0", "kb", str(article), 0, conv.started_at))
    return rows


def _observed(suggestion_id: str, kind: str, key: str, seq: int, at) -> dict:
    return dict(suggestion_id=suggestion_id, kind=kind, key=key, seq=seq, shown=False, accepted=True, edited=False,
                dismissed=False, rating=None, final_text=None, first_event_at=at, acted_at=at, seconds_to_act=None,
                user_id=None)


def join_conversations(session: Session, *, tenant_id: int, conversation_ids: list[int], settings=None,
                       tenant_slug: str | None = None) -> int:
    """(Re)build the joined rows of these closed conversations; returns how many rows were written."""
    from deskmate.assist.history import load_conversations
    from deskmate.assist.models import FeedbackEvent
    from deskmate.conversations.models import Conversation
    from deskmate.knowledge.models import Article
    from deskmate.outcomes.models import ConversationScore

    template_of = _template_lookup(settings, tenant_slug)
    article_ids = {ext: aid for aid, ext in session.execute(
        select(Article.id, Article.external_id).where(Article.tenant_id == tenant_id, Article.external_id.is_not(None)))}
    written = 0
    for start in range(0, len(conversation_ids), CHUNK):
        ids = conversation_ids[start:start + CHUNK]
        session.execute(delete(FeedbackOutcome).where(FeedbackOutcome.tenant_id == tenant_id,
                                                      FeedbackOutcome.conversation_id.in_(ids)))
        events: dict[int, list] = defaultdict(list)
        for e in session.scalars(select(FeedbackEvent).where(FeedbackEvent.tenant_id == tenant_id,
                                                             FeedbackEvent.conversation_id.in_(ids))
                                 .order_by(FeedbackEvent.created_at, FeedbackEvent.id)):
            events[e.conversation_id].append(e)
        meta = {c.id: c for c in session.execute(
            select(Conversation.id, Conversation.agent_id, Conversation.outcome, Conversation.status, Conversation.attributes)
            .where(Conversation.tenant_id == tenant_id, Conversation.id.in_(ids)))}
        scores = {s.conversation_id: s for s in session.execute(
            select(ConversationScore.conversation_id, ConversationScore.predicted_outcome, ConversationScore.sentiment_shift,
                   ConversationScore.resolution_quality, ConversationScore.quality_score)
            .where(ConversationScore.conversation_id.in_(ids)))}
        now = utcnow()
        for conv in load_conversations(session, tenant_id, [i for i in ids if i in meta and meta[i].status == "closed"]):
            score = scores.get(conv.id)
            outcome = conv.outcome or (score.predicted_outcome if score else None)
            resolved = None if outcome is None else outcome == "resolved"
            shift = score.sentiment_shift if score else None
            shown = fold_events(events.get(conv.id, []), actions_before=_actions_before(conv), template_of=template_of)
            accepted = {(r["kind"], r["key"]) for r in shown if r["accepted"] and r["key"]}
            refs = (meta[conv.id].attributes or {}).get("knowledge_articles") or []
            observed = observed_rows(conv, already=accepted, article_ids=article_ids,
                                     articles_used=refs if isinstance(refs, list) else [refs])
            for row in shown + observed:
                user_id = row.pop("user_id")
                session.add(FeedbackOutcome(
                    tenant_id=tenant_id, conversation_id=conv.id, reason=conv.reason,
                    agent_id=meta[conv.id].agent_id or user_id, outcome=outcome, resolved=resolved, sentiment_shift=shift,
                    resolution_quality=score.resolution_quality if score else None,
                    quality_score=score.quality_score if score else None,
                    reward=reward_for(row["accepted"], resolved, shift, row["rating"]), joined_at=now, **row))
                written += 1
        session.flush()
    return written


def join_history(session: Session, *, tenant_id: int, settings=None, tenant_slug: str | None = None,
                 missing_only: bool = True, progress=None) -> int:
    """Join every closed conversation (only those not joined yet, by default); `progress(n)` is told as it goes."""
    from deskmate.conversations.models import Conversation

    ids = set(session.scalars(select(Conversation.id).where(Conversation.tenant_id == tenant_id,
                                                            Conversation.status == "closed")))
    if missing_only:
        ids -= set(session.scalars(select(FeedbackOutcome.conversation_id)
                                   .where(FeedbackOutcome.tenant_id == tenant_id).distinct()))
    ordered, written = sorted(ids), 0
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        written += join_conversations(session, tenant_id=tenant_id, conversation_ids=chunk, settings=settings,
                                      tenant_slug=tenant_slug)
        if progress:
            progress(len(chunk))
    return written


def evidence_of(row) -> Evidence:
    return Evidence(kind=row.kind, reason=row.reason, key=row.key, accepted=bool(row.accepted),
                    reward=float(row.reward or 0.0), dismissed=bool(row.dismissed),
                    rated_down=rated_down(row.rating))
