"""Simple baselines the replay asks at the same moments as assist, so no figure is read alone.

A replay figure means little without what a trivial rule gets on the same held-out moments: on a
history with three moves, "the most frequent next action" is often right. Each baseline is fitted
on the replay's training slice only (every conversation of it: a baseline has no notion of
outcome), and is asked exactly where assist is scored:

- next action: the most frequent action in history; the most frequent for the reason assist
  detected at that moment; the same given also the previous action (backing off to the previous
  action alone, then the reason, then overall). A past conversation's reason is the one it was
  given, else what the same detector reads from its opening, so the rule works on unlabelled
  history too;
- reply: the next reply after the nearest past context (cosine on the same context vector assist
  reads), as a suggestion and as the score of the 100 candidates of the ranking (cosine to it);
  chance is 1/100 and 3/100;
- intent: the majority reason, and TF-IDF + logistic regression on the customer's opening
  messages (the first k for the figure after the k-th message).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from deskmate.conversations.transcript import Transcript
from deskmate.assist.pipeline import make_turn
from deskmate.assist.state import ConversationState
from deskmate.assist.templating import to_template
from deskmate.assist.tracking import observe

INTENT_TURNS = 3


def rank_of_real(scores: np.ndarray) -> int:
    """Rank of the real candidate (`scores[0]`) among the others: every distractor scoring at least as
    high is ahead of it, so a tie is a miss and a model that scores everything alike never ranks first."""
    return int((scores[1:] >= scores[0]).sum())


def ranked_by_counts(*counters: Counter) -> list[str]:
    """Actions by count in the first counter that has any, backing off to the next ones (ties by name)."""
    for counter in counters:
        if counter:
            return [a for a, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]
    return []


class Baselines:
    """Fitted on the training conversations; `vectors` maps a turn's text to its embedding, `reasons`
    (parallel to `train`) is each conversation's reason as the next-action rules group it."""

    def __init__(self, train: list[Transcript], vectors: dict[str, np.ndarray], dim: int,
                 reasons: list[str | None] | None = None):
        self.overall: Counter = Counter()
        self.by_reason: dict[str | None, Counter] = defaultdict(Counter)
        self.by_previous: dict[str, Counter] = defaultdict(Counter)
        self.by_reason_previous: dict[tuple, Counter] = defaultdict(Counter)
        contexts, replies = [], []
        for conv, reason in zip(train, reasons or [c.reason for c in train]):
            done: list[str] = []
            for action in conv.actions:
                previous = done[-1] if done else ""
                self.overall[action] += 1
                self.by_reason[reason][action] += 1
                self.by_previous[previous][action] += 1
                self.by_reason_previous[(reason, previous)][action] += 1
                done.append(action)
            state = ConversationState(conv.id, 0, conv.customer, conv.agent_name, None, conv.started_at, dim)
            for past in conv.turns:
                if past.role == "agent" and past.kind == "text" and past.text.strip() and state.turns:
                    contexts.append(state.context.vector())
                    replies.append(to_template(past.text, conv.customer, conv.agent_name))
                observe(state, make_turn(past, vectors))
        self.contexts = np.stack(contexts) if contexts else np.zeros((0, dim), dtype=np.float32)
        self.replies = replies
        self.intent = IntentBaselines(train)

    # ---- next action --------------------------------------------------------------------

    def next_actions(self, reason: str | None, done: list[str]) -> dict[str, list[str]]:
        """Each next-action baseline's ranking at this moment (best first)."""
        previous = done[-1] if done else ""
        return {
            "most_frequent": ranked_by_counts(self.overall),
            "by_reason": ranked_by_counts(self.by_reason.get(reason, Counter()), self.overall),
            "by_reason_and_previous": ranked_by_counts(self.by_reason_previous.get((reason, previous), Counter()),
                                                       self.by_previous.get(previous, Counter()),
                                                       self.by_reason.get(reason, Counter()), self.overall),
        }

    # ---- replies ------------------------------------------------------------------------

    def nearest_replies(self, context: np.ndarray, k: int = 3) -> list[str]:
        """The replies that followed the k nearest past contexts (distinct, nearest first)."""
        if not len(self.contexts):
            return []
        sims = self.contexts @ context
        out: list[str] = []
        for i in np.argsort(-sims)[: k * 5]:
            if self.replies[i] not in out:
                out.append(self.replies[i])
            if len(out) == k:
                break
        return out


class IntentBaselines:
    """Majority reason and TF-IDF + logistic regression on the first k customer messages."""

    def __init__(self, train: list[Transcript]):
        labelled = [(c.reason, customer_texts(c)) for c in train if c.reason]
        self.majority = Counter(r for r, _ in labelled).most_common(1)[0][0] if labelled else None
        self.models: dict[int, object] = {}
        if len({r for r, _ in labelled}) < 2:
            return
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        for k in range(1, INTENT_TURNS + 1):
            texts = [" ".join(said[:k]) for _, said in labelled]
            model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                                  LogisticRegression(max_iter=1000, C=10.0))
            self.models[k] = model.fit(texts, [r for r, _ in labelled])

    def predict(self, said: list[str], k: int) -> dict[str, str | None]:
        out = {"majority": self.majority}
        if k in self.models:
            out["tfidf_logreg"] = str(self.models[k].predict([" ".join(said[:k])])[0])
        return out


def customer_texts(conv: Transcript) -> list[str]:
    return [t.text for t in conv.turns if t.role == "customer" and t.kind == "text" and t.text.strip()]
