"""Knowledge gaps: reasons for contact that agents resolve without any article helping, and drafts to fill them.

A resolved conversation was *helped* by knowledge when an article is linked to it (its reason's
procedure names a published article, or the conversation records the articles used) or when
its agent accepted a knowledge suggestion without rating it down. A reason is a gap when at
least `MIN_UNHELPED` of its resolved conversations, and `MIN_UNHELPED_SHARE` of them, were not
helped: suggestions were dismissed, rated down or absent, and agents resolved it anyway, so
the knowledge lives in their replies. For each gap a draft (see `drafts`) is written as a
knowledge Article with status draft, and queued; publishing it goes through
`knowledge.service.update_article`, whose listeners put it into retrieval at once.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.errors import InvalidInput, NotFound
from deskmate.conversations.transcript import load_transcripts
from deskmate.learning.drafts import assemble, humanise
from deskmate.learning.feedback import rated_down
from deskmate.learning.models import FeedbackOutcome, GapDraft

MIN_UNHELPED = 5
MIN_UNHELPED_SHARE = 0.6
OTHER_CONVERSATIONS = 240  # sample of other topics' conversations that tells boilerplate from substance
DRAFT_TAG = "gap-draft"


class GapSignal(BaseModel):
    topic: str
    conversations: int
    resolved: int
    helped: int
    unhelped_resolved: int
    linked_article: bool
    kb_shown: int
    kb_accepted: int
    kb_dismissed: int
    kb_rated_down: int
    kb_absent: int  # unhelped resolved conversations where no knowledge suggestion was even shown
    share: float
    score: float

    @property
    def is_gap(self) -> bool:
        return self.unhelped_resolved >= MIN_UNHELPED and self.share >= MIN_UNHELPED_SHARE


def _published_articles(session: Session, tenant_id: int) -> tuple[set[int], dict[str, int]]:
    from deskmate.knowledge.models import Article

    rows = session.execute(select(Article.id, Article.external_id).where(Article.tenant_id == tenant_id,
                                                                          Article.status == "published")).all()
    return {r.id for r in rows}, {r.external_id: r.id for r in rows if r.external_id}


def gap_signals(session: Session, *, tenant_id: int, since: datetime | None = None) -> list[GapSignal]:
    from deskmate.conversations.models import Conversation
    from deskmate.knowledge.models import Procedure
    from deskmate.outcomes.models import ConversationScore

    published, by_external = _published_articles(session, tenant_id)
    procedure_article = {p.reason: p.article_id for p in session.scalars(select(Procedure).where(Procedure.tenant_id == tenant_id))}
    stmt = (select(Conversation.id, Conversation.reason, Conversation.outcome, Conversation.attributes,
                   ConversationScore.predicted_outcome)
            .outerjoin(ConversationScore, ConversationScore.conversation_id == Conversation.id)
            .where(Conversation.tenant_id == tenant_id, Conversation.status == "closed", Conversation.reason.is_not(None)))
    if since is not None:
        stmt = stmt.where(Conversation.started_at >= since)
    convs = session.execute(stmt).all()
    kb: dict[int, list] = defaultdict(list)
    for row in session.execute(select(FeedbackOutcome.conversation_id, FeedbackOutcome.shown, FeedbackOutcome.accepted,
                                      FeedbackOutcome.dismissed, FeedbackOutcome.rating)
                               .where(FeedbackOutcome.tenant_id == tenant_id, FeedbackOutcome.kind == "kb")):
        kb[row.conversation_id].append(row)
    per_topic: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for c in convs:
        t = per_topic[c.reason]
        linked_ids = {by_external.get(str(a), a if isinstance(a, int) else None)
                      for a in (c.attributes or {}).get("knowledge_articles", [])} & published
        proc_linked = procedure_article.get(c.reason) in published
        used = kb.get(c.id, [])  # shown suggestions and articles the conversation records as used
        rows = [r for r in used if r.shown]
        accepted = any(r.accepted and not rated_down(r.rating) for r in used)
        helped = bool(linked_ids) or proc_linked or accepted
        resolved = (c.outcome or c.predicted_outcome) == "resolved"
        t["conversations"] += 1
        t["resolved"] += resolved
        t["helped"] += helped and resolved
        t["linked"] |= proc_linked
        t["kb_shown"] += len(rows)
        t["kb_accepted"] += sum(bool(r.accepted) for r in rows)
        t["kb_dismissed"] += sum(bool(r.dismissed) for r in rows)
        t["kb_rated_down"] += sum(rated_down(r.rating) for r in rows)
        if resolved and not helped:
            t["unhelped"] += 1
            t["absent"] += not rows
    out = []
    for topic, t in per_topic.items():
        share = t["unhelped"] / t["resolved"] if t["resolved"] else 0.0
        out.append(GapSignal(topic=topic, conversations=t["conversations"], resolved=t["resolved"], helped=t["helped"],
                             unhelped_resolved=t["unhelped"], linked_article=bool(t["linked"]), kb_shown=t["kb_shown"],
                             kb_accepted=t["kb_accepted"], kb_dismissed=t["kb_dismissed"],
                             kb_rated_down=t["kb_rated_down"], kb_absent=t["absent"], share=round(share, 4),
                             score=round(t["unhelped"] * share, 3)))
    return sorted(out, key=lambda g: (-g.score, g.topic))


def _resolved_conversations(session: Session, tenant_id: int, *, topic: str | None, exclude: str | None = None,
                            limit: int) -> list:
    from deskmate.conversations.models import Conversation
    from deskmate.outcomes.models import ConversationScore

    stmt = (select(Conversation.id, Conversation.external_id, Conversation.outcome, ConversationScore.predicted_outcome,
                   ConversationScore.quality_score)
            .outerjoin(ConversationScore, ConversationScore.conversation_id == Conversation.id)
            .where(Conversation.tenant_id == tenant_id, Conversation.status == "closed"))
    stmt = stmt.where(Conversation.reason == topic) if topic else stmt.where(Conversation.reason != exclude)
    rows = [r for r in session.execute(stmt) if (r.outcome or r.predicted_outcome) == "resolved"]
    if topic:  # best-handled first
        rows.sort(key=lambda r: (-(r.quality_score if r.quality_score is not None else -1), r.id))
    else:  # a deterministic spread over other topics
        rows.sort(key=lambda r: hashlib.blake2b(str(r.id).encode(), digest_size=4).digest())
    return rows[:limit]


def draft_for(session: Session, *, tenant, topic: str, encoder):
    """Assemble (without storing) the draft article for one topic."""
    from deskmate.knowledge.models import Procedure
    from deskmate.learning.drafts import MAX_SOURCES
    from deskmate.nlp.pii import Redactor

    rows = _resolved_conversations(session, tenant.id, topic=topic, limit=MAX_SOURCES)
    others = _resolved_conversations(session, tenant.id, topic=None, exclude=topic, limit=OTHER_CONVERSATIONS)
    sources = load_transcripts(session, tenant.id, [r.id for r in rows])
    other_texts, owner = [], []
    for i, conv in enumerate(load_transcripts(session, tenant.id, [r.id for r in others])):
        for turn in conv.turns:
            if turn.role == "agent" and not turn.action and turn.text.strip():
                other_texts.append(turn.text.strip())
                owner.append(i)
    import numpy as np

    other_vectors = encoder.encode(other_texts) if other_texts else np.zeros((0, encoder.dim), dtype=np.float32)
    names = [s.customer.name for s in sources if s.customer.name]
    # Drafts never carry PII, whatever the tenant's storage policy.
    redactor = Redactor.for_tenant({**(tenant.settings or {}), "redact_pii": True}, names=names)
    procedure = session.scalar(select(Procedure).where(Procedure.tenant_id == tenant.id, Procedure.reason == topic))
    title = procedure.name if procedure is not None and procedure.name else humanise(topic)
    return assemble(title, sources, other_vectors, len(others), np.array(owner, dtype=np.int64), encoder, redactor.redact,
                    quality={r.id: r.quality_score for r in rows})


def detect_gaps(session: Session, *, tenant, encoder=None, since: datetime | None = None, refresh: bool = False,
                draft: bool = True) -> list[GapDraft]:
    """Find gaps and queue a draft for each new one (re-running updates signals; `refresh` redrafts open ones)."""
    from deskmate.knowledge.models import ArticleCreate, ArticleUpdate
    from deskmate.knowledge.service import create_article, get_article, update_article

    gaps = [g for g in gap_signals(session, tenant_id=tenant.id, since=since) if g.is_gap]
    existing = {d.topic: d for d in session.scalars(select(GapDraft).where(GapDraft.tenant_id == tenant.id))}
    out = []
    for signal in gaps:
        row = existing.get(signal.topic)
        if row is not None and row.status != "open":
            continue  # published or dismissed by a supervisor: their call stands
        if row is not None and not refresh:
            row.signals, row.score = signal.model_dump(), signal.score
            out.append(row)
            continue
        if not draft:
            continue
        if encoder is None:
            from deskmate.nlp.encoder import get_encoder

            encoder = get_encoder()
        text = draft_for(session, tenant=tenant, topic=signal.topic, encoder=encoder)
        if not text.steps:
            continue
        if row is None:
            article = create_article(session, tenant_id=tenant.id, data=ArticleCreate(
                title=text.title, body=text.body, tags=[DRAFT_TAG, signal.topic], status="draft"))
            row = GapDraft(tenant_id=tenant.id, topic=signal.topic, title=text.title, body=text.body,
                           sources=text.sources, signals=signal.model_dump(), score=signal.score, article_id=article.id)
            session.add(row)
        else:
            row.title, row.body, row.sources, row.signals, row.score = (text.title, text.body, text.sources,
                                                                       signal.model_dump(), signal.score)
            if row.article_id:
                update_article(session, article=get_article(session, tenant_id=tenant.id, article_id=row.article_id),
                               data=ArticleUpdate(title=text.title, body=text.body))
        out.append(row)
    session.flush()
    return sorted(out, key=lambda d: -d.score)


def get_gap(session: Session, *, tenant_id: int, gap_id: int) -> GapDraft:
    row = session.scalar(select(GapDraft).where(GapDraft.tenant_id == tenant_id, GapDraft.id == gap_id))
    if row is None:
        raise NotFound(f"no knowledge gap {gap_id}")
    return row


def list_gaps(session: Session, *, tenant_id: int, status: str | None = None) -> list[GapDraft]:
    stmt = select(GapDraft).where(GapDraft.tenant_id == tenant_id)
    if status:
        stmt = stmt.where(GapDraft.status == status)
    return list(session.scalars(stmt.order_by(GapDraft.status, GapDraft.score.desc(), GapDraft.id)))


def publish_gap(session: Session, *, tenant_id: int, gap_id: int, user_id: int | None, title: str | None = None,
                body: str | None = None):
    """Publish the draft (with the supervisor's edits): it flows into retrieval through the article listeners,
    and becomes its reason's procedure article when the procedure had none."""
    from deskmate.knowledge.models import ArticleUpdate
    from deskmate.knowledge.service import get_article, get_procedure, update_article

    _ensure_retrieval_listener()
    gap = get_gap(session, tenant_id=tenant_id, gap_id=gap_id)
    if gap.status != "open":
        raise InvalidInput(f"gap {gap_id} is already {gap.status}")
    if gap.article_id is None:
        raise InvalidInput(f"gap {gap_id} has no draft article (its article was deleted); run gap detection again")
    article = get_article(session, tenant_id=tenant_id, article_id=gap.article_id)
    update_article(session, article=article, edited_by=user_id, data=ArticleUpdate(
        title=title.strip() if title and title.strip() else None, body=body.strip() if body and body.strip() else None,
        status="published", tags=[t for t in (article.tags or []) if t != DRAFT_TAG]))
    procedure = get_procedure(session, tenant_id=tenant_id, reason=gap.topic)
    if procedure is not None and procedure.article_id is None:
        procedure.article_id = article.id
    gap.status = "published"
    session.flush()
    return gap, article


def dismiss_gap(session: Session, *, tenant_id: int, gap_id: int, user_id: int | None) -> GapDraft:
    from deskmate.knowledge.models import ArticleUpdate
    from deskmate.knowledge.service import get_article, update_article

    gap = get_gap(session, tenant_id=tenant_id, gap_id=gap_id)
    if gap.status != "open":
        raise InvalidInput(f"gap {gap_id} is already {gap.status}")
    if gap.article_id is not None:
        article = get_article(session, tenant_id=tenant_id, article_id=gap.article_id)
        update_article(session, article=article, data=ArticleUpdate(status="archived"), edited_by=user_id)
    gap.status = "dismissed"
    session.flush()
    return gap


def _ensure_retrieval_listener() -> None:
    try:
        from deskmate.assist.retrieval import register_article_listener
    except ModuleNotFoundError:
        return
    register_article_listener()
