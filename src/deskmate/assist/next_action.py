"""Next action from the conversation itself: a classifier over what was just said and done.

Counting "after these actions, agents did X" (`actions.ActionModel`) needs the reason for contact to
be any good, and real history often has none: the customer's last words ("can you book it for 7?")
and the agent's last question say what happens next far better. This model learns, from every
moment in history just before an agent action (all conversations, each weighted by its probability
of having gone well), P(action | context):

- the context blocks live assist already keeps (`state.ContextAccumulator`: the latest message, the
  customer's and the agent's messages so far, the last action), each message encoded once;
- the mined sequence statistics for the actions so far (the reasons mixed by the intent's
  probabilities; for training, leave-one-out, so they are as good as on unseen history);
- the last action taken, one-hot.

A multinomial logistic regression (scikit-learn) on those; `predict_proba` is what the engine mixes
with policy procedures. Stored as numpy arrays and JSON, no pickles.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from deskmate.assist.state import ContextAccumulator

MIN_EXAMPLES = 20
MIN_CLASS_EXAMPLES = 2
NONE = ""


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else v


def context_blocks(context: ContextAccumulator) -> np.ndarray:
    """The latest message, the customer's and the agent's (decayed) messages, the last action."""
    return np.concatenate([context.last, _unit(context.customer), _unit(context.agent), context.action]).astype(np.float32)


class NextActionClassifier:
    def __init__(self, *, C: float = 2.0, max_iter: int = 300, prior_weight: float = 2.0):
        self.C, self.max_iter, self.prior_weight = C, max_iter, prior_weight
        self.classes_: list[str] = []
        self.coef_: np.ndarray | None = None
        self.intercept_ = np.zeros(0)

    @property
    def fitted(self) -> bool:
        return self.coef_ is not None

    def features(self, blocks: np.ndarray, prior: dict[str, float], last_action: str | None) -> np.ndarray:
        """One row: context blocks, the sequence prior over the classes, the last action one-hot."""
        k = len(self.classes_)
        index = self.__dict__.get("_index") or self.__dict__.setdefault("_index", {c: i for i, c in enumerate(self.classes_)})
        extra = np.zeros(2 * k + 1, dtype=np.float32)
        for action, p in prior.items():
            if action in index:
                extra[index[action]] = self.prior_weight * p
        extra[k + index[last_action] if last_action in index else 2 * k] = 1.0
        return np.concatenate([blocks, extra])

    def fit(self, blocks: np.ndarray, priors: list[dict[str, float]], last_actions: list[str | None], y: list[str],
            sample_weight=None) -> "NextActionClassifier":
        """One row per moment just before an agent action: its context blocks, the sequence prior there,
        the action before it, and the action taken (`y`)."""
        from collections import Counter

        from sklearn.linear_model import LogisticRegression

        counts = Counter(y)
        keep = [i for i, a in enumerate(y) if counts[a] >= MIN_CLASS_EXAMPLES]
        if len(keep) < MIN_EXAMPLES or len({y[i] for i in keep}) < 2:
            return self
        self.classes_ = sorted({y[i] for i in keep})
        self.__dict__.pop("_index", None)
        x = np.stack([self.features(blocks[i], priors[i], last_actions[i]) for i in keep])
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)[keep]
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(x, [y[i] for i in keep], sample_weight=w)
        order = [list(lr.classes_).index(c) for c in self.classes_]
        self.coef_ = lr.coef_[order].astype(np.float32)
        self.intercept_ = lr.intercept_[order].astype(np.float32)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        z = x @ self.coef_.T + self.intercept_
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def distribution(self, blocks: np.ndarray, prior: dict[str, float], last_action: str | None) -> dict[str, float]:
        """P(next action) for one moment, as {action: probability}."""
        proba = self.predict_proba(self.features(blocks, prior, last_action))[0]
        return {c: float(p) for c, p in zip(self.classes_, proba)}

    def save(self, directory: Path) -> None:
        if not self.fitted:
            (directory / "next_actions.json").write_text(json.dumps({"fitted": False}))
            return
        np.savez(directory / "next_actions.npz", coef=self.coef_, intercept=self.intercept_)
        (directory / "next_actions.json").write_text(json.dumps(
            {"fitted": True, "classes": self.classes_, "C": self.C, "prior_weight": self.prior_weight}))

    @classmethod
    def load(cls, directory: Path) -> "NextActionClassifier":
        path = directory / "next_actions.json"
        if not path.exists():
            return cls()
        meta = json.loads(path.read_text())
        if not meta.get("fitted"):
            return cls()
        model = cls(C=meta["C"], prior_weight=meta["prior_weight"])
        model.classes_ = meta["classes"]
        with np.load(directory / "next_actions.npz") as data:
            model.coef_, model.intercept_ = data["coef"], data["intercept"]
        return model
