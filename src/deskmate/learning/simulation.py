"""A simulated agent working through history with live assist, so the learning loop can be measured offline.

`record_moments` runs conversations through the real `AssistEngine` (reason hidden, as in a
replay) and keeps every candidate list it hands the ranker. The lists do not depend on the
ranker, so the feedback loop can then be replayed cheaply and exactly: at each moment the
current ranker orders the candidates, the top ones are "shown", and the simulated agent accepts
the one matching what the real agent did next (the action taken, a reply within cosine 0.9 of
the one sent, an article the conversation is linked to) and dismisses the others. When the
conversation ends its events are folded and joined to its outcome by the same functions the
close hook uses (`feedback.fold_events`, `observed_rows`, `reward_for`): the online update.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from deskmate.learning.evaluation import Moment, RecordingRanker, Truth, order_of, ReplyMatcher
from deskmate.learning.feedback import _actions_before, fold_events, observed_rows, rated_down, reward_for
from deskmate.learning.ranking import Ranker, overriding
from deskmate.learning.stats import Evidence, SuggestionStats

SHOWN = {"kb": 3, "reply": 3, "nba": 1}


@dataclass
class Event:
    """The fields of an `assist_feedback_events` row that folding reads."""

    suggestion_id: str
    suggestion_type: str
    event: str
    created_at: datetime | None
    final_text: str | None = None
    rating: int | None = None
    user_id: int | None = None


def record_moments(settings, session, *, tenant_slug: str, engine, conversations, progress=None) -> dict[int, list[Moment]]:
    """Every candidate list the engine asks the ranker to order, per conversation, in message order.

    Assist does not ask about a single candidate (nothing to order); those moments are taken from
    the update itself, so every suggestion shown is in the record."""
    from deskmate.assist.pipeline import make_turn

    recorder = RecordingRanker(Ranker())
    out: dict[int, list[Moment]] = defaultdict(list)
    with overriding(settings, tenant_slug, recorder):
        for conv in conversations:
            state = engine.start(session, conversation_id=conv.id, customer_id=conv.customer_id,
                                 agent_name=conv.agent_name, reason=None, started_at=conv.started_at)
            for past in conv.turns:
                update = engine.process(session, state, make_turn(past, {}))
                asked = {m.kind for m in recorder.moments}
                out[conv.id].extend(recorder.moments)
                out[conv.id].extend(_unasked(update, state, asked))
                recorder.moments = []
            engine.forget(conv.id)
            if progress:
                progress(1)
    return dict(out)


def _unasked(update, state, asked: set[str]) -> list[Moment]:
    """Moments for the suggestions of this update that were never offered to the ranker."""
    from deskmate.learning.keys import candidate_key

    seq = update.message_seq
    context = {"intent_probs": {c.label: c.confidence for c in update.intent.candidates}, "actions": list(state.actions)}
    lists = {}
    nba = update.next_action
    if "nba" not in asked and nba.action:
        lists["nba"] = ([(nba.action, nba.evidence.scores.get("probability", 1.0))]
                        + [(a.label, a.confidence) for a in nba.alternatives], [nba.action] + [a.label for a in nba.alternatives])
    if "reply" not in asked and update.replies:
        lists["reply"] = ([{"template": r.template, "score": r.score} for r in update.replies],
                          [r.id.split(":")[1] for r in update.replies])
    fresh_kb = [k for k in update.knowledge if k.id.rsplit(":", 1)[-1] == str(seq)]  # computed at this message
    if "kb" not in asked and fresh_kb:
        lists["kb"] = ([{"article_id": k.article_id, "score": k.score} for k in fresh_kb], [str(k.article_id) for k in fresh_kb])
    out = []
    for kind, (candidates, items) in lists.items():
        labels = [str(c[0]) if isinstance(c, tuple) else str(c.get("template", c.get("article_id"))) for c in candidates]
        out.append(Moment(kind, update.conversation_id, seq, [candidate_key(kind, c, context) for c in candidates],
                          [float(c[1]) if isinstance(c, tuple) else float(c["score"]) for c in candidates], labels,
                          items, context))
    return out


class SimulatedAgent:
    def __init__(self, truths: dict[int, Truth], encoder, linked_articles: dict[int, set[str]]):
        self.truths, self.linked = truths, linked_articles
        self.replies = ReplyMatcher(encoder)

    def events(self, conv_id: int, moments: list[Moment], ranker: Ranker, at: dict[int, datetime]) -> list[Event]:
        truth = self.truths.get(conv_id) or Truth()
        out: list[Event] = []
        for m in moments:
            top = order_of(ranker, m)[: SHOWN.get(m.kind, 3)]
            if not top:
                continue
            accepted = self._match(m, [m.labels[i] for i in top], truth, conv_id)
            when = at.get(m.seq)
            for i in top:
                sid = f"{m.kind}:{m.items[i]}:{conv_id}:{m.seq}"  # the id assist gives the suggestion
                out.append(Event(sid, m.kind, "shown", when))
                if accepted is not None:
                    out.append(Event(sid, m.kind, "inserted" if m.labels[i] == accepted else "dismissed", when))
        return out

    def _match(self, m: Moment, shown: list[str], truth: Truth, conv_id: int) -> str | None:
        """The shown suggestion the real agent's next move matches, "" when the agent did something else,
        None when there is nothing to judge (the agent's next turn is not of this kind)."""
        if m.kind == "nba":
            if m.seq not in truth.next_action:
                return None
            return next((s for s in shown if s == truth.next_action[m.seq]), "")
        if m.kind == "reply":
            if m.seq not in truth.next_reply:
                return None
            return next((s for s in shown if self.replies.any_same([s], truth.next_reply[m.seq])), "")
        if m.kind == "kb":
            return next((s for s in shown if s in self.linked.get(conv_id, set())), "")
        return None


def absorb(stats: SuggestionStats, conv, events: list[Event], *, shift: float | None, template_of,
           article_ids: dict[str, int], articles_used: list) -> list[dict]:
    """Fold one closed conversation's events, join its outcome and add the rows to `stats` (the online update)."""
    resolved = None if conv.outcome is None else conv.outcome == "resolved"
    shown = fold_events(events, actions_before=_actions_before(conv), template_of=template_of)
    accepted = {(r["kind"], r["key"]) for r in shown if r["accepted"] and r["key"]}
    rows = shown + observed_rows(conv, already=accepted, article_ids=article_ids, articles_used=articles_used)
    for row in rows:
        row["reward"] = reward_for(row["accepted"], resolved, shift, row["rating"])
        stats.add(Evidence(row["kind"], conv.reason, row["key"], bool(row["accepted"]), row["reward"],
                           bool(row["dismissed"]), rated_down(row["rating"])))
    return rows


def simulate_stream(conversations, moments: dict[int, list[Moment]], agent: SimulatedAgent, *, params: dict, template_of,
                    shifts: dict[int, float | None], article_ids: dict[str, int], articles_used: dict[int, list],
                    checkpoints: dict[int, str] | None = None, on_conversation=None) -> dict[str, SuggestionStats]:
    """Feed `conversations` in order through the loop; returns the stats at each checkpoint
    (`checkpoints`: number of conversations absorbed -> name) and at the end ("final")."""
    stats = SuggestionStats()
    snapshots: dict[str, SuggestionStats] = {}
    checkpoints = checkpoints or {}
    for i, conv in enumerate(conversations, 1):
        ranker = Ranker(stats, params)
        at = {t.seq: t.at for t in conv.turns}
        events = agent.events(conv.id, moments.get(conv.id, []), ranker, at)
        absorb(stats, conv, events, shift=shifts.get(conv.id), template_of=template_of, article_ids=article_ids,
               articles_used=articles_used.get(conv.id, []))
        if on_conversation:
            on_conversation(conv, events)
        if i in checkpoints:
            snapshots[checkpoints[i]] = stats.copy()
    snapshots["final"] = stats
    return snapshots
