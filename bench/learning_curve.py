"""The learning loop on the demo workspace: a learning curve, outcome-aware vs click-only, knowledge-gap drafts.

1. A throw-away demo workspace (seed 7) is built and its history scored by deskmate.outcomes.
2. The last month is held out. Live assist's models are built once from the first 10% of the
   earlier history (a team going live with little history); after that the system learns only
   through the learning loop's online updates.
3. Every conversation is run through the real AssistEngine (reason hidden) and the candidate
   lists it hands the ranker are recorded. A simulated agent then works through the earlier
   history in time order: at each message the current ranker orders the candidates, the top
   ones are shown, the agent accepts the one matching what the real agent did next and
   dismisses the others; at each conversation's end its feedback is joined to its outcome and
   absorbed (the close hook's online update). No parameter is tuned by hand.
4. At 10%, 25%, 50% and 100% of that history absorbed, the held-out month is scored
   (next-action hit@1, reply recall@3, knowledge hit@3; the replay harness's definitions) with
   the ranker as it stood. The same stream is run again with click-only ranking, and both are
   scored on resolution-linked hit rates (held-out conversations that resolved with the
   customer's sentiment rising).
5. The simulated feedback of the outcome-aware run is written to the store as assist feedback
   events and joined by the product's own path (join_history); its stats must equal the
   simulation's. Gap detection then runs on the workspace; each draft is compared with the
   article the generator held back (encoder cosine, ROUGE-L F1).

    .venv/bin/python bench/learning_curve.py [--conversations 2400] [--seed 7] [--doc docs/bench/learning.md]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
FRACTIONS = (0.10, 0.25, 0.50, 1.00)
FIGURES = ("next_action_hit@1", "reply_recall@3", "knowledge_hit@3")
REFERENCE_DATE = "2026-11-20"


def log(message: str) -> None:
    print(message, flush=True)


def build(settings, seed: int, conversations: int, consequences: bool = False):
    from deskmate.db import make_engine, make_sessionmaker
    from deskmate.demo.build import build_demo
    from deskmate.outcomes.history import score_history

    engine = make_engine(settings.database_url)
    demo = build_demo(settings, seed=seed, conversations=conversations, tenant="bench", reference_date=REFERENCE_DATE,
                      consequences=consequences, engine=engine)
    factory = make_sessionmaker(engine)
    score_history(factory, settings=settings, tenant_id=demo.tenant_id, rescore=False, progress=False)
    return demo, engine, factory


def load_history(factory, tenant_id: int):
    from sqlalchemy import select

    from deskmate.accounts.models import Tenant
    from deskmate.assist.history import history_ids, load_conversations
    from deskmate.assist.retrieval import rebuild_passages
    from deskmate.assist.service import load_procedures
    from deskmate.conversations.models import Conversation
    from deskmate.db import session_scope
    from deskmate.knowledge.models import Article
    from deskmate.nlp.encoder import get_encoder
    from deskmate.outcomes.models import ConversationScore

    with session_scope(factory) as session:
        rebuild_passages(session, tenant_id, get_encoder())
    with session_scope(factory) as session:
        conversations = load_conversations(session, tenant_id, history_ids(session, tenant_id))
        shifts = dict(session.execute(select(ConversationScore.conversation_id, ConversationScore.sentiment_shift)
                                      .where(ConversationScore.tenant_id == tenant_id)).all())
        attrs = dict(session.execute(select(Conversation.id, Conversation.attributes)
                                     .where(Conversation.tenant_id == tenant_id)).all())
        article_ids = {ext: aid for aid, ext in session.execute(
            select(Article.id, Article.external_id).where(Article.tenant_id == tenant_id, Article.external_id.is_not(None)))}
        procedures = load_procedures(session, tenant_id)
        tenant_settings = dict(session.get(Tenant, tenant_id).settings or {})
    used = {cid: list((a or {}).get("knowledge_articles") or []) for cid, a in attrs.items()}
    return conversations, shifts, used, article_ids, procedures, tenant_settings


def linked_articles(conversations, used, article_ids, procedures) -> dict[int, set[str]]:
    """The articles a conversation is linked to: the ones it records as used and its reason's procedure article."""
    out = {}
    for c in conversations:
        ids = {str(article_ids[e]) for e in used.get(c.id, []) if e in article_ids}
        proc = procedures.get(c.reason)
        if proc and proc[2]:
            ids.add(str(proc[2]))
        out[c.id] = ids
    return out


def figures_at(moments, truths, stats, params, encoder, matcher, *, linked: bool = False) -> dict:
    from deskmate.learning.evaluation import offline_figures
    from deskmate.learning.ranking import Ranker

    return offline_figures(moments, truths, Ranker(stats, params), encoder, resolution_linked=linked, matcher=matcher)


def write_feedback_to_store(factory, tenant_id: int, events_by_conv: dict) -> int:
    """The outcome-aware run's feedback as assist feedback events, as the desk would have posted them."""
    from sqlalchemy import delete

    from deskmate.assist.models import FeedbackEvent
    from deskmate.db import session_scope

    n = 0
    with session_scope(factory) as session:
        session.execute(delete(FeedbackEvent).where(FeedbackEvent.tenant_id == tenant_id))  # a cached re-run starts clean
        for conv_id, events in events_by_conv.items():
            for e in events:
                session.add(FeedbackEvent(tenant_id=tenant_id, conversation_id=conv_id, suggestion_id=e.suggestion_id,
                                          suggestion_type=e.suggestion_type, event=e.event, created_at=e.created_at))
                n += 1
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=2400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--holdout-days", type=int, default=30)
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "bench" / "learning.md")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "learning_curve.png")
    parser.add_argument("--json", type=Path, default=None, help="Also write every figure to this JSON file.")
    parser.add_argument("--skip-retrain", action="store_true", help="Skip the final `learn retrain` (two replays).")
    parser.add_argument("--consequences", action="store_true",
                        help="Build the demo world where agents' moves change outcomes (no empathy for an upset customer, "
                             "a broken procedure): deskmate.demo.schedule.apply_consequences.")
    parser.add_argument("--cache", type=Path, default=None,
                        help="Keep the workspace and the recorded candidate lists here; a later run with the same "
                             "--cache skips building and recording (the slow part) and re-runs the learning loop.")
    args = parser.parse_args()

    scratch = None
    if args.cache is not None and (args.cache / "recorded.pickle").exists():
        state = load_state(args.cache)
        log(f"recorded state loaded from {args.cache}")
    else:
        root = args.cache or Path(tempfile.mkdtemp(prefix="deskmate-learning-bench-"))
        scratch = None if args.cache else root
        state = record(root, args)
    if "retrained" not in state:
        t = time.perf_counter()
        state["retrained"] = record_retrained(state)
        state["timings"]["assist rebuilt and held-out month replayed at 25/50/100%"] = time.perf_counter() - t
    if args.cache:
        save_state(args.cache, state)
    try:
        result = learn(state, args)
    finally:
        state["engine"].dispose()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    from _learning_report import report

    result["seconds"] = round(sum(result["timings"].values()), 1)
    report(result, args, REFERENCE_DATE)
    return 0


SAVED = ("conversations", "shifts", "used", "article_ids", "procedures", "moments", "truths", "earlier_ids", "held_out_ids",
         "bootstrap", "tenant_id", "slug", "held_back", "templates", "seed", "timings", "retrained")


def save_state(root: Path, state: dict) -> None:
    import pickle

    with (root / "recorded.pickle").open("wb") as fh:
        pickle.dump({k: state[k] for k in SAVED if k in state}, fh)


def load_state(root: Path) -> dict:
    import pickle

    from deskmate.config import Settings
    from deskmate.db import make_engine, make_sessionmaker, migrate

    with (root / "recorded.pickle").open("rb") as fh:
        state = pickle.load(fh)
    settings = Settings(data_dir=root)
    engine = make_engine(settings.database_url)
    migrate(engine)
    return {**state, "settings": settings, "engine": engine, "factory": make_sessionmaker(engine)}


def record(root: Path, args) -> dict:
    """Build the workspace, the bootstrap assist models, and record every candidate list the engine produces."""
    from deskmate.assist.bundle import save_version
    from deskmate.assist.engine import AssistEngine
    from deskmate.assist.pipeline import build_models
    from deskmate.assist.replay import fit_intent_model
    from deskmate.config import Settings
    from deskmate.db import session_scope
    from deskmate.learning.evaluation import truths_for
    from deskmate.learning.simulation import record_moments
    from deskmate.nlp.encoder import get_encoder

    settings = Settings(data_dir=root)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    demo, engine, factory = build(settings, args.seed, args.conversations, args.consequences)
    timings["build and score"] = time.perf_counter() - t
    tenant_id, slug = demo.tenant_id, demo.tenant
    conversations, shifts, used, article_ids, procedures, tenant_settings = load_history(factory, tenant_id)
    cut = demo.data.reference - timedelta(days=args.holdout_days)
    earlier = [c for c in conversations if c.started_at < cut]
    held_out = [c for c in conversations if c.started_at >= cut]
    bootstrap = earlier[: max(1, round(len(earlier) * FRACTIONS[0]))]
    log(f"history: {len(earlier)} conversations before {cut.date()}, {len(held_out)} held out; "
        f"assist models from the first {len(bootstrap)}")

    encoder = get_encoder(settings)
    t = time.perf_counter()
    with session_scope(factory) as session:
        models = build_models(session, tenant_id=tenant_id, conversations=bootstrap, encoder=encoder, version="bootstrap")
        truths = truths_for(session, tenant_id=tenant_id, conversations=conversations, procedures=procedures)
    intent_model = fit_intent_model(settings, bootstrap)
    # The bootstrap models are the workspace's live assist version: reply suggestion ids name its bank entries.
    save_version(settings, slug, models)
    timings["assist and intent models (first 10%)"] = time.perf_counter() - t
    assist = AssistEngine(settings, tenant_id=tenant_id, tenant_slug=slug, tenant_settings=tenant_settings,
                          models=models, intent_model=intent_model, encoder=encoder, procedures=procedures)
    t = time.perf_counter()
    with session_scope(factory) as session:
        moments = record_moments(settings, session, tenant_slug=slug, engine=assist, conversations=earlier + held_out)
        session.rollback()
    timings["engine over every conversation"] = time.perf_counter() - t
    log(f"recorded {sum(len(v) for v in moments.values())} candidate lists in {timings['engine over every conversation']:.0f}s")
    return {"settings": settings, "engine": engine, "factory": factory, "conversations": conversations, "shifts": shifts,
            "used": used, "article_ids": article_ids, "procedures": procedures, "moments": moments, "truths": truths,
            "earlier_ids": [c.id for c in earlier], "held_out_ids": [c.id for c in held_out], "bootstrap": len(bootstrap),
            "tenant_id": tenant_id, "slug": slug, "held_back": demo.data.truth["held_back_articles"],
            "templates": list(models.replies.templates_), "seed": args.seed, "timings": timings}


def record_retrained(state: dict) -> dict[str, list]:
    """Held-out candidate lists with assist's models rebuilt from each absorbed share of history (the nightly
    `deskmate prepare`), for the curve of the whole system rather than the ranker alone."""
    from deskmate.assist.engine import AssistEngine
    from deskmate.assist.pipeline import build_models
    from deskmate.assist.replay import fit_intent_model
    from deskmate.db import session_scope
    from deskmate.learning.simulation import record_moments
    from deskmate.nlp.encoder import get_encoder

    settings, factory = state["settings"], state["factory"]
    by_id = {c.id: c for c in state["conversations"]}
    earlier = [by_id[i] for i in state["earlier_ids"]]
    held_out = [by_id[i] for i in state["held_out_ids"]]
    encoder = get_encoder(settings)
    with session_scope(factory) as session:
        from deskmate.accounts.models import Tenant

        tenant_settings = dict(session.get(Tenant, state["tenant_id"]).settings or {})
    out = {}
    for f in FRACTIONS[1:]:
        absorbed = earlier[: round(len(earlier) * f)]
        with session_scope(factory) as session:
            models = build_models(session, tenant_id=state["tenant_id"], conversations=absorbed, encoder=encoder,
                                  version=f"retrained-{f:.2f}")
        engine = AssistEngine(settings, tenant_id=state["tenant_id"], tenant_slug=state["slug"],
                              tenant_settings=tenant_settings, models=models,
                              intent_model=fit_intent_model(settings, absorbed), encoder=encoder,
                              procedures=state["procedures"])
        with session_scope(factory) as session:
            recorded = record_moments(settings, session, tenant_slug=state["slug"], engine=engine, conversations=held_out)
            session.rollback()
        out[f"{f:.2f}"] = [m for c in held_out for m in recorded.get(c.id, [])]
        log(f"held-out month recorded with assist rebuilt from {len(absorbed)} conversations")
    return out


def learn(state: dict, args) -> dict:
    """The simulated agent's stream (outcome-aware and click-only), the curve, the product path, the gaps."""
    from _learning_report import gap_report, learned_differences
    from deskmate.learning.evaluation import ReplyMatcher, discordant
    from deskmate.learning.ranking import Ranker, merged_params
    from deskmate.learning.simulation import SimulatedAgent, simulate_stream
    from deskmate.learning.stats import SuggestionStats
    from deskmate.nlp.encoder import get_encoder

    settings, factory, moments, truths = state["settings"], state["factory"], state["moments"], state["truths"]
    timings = dict(state["timings"])
    by_id = {c.id: c for c in state["conversations"]}
    earlier = [by_id[i] for i in state["earlier_ids"]]
    held_out = [by_id[i] for i in state["held_out_ids"]]
    templates = state["templates"]

    def template_of(entry: str):
        return templates[int(entry)] if entry.isdigit() and int(entry) < len(templates) else None

    encoder = get_encoder(settings)
    linked = linked_articles(state["conversations"], state["used"], state["article_ids"], state["procedures"])
    held_moments = [m for c in held_out for m in moments.get(c.id, [])]
    matcher = ReplyMatcher(encoder)
    checkpoints = {max(1, round(len(earlier) * f)): f"{f:.2f}" for f in FRACTIONS}
    runs, events_kept = {}, {}
    t = time.perf_counter()
    for objective in ("outcome", "clicks"):
        params = merged_params({"objective": objective})
        keep = events_kept if objective == "outcome" else None
        snaps = simulate_stream(earlier, moments, SimulatedAgent(truths, encoder, linked), params=params,
                                template_of=template_of, shifts=state["shifts"], article_ids=state["article_ids"],
                                articles_used=state["used"], checkpoints=checkpoints,
                                on_conversation=(lambda conv, ev, keep=keep: keep.__setitem__(conv.id, ev))
                                if keep is not None else None)
        runs[objective] = (snaps, params)
    timings["simulated feedback streams"] = time.perf_counter() - t

    outcome_snaps, outcome_params = runs["outcome"]
    none = figures_at(held_moments, truths, SuggestionStats(), outcome_params, encoder, matcher)
    curve = {f: figures_at(held_moments, truths, outcome_snaps[f"{f:.2f}"], outcome_params, encoder, matcher) for f in FRACTIONS}
    retrained = {f"{FRACTIONS[0]:.2f}": held_moments, **state["retrained"]}
    curve_b = {f: figures_at(retrained[f"{f:.2f}"], truths, outcome_snaps[f"{f:.2f}"], outcome_params, encoder, matcher)
               for f in FRACTIONS}
    learned = learned_differences(outcome_snaps["final"], earlier)
    comparison = {"none": {"all": none, "resolution_linked": figures_at(held_moments, truths, SuggestionStats(),
                                                                        outcome_params, encoder, matcher, linked=True)}}
    for objective, (snaps, params) in runs.items():
        comparison[objective] = {
            "all": figures_at(held_moments, truths, snaps["final"], params, encoder, matcher),
            "resolution_linked": figures_at(held_moments, truths, snaps["final"], params, encoder, matcher, linked=True)}

    comparison["discordant"] = discordant(held_moments, truths, Ranker(runs["outcome"][0]["final"], runs["outcome"][1]),
                                          Ranker(runs["clicks"][0]["final"], runs["clicks"][1]), matcher)

    # The product path: the same feedback as assist events, joined by join_history, gives the same evidence.
    t = time.perf_counter()
    written = write_feedback_to_store(factory, state["tenant_id"], events_kept)
    parity = product_path_parity(settings, factory, state["tenant_id"], state["slug"], earlier, outcome_snaps["final"])
    timings["feedback through the product path"] = time.perf_counter() - t
    t = time.perf_counter()
    gaps = gap_report(settings, factory, state["tenant_id"], state["held_back"], encoder)
    timings["gap detection and drafts"] = time.perf_counter() - t
    retrained_version = None
    if not args.skip_retrain:  # the batch job on this workspace, now holding the simulated feedback
        from deskmate.learning.retrain import retrain

        t = time.perf_counter()
        job = retrain(settings, factory, tenant_slug=state["slug"], holdout=0.2)
        retrained_version = {"version": job.version.version, "promoted": job.promoted, "decision": job.version.decision,
                             "weights": job.version.params.get("weights"), "scores": job.scores, "baseline": job.baseline}
        timings["deskmate learn retrain (two replays)"] = time.perf_counter() - t
    return {"seed": state["seed"], "conversations": len(state["conversations"]), "earlier": len(earlier),
            "held_out": len(held_out), "bootstrap": state["bootstrap"], "moments": sum(len(v) for v in moments.values()),
            "curve": {f"{f:.2f}": curve[f] for f in FRACTIONS}, "no_learning": none, "comparison": comparison,
            "curve_retrained": {f"{f:.2f}": curve_b[f] for f in FRACTIONS}, "learned": learned,
            "feedback_events": written, "parity": parity, "gaps": gaps, "retrain": retrained_version,
            "timings": {k: round(v, 1) for k, v in timings.items()}}


def product_path_parity(settings, factory, tenant_id, slug, earlier, simulated) -> dict:
    """join_history over the stored events must give the evidence the simulation absorbed."""
    from deskmate.db import session_scope
    from deskmate.learning.feedback import join_history
    from deskmate.learning.retrain import build_stats

    with session_scope(factory) as session:
        rows = join_history(session, tenant_id=tenant_id, settings=settings, tenant_slug=slug, missing_only=False)
    with session_scope(factory) as session:
        stored, _ = build_stats(session, tenant_id=tenant_id, conversation_ids=[c.id for c in earlier])
    return {"joined_rows": rows, "rows_in_stream": stored.rows, "simulated_rows": simulated.rows,
            "identical_stats": _same_cells(stored.cells, simulated.cells)}


def _same_cells(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for kind in a:
        if a[kind].keys() != b[kind].keys():
            return False
        for reason in a[kind]:
            if a[kind][reason].keys() != b[kind][reason].keys():
                return False
            for key, cell in a[kind][reason].items():
                if any(abs(x - y) > 1e-6 for x, y in zip(cell, b[kind][reason][key])):
                    return False
    return True


if __name__ == "__main__":
    sys.exit(main())
