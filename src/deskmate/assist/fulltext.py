"""Full-text search over passages: SQLite FTS5 (bm25) or PostgreSQL tsvector, behind one interface.

A conversation is a long, chatty query, so it is reduced to at most `MAX_TERMS` content words
(newest first) joined with OR: an AND query of twenty words would match nothing, and every extra
term costs a posting-list scan on each message.
"""

from __future__ import annotations

import re
from typing import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

MAX_TERMS = 14

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing don down during each few for from further had has have having he her
    here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now
    of off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves hi hello hey thanks thank
    please ok okay yes yeah sure great good morning afternoon evening need want help like get got im ive id dont cant
    could would also just really one know let sorry well still""".split()
)

_WORD = re.compile(r"[a-z0-9]+")
_PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*\]")  # redaction marks: "[EMAIL]" is not the topic "email"


def query_terms(texts: Iterable[str], max_terms: int = MAX_TERMS) -> list[str]:
    """Content words of the texts, newest text first, deduplicated, capped."""
    seen: list[str] = []
    for chunk in texts:
        for word in _WORD.findall(_PLACEHOLDER.sub(" ", chunk).lower()):
            if len(word) < 3 or word in STOPWORDS or word.isdigit() or word in seen:
                continue
            seen.append(word)
            if len(seen) >= max_terms:
                return seen
    return seen


class FullTextIndex:
    """Passage full text for one database dialect; rows are keyed by assist_passages.id."""

    def __init__(self, dialect: str):
        self.dialect = dialect

    @classmethod
    def for_session(cls, session: Session) -> "FullTextIndex":
        return cls(session.get_bind().dialect.name)

    def add(self, session: Session, rows: Iterable[tuple[int, int, str, str]]) -> None:
        """Index (passage_id, tenant_id, title, text) rows; PostgreSQL's expression index needs nothing."""
        if self.dialect != "sqlite":
            return
        params = [{"id": pid, "tenant": tid, "title": title, "text": body} for pid, tid, title, body in rows]
        if params:
            session.execute(
                text("INSERT INTO assist_passages_fts(rowid, title, text, tenant_id) VALUES (:id, :title, :text, :tenant)"),
                params,
            )

    def remove(self, session: Session, passage_ids: Iterable[int]) -> None:
        if self.dialect != "sqlite":
            return
        ids = [{"id": i} for i in passage_ids]
        if ids:
            session.execute(text("DELETE FROM assist_passages_fts WHERE rowid = :id"), ids)

    def clear(self, session: Session, tenant_id: int) -> None:
        if self.dialect == "sqlite":
            session.execute(text("DELETE FROM assist_passages_fts WHERE tenant_id = :t"), {"t": tenant_id})

    def search(self, session: Session, *, tenant_id: int, terms: list[str], limit: int = 20) -> list[tuple[int, float]]:
        """(passage_id, score) best first; higher score is better in both dialects."""
        terms = [t for t in terms if _WORD.fullmatch(t)]
        if not terms:
            return []
        if self.dialect == "sqlite":
            match = " OR ".join(f'"{t}"' for t in terms)
            rows = session.execute(
                text(
                    "SELECT rowid, bm25(assist_passages_fts, 2.0, 1.0) AS rank FROM assist_passages_fts "
                    "WHERE assist_passages_fts MATCH :q AND tenant_id = :t ORDER BY rank LIMIT :n"
                ),
                {"q": match, "t": tenant_id, "n": limit},
            )
            return [(int(pid), -float(rank)) for pid, rank in rows]
        if self.dialect == "postgresql":
            tsv = "to_tsvector('english', coalesce(p.title, '') || ' ' || coalesce(p.text, ''))"
            rows = session.execute(
                text(
                    f"SELECT p.id, ts_rank_cd({tsv}, q) AS rank FROM assist_passages p, to_tsquery('english', :q) q "
                    f"WHERE p.tenant_id = :t AND p.active AND {tsv} @@ q ORDER BY rank DESC LIMIT :n"
                ),
                {"q": " | ".join(terms), "t": tenant_id, "n": limit},
            )
            return [(int(pid), float(rank)) for pid, rank in rows]
        return self._portable_search(session, tenant_id=tenant_id, terms=terms, limit=limit)

    def _portable_search(self, session: Session, *, tenant_id: int, terms: list[str], limit: int) -> list[tuple[int, float]]:
        """Term-count ranking for other databases: correct but unindexed (a fallback, not a target)."""
        rows = session.execute(
            text("SELECT id, title, text FROM assist_passages WHERE tenant_id = :t AND active"), {"t": tenant_id}
        )
        scored = []
        for pid, title, body in rows:
            words = _WORD.findall(f"{title} {body}".lower())
            score = sum(words.count(t) for t in terms)
            if score:
                scored.append((int(pid), float(score)))
        scored.sort(key=lambda r: -r[1])
        return scored[:limit]
