"""Workspace preparation step (the last): join history's feedback to outcomes, queue gap drafts.

Idempotent: only conversations not joined yet are joined, and a gap that already has a draft
keeps it (its signals are refreshed). A workspace with no ranker version gets an initial one: the
joined history with default weights, saved as a snapshot so a live process loads it in
milliseconds instead of reading every joined row on its first message. It has no replay scores
(there is nothing to compare it with); `deskmate learn retrain` replays and gates the next ones.
"""

from __future__ import annotations


def prepare_workspace(settings, sessionmaker, tenant_id: int, progress=True) -> dict:
    from deskmate.accounts.models import Tenant
    from deskmate.conversations.models import Conversation
    from deskmate.db import session_scope
    from deskmate.learning.feedback import join_history
    from deskmate.learning.gaps import detect_gaps
    from deskmate.learning import store, versions
    from deskmate.learning.ranking import merged_params
    from deskmate.learning.retrain import build_stats
    from sqlalchemy import func, select

    with session_scope(sessionmaker) as session:
        tenant = session.get(Tenant, tenant_id)
        total = session.scalar(select(func.count()).select_from(Conversation).where(Conversation.tenant_id == tenant_id))
        advance = None
        if progress is not None and progress is not True and progress is not False:
            task = progress.add_task("learning: joining feedback to outcomes", total=total)
            advance = lambda n: progress.advance(task, n)  # noqa: E731
        joined = join_history(session, tenant_id=tenant_id, settings=settings, tenant_slug=tenant.slug, progress=advance)
    initial = None
    if store.current_version(settings, tenant.slug) is None:
        with session_scope(sessionmaker) as session:
            tenant = session.get(Tenant, tenant_id)
            stats, watermark = build_stats(session, tenant_id=tenant_id)
            snapshot = store.Snapshot(store.new_version_name(), merged_params(None), stats, watermark, {"initial": True})
            initial = versions.record(session, settings=settings, tenant=tenant, snapshot=snapshot, scores={}, baseline={},
                                      promote_it=True, decision="initial version: the joined history with default "
                                      "weights, not replayed (run `deskmate learn retrain`)").version
    with session_scope(sessionmaker) as session:
        tenant = session.get(Tenant, tenant_id)
        gaps = detect_gaps(session, tenant=tenant)
        return {"joined_rows": joined, "gaps": [g.topic for g in gaps], "initial_version": initial}
