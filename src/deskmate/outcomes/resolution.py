"""Resolved / unresolved / escalated / abandoned, with a calibrated probability, read from the conversation itself.

`ResolutionModel` is fitted on the workspace's labelled history (conversations whose source
recorded an outcome) and follows the scikit-learn contract. Where a workspace has too little
labelled history, `rule_probabilities` answers from the same engineered features with
hand-set weights, so every conversation gets an outcome either way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from deskmate.modelstore import Kind, ModelStore
from deskmate.outcomes.features import FEATURE_NAMES, closing_text, resolution_features
from deskmate.outcomes.transcript import Transcript

OUTCOMES = ("resolved", "unresolved", "escalated", "abandoned")
MIN_LABELLED = 40  # below this a fitted model is noisier than the rules
MIN_PER_CLASS = 5
RULES_VERSION = "rules-1"


@dataclass(frozen=True)
class ResolutionSample:
    """What the model reads of one conversation."""

    features: np.ndarray
    text: str


def make_sample(transcript: Transcript, required: Sequence[str] | None = None) -> ResolutionSample:
    return ResolutionSample(resolution_features(transcript, required), closing_text(transcript))


@dataclass(frozen=True)
class ResolutionEstimate:
    outcome: str
    probability: float
    probabilities: dict[str, float]
    source: str  # "model" or "rules"
    version: str


class ResolutionModel:
    """Engineered features (scaled) beside TF-IDF of the conversation's closing turns, into a calibrated logistic regression."""

    def __init__(self, *, C: float = 1.0, max_text_features: int = 20_000, calibration_folds: int = 3):
        self.C = C
        self.max_text_features = max_text_features
        self.calibration_folds = calibration_folds

    def _matrix(self, X: Sequence[ResolutionSample]):
        from scipy.sparse import csr_matrix, hstack

        numeric = self.scaler_.transform(np.vstack([s.features for s in X]))
        text = self.vectorizer_.transform([s.text for s in X])
        return hstack([csr_matrix(numeric), text], format="csr")

    def fit(self, X: Sequence[ResolutionSample], y: Sequence[str]) -> ResolutionModel:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        y = np.asarray(list(y))
        self.scaler_ = StandardScaler().fit(np.vstack([s.features for s in X]))
        self.vectorizer_ = TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, max_features=self.max_text_features, sublinear_tf=True,
        ).fit([s.text for s in X])
        matrix = self._matrix(X)
        base = LogisticRegression(C=self.C, max_iter=3000)
        smallest = min(np.unique(y, return_counts=True)[1])
        if self.calibration_folds >= 2 and smallest >= self.calibration_folds:
            # Sigmoid calibration over folds: a regularised LR on thousands of sparse columns is overconfident.
            self.classifier_ = CalibratedClassifierCV(base, method="sigmoid", cv=self.calibration_folds).fit(matrix, y)
        else:
            self.classifier_ = base.fit(matrix, y)
        self.classes_ = np.asarray(self.classifier_.classes_)
        self.feature_names_ = FEATURE_NAMES
        self.n_train_ = len(y)
        self.label_counts_ = {str(k): int(v) for k, v in zip(*np.unique(y, return_counts=True))}
        digest = hashlib.sha1(json.dumps([self.label_counts_, self.C, self.max_text_features]).encode()).hexdigest()[:8]
        self.trained_at_ = datetime.now(UTC)
        self.version = f"lr-{self.trained_at_:%Y%m%d%H%M%S}-{digest}"
        return self

    def predict_proba(self, X: Sequence[ResolutionSample]) -> np.ndarray:
        return self.classifier_.predict_proba(self._matrix(X))

    def predict(self, X: Sequence[ResolutionSample]) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def estimates(self, X: Sequence[ResolutionSample]) -> list[ResolutionEstimate]:
        if not X:
            return []
        proba = self.predict_proba(X)
        out = []
        for row in proba:
            probs = {o: 0.0 for o in OUTCOMES} | {str(c): float(p) for c, p in zip(self.classes_, row)}
            best = max(probs, key=probs.get)
            out.append(ResolutionEstimate(best, probs[best], probs, "model", self.version))
        return out

    # ---- persistence -----------------------------------------------------------------

    def save(self, path: Path) -> Path:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        joblib.dump(self, tmp)
        tmp.replace(path)  # atomic: a scorer in another process never reads half a model
        path.with_suffix(".json").write_text(json.dumps({
            "version": self.version, "n_train": self.n_train_, "label_counts": self.label_counts_,
            "trained_at": self.trained_at_.isoformat(), "features": list(FEATURE_NAMES),
        }, indent=2))
        return path

    @classmethod
    def load(cls, path: Path) -> ResolutionModel:
        import joblib

        model = joblib.load(path)
        if not isinstance(model, cls):
            raise TypeError(f"{path} does not hold a ResolutionModel")
        return model


def trainable(labels: Sequence[str]) -> bool:
    counts = {o: 0 for o in OUTCOMES}
    for lab in labels:
        if lab in counts:
            counts[lab] += 1
    return sum(counts.values()) >= MIN_LABELLED and sum(1 for n in counts.values() if n >= MIN_PER_CLASS) >= 2


# ---- rules -----------------------------------------------------------------------------

_F = {name: i for i, name in enumerate(FEATURE_NAMES)}

# Logit weights per outcome over features, set by hand from how support conversations end.
_RULE_WEIGHTS = {
    "resolved": {"last_customer_thanks": 1.6, "last_customer_satisfied": 1.4, "customer_thanks_late": 0.8,
                 "agent_closing_offer": 0.8, "agent_farewell": 0.6, "procedure_complete": 1.2,
                 "procedure_done_share": 0.6, "sentiment_end": 1.0, "last_customer_dissatisfied": -2.0,
                 "customer_after_agent": -0.8, "long_silence": -1.0, "agent_escalation_language": -1.0,
                 "escalation_action": -1.5, "agent_unable_late": -1.5, "agent_ping": -1.5},
    "unresolved": {"last_customer_dissatisfied": 2.0, "customer_dissatisfied_any": 0.8, "sentiment_end": -1.0,
                   "repeats": 0.4, "has_procedure": 0.4, "procedure_complete": -1.0, "last_customer_thanks": -0.6,
                   "agent_unable": 1.0, "agent_unable_late": 1.5},
    "escalated": {"escalation_action": 3.0, "agent_escalation_language": 1.6, "transfer": 1.2},
    "abandoned": {"customer_after_agent": 0.8, "last_customer_chasing": 2.0, "long_silence": 1.4,
                  "last_agent_question": 1.0, "log_customer_turns": -0.6, "last_customer_thanks": -1.5,
                  "agent_farewell": -0.8, "agent_ping": 2.0, "agent_closes_for_silence": 2.5},
}
_RULE_BIAS = {"resolved": 0.3, "unresolved": -0.2, "escalated": -1.8, "abandoned": -1.6}


def rule_probabilities(features: np.ndarray) -> dict[str, float]:
    logits = np.array([
        _RULE_BIAS[o] + sum(w * features[_F[name]] for name, w in _RULE_WEIGHTS[o].items()) for o in OUTCOMES
    ])
    exp = np.exp(logits - logits.max())
    probs = exp / exp.sum()
    return {o: float(p) for o, p in zip(OUTCOMES, probs)}


def rule_estimates(X: Sequence[ResolutionSample]) -> list[ResolutionEstimate]:
    out = []
    for s in X:
        probs = rule_probabilities(s.features)
        best = max(probs, key=probs.get)
        out.append(ResolutionEstimate(best, probs[best], probs, "rules", RULES_VERSION))
    return out


# ---- the workspace's current model -------------------------------------------------------

MODEL_FILE = "resolution.joblib"
RESOLUTION = Kind("resolution", write=lambda model, directory: model.save(directory / MODEL_FILE),
                  read=lambda directory: ResolutionModel.load(directory / MODEL_FILE))


def model_path(models_dir: Path, tenant_slug: str) -> Path:
    """Transitional: where `outcomes.service` still writes a fitted model; `load_workspace_model` moves it
    into the model store. Once the service calls `save_workspace_model`, this and `_take_in` go."""
    return Path(models_dir) / tenant_slug / "outcomes" / MODEL_FILE


def save_workspace_model(models_dir: Path, tenant_slug: str, model: ResolutionModel) -> str:
    """Save a fitted model as the workspace's current version; returns the version."""
    return ModelStore(models_dir).save(RESOLUTION, tenant_slug, model, {"n_train": model.n_train_,
                                                                        "label_counts": model.label_counts_},
                                       version=model.version, make_current=True)


def _take_in(models_dir: Path, tenant_slug: str) -> None:
    path = model_path(models_dir, tenant_slug)
    if path.exists():
        save_workspace_model(models_dir, tenant_slug, ResolutionModel.load(path))
        path.unlink(missing_ok=True)
        path.with_suffix(".json").unlink(missing_ok=True)


def load_workspace_model(models_dir: Path, tenant_slug: str) -> ResolutionModel | None:
    """The workspace's current fitted model (None before one is fitted), loaded once per process."""
    _take_in(models_dir, tenant_slug)
    model = ModelStore(models_dir).load(RESOLUTION, tenant_slug, required=False)
    if model is not None and getattr(model, "feature_names_", None) != FEATURE_NAMES:
        return None  # fitted by an older Deskmate on other features: refit (deskmate outcomes score --retrain)
    return model
