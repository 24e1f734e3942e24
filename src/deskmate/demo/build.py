"""Build the demo workspace: generate, load knowledge and history through the normal paths, add users.

Everything goes in the way a real team's data would: articles and procedures through
the knowledge service, conversations as canonical records through the importer. So
the demo exercises the product, and building twice leaves one copy (records update in
place; conversations from an earlier, larger build are removed).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.accounts.models import User
from deskmate.accounts.service import authenticate, create_user, get_or_create_agent, get_or_create_tenant, issue_token
from deskmate.config import Settings
from deskmate.conversations.models import Conversation
from deskmate.db import make_engine, make_sessionmaker, migrate, session_scope
from deskmate.demo.generator import DemoData, generate
from deskmate.demo.truth import demo_dir, write_truth
from deskmate.knowledge.models import Article, ArticleUpdate
from deskmate.knowledge.service import update_article, upsert_article, upsert_procedure

EMAIL_DOMAIN = "loomhouse.example"
STAFF = [("Priya Raman", "supervisor", f"priya.raman@{EMAIL_DOMAIN}"), ("Alex Morgan", "admin", f"alex.morgan@{EMAIL_DOMAIN}")]
# The demo retailer's guardrails: what its tone-of-voice guideline forbids, and the identifiers its
# transcripts carry (order and account numbers) so redaction masks them with the rest of the PII.
TENANT_SETTINGS = {
    "redact_pii": True,
    "pii_identifiers": ["ORDER_ID", "ACCOUNT_ID"],
    "forbidden_phrases": ["calm down", "there's nothing i can do", "that's not my department", "you should have"],
    "required_disclaimers": [],
}


@dataclass
class DemoBuild:
    tenant_id: int
    tenant: str
    data: DemoData
    imported: object  # ImportSummary
    knowledge: dict = field(default_factory=dict)
    removed_conversations: int = 0
    users: list[dict] = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)


def agent_email(name: str) -> str:
    return f"{name.lower().replace(' ', '.')}@{EMAIL_DOMAIN}"


def _bar(console: Console | None) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, disable=console is None)


def _write_jsonl(path: Path, records: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _load_knowledge(session: Session, tenant_id: int, data: DemoData, progress: Progress) -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "withdrawn": 0}
    task = progress.add_task("knowledge articles and procedures", total=len(data.articles) + len(data.procedures))
    ids = {}
    for a in data.articles:
        article, what = upsert_article(session, tenant_id=tenant_id, external_id=a.id, title=a.title, body=a.body,
                                       tags=list(a.tags), status="published")
        ids[a.id] = article.id
        counts[what] += 1
        progress.advance(task)
    for a in data.held_back:  # an article held back from an earlier build must not stay searchable
        stale = session.scalar(select(Article).where(Article.tenant_id == tenant_id, Article.external_id == a.id))
        if stale is not None and stale.status != "archived":
            update_article(session, article=stale, data=ArticleUpdate(status="archived"))
            counts["withdrawn"] += 1
    for p in data.procedures:
        article_id = ids.get(p["article"]) if p["article"] else None
        proc, what = upsert_procedure(session, tenant_id=tenant_id, reason=p["reason"], name=p["name"],
                                      actions=p["actions"], article_id=article_id)
        if article_id is None and proc.article_id is not None:
            proc.article_id = None
            what = "updated"
        counts[what] += 1
        progress.advance(task)
    return counts


def _agents(session: Session, tenant_id: int, data: DemoData) -> list[User]:
    users = []
    for agent in data.agents:
        user = get_or_create_agent(session, tenant_id=tenant_id, external_id=agent.id, name=agent.name)
        email = agent_email(agent.name)
        if user.email is None and session.scalar(
            select(User.id).where(User.tenant_id == tenant_id, User.email == email)
        ) is None:
            user.email = email
        users.append(user)
    session.flush()
    return users


def _staff(session: Session, tenant_id: int) -> list[User]:
    users = []
    for name, role, email in STAFF:
        user = session.scalar(select(User).where(User.tenant_id == tenant_id, User.email == email))
        users.append(user or create_user(session, tenant_id=tenant_id, name=name, email=email, role=role))
    return users


def _tokens(session: Session, users: list[User], path: Path) -> list[dict]:
    """One token per demo user; tokens from an earlier build are kept while they still work."""
    previous = {}
    if path.exists():
        try:
            previous = {u["id"]: u["token"] for u in json.loads(path.read_text(encoding="utf-8")).get("users", [])}
        except (ValueError, KeyError, TypeError):
            previous = {}
    out = []
    for user in users:
        token = previous.get(user.id)
        holder = authenticate(session, token) if token else None
        if holder is None or holder.id != user.id:
            token = issue_token(session, user_id=user.id)
        out.append({"id": user.id, "name": user.name, "role": user.role, "email": user.email,
                    "external_id": user.external_id, "token": token})
    return out


def _remove_stale(session: Session, tenant_id: int, keep: set[str]) -> int:
    """Demo conversations that this build does not contain (a larger earlier build, or now held out as live)."""
    rows = session.execute(
        select(Conversation.id, Conversation.external_id).where(Conversation.tenant_id == tenant_id,
                                                                Conversation.source == "demo")
    ).all()
    stale = [cid for cid, ext in rows if ext not in keep]
    for cid in stale:
        session.delete(session.get(Conversation, cid))
    return len(stale)


def build_demo(settings: Settings, *, seed: int = 7, conversations: int = 2400, tenant: str = "default",
               holdback: int = 4, reference_date=None, live_fraction: float = 0.05, skip_rate: float = 0.08,
               consequences: bool = False, console: Console | None = None, engine=None) -> DemoBuild:
    from deskmate.importers import import_records

    timings = {}
    started = time.perf_counter()
    engine = engine or make_engine(settings.database_url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    with _bar(console) as progress:
        task = progress.add_task("generating conversations", total=conversations)
        data = generate(seed, conversations, reference_date=reference_date, holdback=holdback,
                        live_fraction=live_fraction, skip_rate=skip_rate, consequences=consequences,
                        on_progress=lambda n: progress.advance(task, n))
        timings["generate"] = time.perf_counter() - started

        out = demo_dir(settings)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"history": out / "conversations.jsonl", "live": out / "live.jsonl", "truth": out / "truth.json",
                 "tokens": out / "tokens.json"}
        _write_jsonl(paths["history"], data.records)
        _write_jsonl(paths["live"], data.live)

        t0 = time.perf_counter()
        with session_scope(factory) as session:
            t = get_or_create_tenant(session, slug=tenant, name="Loomhouse (demo)")
            t.settings = {**(t.settings or {}), **TENANT_SETTINGS,
                          "demo": {"seed": seed, "reference_date": data.reference.date().isoformat(),
                                   "company": data.policy.company["name"]}}
            tenant_id = t.id
            knowledge = _load_knowledge(session, tenant_id, data, progress)
            agent_users = _agents(session, tenant_id, data)
            removed = _remove_stale(session, tenant_id, {r["id"] for r in data.records})
        timings["knowledge"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    records = [{**r, "agent": {**r["agent"], "email": agent_email(r["agent"]["name"])}} for r in data.records]
    summary = import_records(factory, tenant_id=tenant_id, records=records, source="demo", progress=console is not None)
    timings["import"] = time.perf_counter() - t0

    with session_scope(factory) as session:
        users = [session.get(User, u.id) for u in agent_users] + _staff(session, tenant_id)
        tokens = _tokens(session, users, paths["tokens"])
    paths["tokens"].write_text(json.dumps({"tenant": tenant, "users": tokens}, indent=2), encoding="utf-8")
    os.chmod(paths["tokens"], 0o600)  # tokens are credentials, even for a demo
    write_truth(settings, data.truth, tenant=tenant)
    timings["total"] = time.perf_counter() - started
    return DemoBuild(tenant_id, tenant, data, summary, knowledge, removed, tokens, timings, paths)
