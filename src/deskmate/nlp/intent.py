"""Reason-for-contact (intent) classifier with calibrated confidence and an out-of-scope answer.

Shape: scikit-learn (`IntentClassifier(...).fit(texts, labels).predict_proba(texts)`).
Inside, two views of a message vote, because they fail differently:

- sentence embeddings (the MiniLM encoder, optionally fine-tuned on the labelled examples
  first, SetFit-style) + logistic regression: meaning, paraphrases;
- character and word n-gram TF-IDF + logistic regression: exact wording, product names,
  typos, the short fragments support chats are full of.

Their log-probabilities are mixed with weight `text_weight`, and a temperature turns the
mix into probabilities that mean what they say. Temperature and mixing weight are fitted
on held-out rounds (rows the heads, and a fine-tuned encoder, never trained on), so an
agent is not shown a confident wrong label; other rounds hide a fifth of the intents
entirely, whose examples play the unknown intents (`intent_calibration`). Below the
threshold the answer is "not sure": it is set for an operating point the team states
(by default at most 5% of in-scope messages withheld, and answered-right at most 2 points
under top-label accuracy; `intent_operating`), measured on those held-out rows.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import weakref
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from deskmate.errors import InvalidInput, NotFound
from deskmate.modelstore import Kind, ModelStore
from deskmate.nlp.intent_calibration import HeldOut, calibration_split, fit_mix, held_out_rounds, log_softmax
from deskmate.nlp.intent_operating import OperatingPoint, choose_operating_threshold

FORMAT = 1
TEXT_WEIGHTS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
ONNX_FILE = "encoder.int8.onnx"  # beside encoder/: the fine-tuned weights exported for fast prediction
Progress = Callable[[str, float], None]  # (stage description, fraction done of that stage)


@dataclass(frozen=True)
class IntentPrediction:
    label: str | None  # None: out of scope, or not sure enough yet to show an agent
    confidence: float
    ranked: list[tuple[str, float]]

    @property
    def out_of_scope(self) -> bool:
        return self.label is None


def _text_vectorizer():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    return make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True,
                        token_pattern=r"(?u)\b\w+\b"),
    )


def validate_examples(texts: Sequence[str], labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """Training data an intent model can learn from, as strings; raises InvalidInput otherwise."""
    texts = [str(t) for t in texts]
    labels = [str(label) for label in labels]
    if len(texts) != len(labels):
        raise InvalidInput(f"{len(texts)} texts but {len(labels)} labels")
    if len(set(labels)) < 2:
        raise InvalidInput("an intent model needs examples of at least two intents")
    if any(not t.strip() for t in texts):
        raise InvalidInput("every example needs some text")
    return texts, labels


def data_fingerprint(texts: Sequence[str], labels: Sequence[str]) -> str:
    h = hashlib.sha256()
    for text, label in sorted(zip(texts, labels)):
        h.update(label.encode() + b"\x1f" + text.encode() + b"\x1e")
    return h.hexdigest()


class IntentClassifier:
    """Intent classifier; see the module docstring for how the pieces fit."""

    def __init__(
        self,
        *,
        encoder: str = "minilm-onnx",
        finetune: bool | str = False,
        finetune_epochs: float | None = None,
        text_weight: float | None = None,
        threshold: float | None = None,
        max_withheld: float | None = None,
        max_accuracy_drop: float | None = None,
        min_oos_recall: float | None = None,
        calibration_fraction: float = 0.1,
        C_embedding: float = 10.0,
        C_text: float = 20.0,
        random_state: int = 0,
        models_dir: Path | str | None = None,
    ):
        self.encoder = encoder
        self.finetune = finetune
        self.finetune_epochs = finetune_epochs
        self.text_weight = text_weight
        self.threshold = threshold
        self.max_withheld = max_withheld  # the operating point (intent_operating; None: not stated)
        self.max_accuracy_drop = max_accuracy_drop
        self.min_oos_recall = min_oos_recall
        self.calibration_fraction = calibration_fraction
        self.C_embedding = C_embedding
        self.C_text = C_text
        self.random_state = random_state
        self.models_dir = models_dir

    # ---- encoder -----------------------------------------------------------------------

    def _encoder(self):
        from deskmate.nlp.encoder import get_encoder, load_encoder

        if getattr(self, "_encoder_", None) is None:
            if getattr(self, "encoder_path_", None) is not None:  # fine-tuned weights belong to this model only
                self._encoder_ = load_encoder(self.encoder, self.encoder_path_,
                                              onnx_path=self.encoder_path_.parent / ONNX_FILE)
            else:
                self._encoder_ = get_encoder(backend=self.encoder, models_dir=self.models_dir)
        return self._encoder_

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._encoder().encode(list(texts))

    # ---- fitting -----------------------------------------------------------------------

    def fit(self, texts: Sequence[str], labels: Sequence[str], *, progress: Progress | None = None) -> "IntentClassifier":
        from deskmate.nlp import intent_finetune

        texts, labels = validate_examples(texts, labels)
        self.operating_point_ = OperatingPoint.stated(self.max_withheld, self.max_accuracy_drop, self.min_oos_recall)
        report = progress or (lambda stage, done: None)
        rng = np.random.default_rng(self.random_state)
        self.classes_ = np.array(sorted(set(labels)), dtype=object)
        self.counts_ = dict(sorted(Counter(labels).items()))
        self._encoder_ = None
        self.encoder_path_ = None
        all_rows = np.arange(len(texts))
        epochs = self._finetune_epochs(len(texts), labels)
        if epochs > 0:
            # The encoder must not see the calibration rows, or their confidences would look better than real ones.
            train_idx, calib_rows = calibration_split(labels, self.calibration_fraction, rng)
            self._workdir = Path(tempfile.mkdtemp(prefix="deskmate-intent-"))
            weakref.finalize(self, shutil.rmtree, self._workdir, True)
            self.encoder_path_ = intent_finetune.finetune_encoder(
                [texts[i] for i in train_idx], [labels[i] for i in train_idx],
                out_dir=self._workdir / "encoder", epochs=epochs, seed=self.random_state,
                progress=lambda done: report("fine-tuning the encoder", done),
            )
        if self.encoder_path_ is None:
            epochs, calib_rows = 0.0, all_rows
        self.finetune_epochs_ = epochs
        report("embedding the examples", 0.0)
        embeddings = self._embed(texts)
        report("embedding the examples", 1.0)
        y = np.asarray(labels, dtype=object)
        report("calibrating confidence", 0.0)
        held = held_out_rounds(self, texts, embeddings, y, calib_rows, rng,
                               lambda done: report("calibrating confidence", done))
        self._calibrate(held)
        report("training the classifier", 0.0)
        self._fit_heads(texts, embeddings, y)
        report("training the classifier", 1.0)
        self.texts_, self.labels_, self.embeddings_ = list(texts), list(labels), embeddings
        self._stamp()
        return self

    def _finetune_epochs(self, n: int, labels: Sequence[str]) -> float:
        from deskmate.nlp import intent_finetune

        if self.finetune in (False, "off", None):
            return 0.0
        if self.finetune_epochs is not None:
            return float(self.finetune_epochs)
        # "auto" also skips data with too few intents to contrast; True always fine-tunes.
        return intent_finetune.auto_epochs(n, labels if self.finetune == "auto" else ())

    def _fit_heads(self, texts: Sequence[str], embeddings: np.ndarray, y: np.ndarray) -> None:
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        # One BLAS thread: on a shared 2-core machine, spinning BLAS threads made these fits 6x slower.
        with threadpool_limits(1):
            self.embedding_head_ = LogisticRegression(C=self.C_embedding, max_iter=3000).fit(embeddings, y)
            self.text_vectorizer_ = _text_vectorizer().fit(texts)
            self.text_head_ = LogisticRegression(C=self.C_text, max_iter=3000).fit(
                self.text_vectorizer_.transform(texts), y)

    def _head_logprobs(self, texts: Sequence[str], embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each head's log-probabilities in `classes_` order (a head may not know a class yet)."""
        out = []
        for head, features in ((self.embedding_head_, embeddings),
                               (self.text_head_, self.text_vectorizer_.transform(list(texts)))):
            lp = np.full((len(texts), len(self.classes_)), -30.0)
            cols = np.searchsorted(self.classes_, head.classes_)
            lp[:, cols] = np.log(np.clip(head.predict_proba(features), 1e-12, None))
            out.append(lp)
        return out[0], out[1]

    def _calibrate(self, held: "HeldOut") -> None:
        """Mixing weight and temperature by log-loss on in-scope rows, then the threshold for the operating point."""
        lp_emb, lp_text, y = held.get("in")
        if not len(y):  # too little data to hold anything out: neutral settings, a middling threshold
            self.text_weight_ = 0.3 if self.text_weight is None else self.text_weight
            self.temperature_, self.threshold_ = 1.0, 0.5 if self.threshold is None else self.threshold
            self.calibration_ = {"examples": 0}
            return
        truth = np.searchsorted(self.classes_, y)
        weights = [self.text_weight] if self.text_weight is not None else TEXT_WEIGHTS
        nll, self.text_weight_, self.temperature_ = fit_mix(lp_emb, lp_text, truth, weights)
        probs = self._mix(lp_emb, lp_text)
        oos_emb, oos_text, _ = held.get("oos")
        oos_confidence = self._mix(oos_emb, oos_text).max(axis=1) if len(oos_emb) else np.zeros(0)
        if self.threshold is None:
            self.threshold_, stats = choose_operating_threshold(probs, truth, oos_confidence, self.operating_point_)
        else:
            self.threshold_, stats = self.threshold, {}
        self.calibration_ = {"examples": int(len(truth)), "unknown_intent_examples": int(len(oos_confidence)),
                             "log_loss": round(float(nll), 4),
                             "accuracy": round(float((probs.argmax(1) == truth).mean()), 4), **stats}

    def _mix(self, lp_emb: np.ndarray, lp_text: np.ndarray) -> np.ndarray:
        w = self.text_weight_
        return np.exp(log_softmax(((1 - w) * lp_emb + w * lp_text) / self.temperature_))

    def _stamp(self) -> None:
        self.data_sha256_ = data_fingerprint(self.texts_, self.labels_)
        self.created_at_ = datetime.now(timezone.utc)
        self.version = f"{self.created_at_:%Y%m%d-%H%M%S}-{self.data_sha256_[:8]}"

    # ---- adding an intent --------------------------------------------------------------

    def add_intent(self, label: str, examples: Sequence[str]) -> "IntentClassifier":
        """Teach a new intent (or more examples of a known one) from a handful of examples.

        Only the two linear heads are refitted, on the stored example vectors: the encoder
        (fine-tuned or not), the calibration and the threshold stay as they are. Seconds,
        not the minutes of a full `fit`.
        """
        self._check_fitted()
        label = str(label).strip()
        examples = [str(e).strip() for e in examples if str(e).strip()]
        if not label:
            raise InvalidInput("an intent needs a name")
        if not examples:
            raise InvalidInput(f"intent {label!r}: give at least one example")
        self.texts_ = self.texts_ + examples
        self.labels_ = self.labels_ + [label] * len(examples)
        self.embeddings_ = np.vstack([self.embeddings_, self._embed(examples)])
        self.classes_ = np.array(sorted(set(self.labels_)), dtype=object)
        self.counts_ = dict(sorted(Counter(self.labels_).items()))
        self._fit_heads(self.texts_, self.embeddings_, np.asarray(self.labels_, dtype=object))
        self._stamp()
        return self

    # ---- predicting --------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise InvalidInput("this intent model is not trained yet; call fit() first")

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self._check_fitted()
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, len(self.classes_)))
        return self._mix(*self._head_logprobs(texts, self._embed(texts)))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        probs = self.predict_proba(texts)
        return self.classes_[probs.argmax(axis=1)] if len(probs) else np.array([], dtype=object)

    def predict_with_confidence(
        self, texts: Sequence[str], *, threshold: float | None = None, top: int = 3
    ) -> list[IntentPrediction]:
        """Best label per text, or None when its calibrated confidence is under the threshold."""
        threshold = self.threshold_ if threshold is None else threshold
        out = []
        for row in self.predict_proba(texts):
            order = np.argsort(-row)[:top]
            ranked = [(str(self.classes_[j]), round(float(row[j]), 4)) for j in order]
            confidence = float(row[order[0]])
            out.append(IntentPrediction(ranked[0][0] if confidence >= threshold else None, confidence, ranked))
        return out

    # ---- persistence -------------------------------------------------------------------

    def describe(self) -> dict:
        self._check_fitted()
        return {
            "format": FORMAT, "version": self.version, "created_at": self.created_at_.isoformat(),
            "classes": [str(c) for c in self.classes_], "counts": self.counts_, "examples": len(self.texts_),
            "data_sha256": self.data_sha256_, "encoder": self.encoder, "finetuned": self.encoder_path_ is not None,
            "finetune_epochs": self.finetune_epochs_, "text_weight": self.text_weight_,
            "temperature": self.temperature_, "threshold": self.threshold_, "calibration": self.calibration_,
            "params": {"C_embedding": self.C_embedding, "C_text": self.C_text,
                       "calibration_fraction": self.calibration_fraction, "random_state": self.random_state},
        }

    def save(self, path: Path | str) -> Path:
        """Write the model as a directory: intent.json (readable summary), heads, examples, fine-tuned encoder."""
        import joblib

        self._check_fitted()
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.encoder_path_ is not None:
            shutil.copytree(self.encoder_path_, tmp / "encoder")
            if (self.encoder_path_.parent / ONNX_FILE).exists():
                shutil.copy2(self.encoder_path_.parent / ONNX_FILE, tmp / ONNX_FILE)
        joblib.dump({"embedding_head": self.embedding_head_, "text_vectorizer": self.text_vectorizer_,
                     "text_head": self.text_head_}, tmp / "heads.joblib", compress=3)
        np.savez_compressed(tmp / "examples.npz", embeddings=self.embeddings_,
                            texts=np.array(self.texts_, dtype=str), labels=np.array(self.labels_, dtype=str))
        (tmp / "intent.json").write_text(json.dumps(self.describe(), indent=2))
        if path.exists():
            shutil.rmtree(path)
        tmp.rename(path)
        return path

    @classmethod
    def load(cls, path: Path | str) -> "IntentClassifier":
        import joblib

        path = Path(path)
        meta_file = path / "intent.json"
        if not meta_file.exists():
            raise NotFound(f"no intent model at {path} (expected {meta_file.name})")
        try:
            meta = json.loads(meta_file.read_text())
        except json.JSONDecodeError:
            raise InvalidInput(f"{meta_file} is damaged (not JSON)") from None
        if meta.get("format") != FORMAT:
            raise InvalidInput(f"{path}: intent model format {meta.get('format')} is not supported (expected {FORMAT})")
        params = meta["params"]
        model = cls(encoder=meta["encoder"], text_weight=meta["text_weight"], threshold=meta["threshold"],
                    C_embedding=params["C_embedding"], C_text=params["C_text"],
                    calibration_fraction=params["calibration_fraction"], random_state=params["random_state"])
        try:
            heads = joblib.load(path / "heads.joblib")
            examples = np.load(path / "examples.npz")
        except (OSError, EOFError, ValueError, KeyError) as exc:
            raise InvalidInput(f"{path}: damaged intent model ({type(exc).__name__}: {exc})") from None
        model.embedding_head_, model.text_vectorizer_, model.text_head_ = (
            heads["embedding_head"], heads["text_vectorizer"], heads["text_head"])
        model.embeddings_ = examples["embeddings"]
        model.texts_, model.labels_ = examples["texts"].tolist(), examples["labels"].tolist()
        model.classes_ = np.array(meta["classes"], dtype=object)
        model.counts_ = meta["counts"]
        model.version, model.data_sha256_ = meta["version"], meta["data_sha256"]
        model.created_at_ = datetime.fromisoformat(meta["created_at"])
        model.text_weight_, model.temperature_, model.threshold_ = meta["text_weight"], meta["temperature"], meta["threshold"]
        model.calibration_, model.finetune_epochs_ = meta["calibration"], meta["finetune_epochs"]
        model.encoder_path_ = path / "encoder" if meta["finetuned"] else None
        model._encoder_ = None
        return model


# ---- training recipe and the workspace's model --------------------------------------------

OPENING_MESSAGES = 2  # the reason for contact is nearly always in the customer's first one or two messages


def opening_texts(customer_texts: Sequence[str], max_messages: int = OPENING_MESSAGES) -> list[str]:
    """The training texts of one conversation: its first message, then its first two joined (what assist asks)."""
    said = [t.strip() for t in customer_texts if t and t.strip()]
    return [" ".join(said[:k]) for k in range(1, min(len(said), max_messages) + 1)]


def training_examples(conversations) -> tuple[list[str], list[str]]:
    """(texts, labels) from conversations in memory, the same recipe as training from the database.

    Duck-typed: each conversation has `.reason` and `.turns` (or `.messages`) whose items
    have `.role`, `.kind` and `.text`.
    """
    texts, labels = [], []
    for conv in conversations:
        if not getattr(conv, "reason", None):
            continue
        turns = getattr(conv, "turns", None) or getattr(conv, "messages", None) or []
        said = [t.text for t in turns if t.role == "customer" and getattr(t, "kind", "text") == "text" and t.text]
        for text in opening_texts(said):
            texts.append(text)
            labels.append(conv.reason)
    return texts, labels


# Versions live in the one model store; every version that ever labelled a message stays loadable
# (the `intent_predictions` rows name it).
INTENT = Kind("intent", write=lambda model, directory: model.save(directory), read=IntentClassifier.load)


def workspace_intent_dir(settings, tenant_slug: str) -> Path:
    """Where the workspace's intent versions are, one directory each (for `IntentClassifier.load`)."""
    return ModelStore.of(settings).path(INTENT, tenant_slug)


def current_version(settings, tenant_slug: str) -> str | None:
    return ModelStore.of(settings).current(INTENT, tenant_slug, required=False)


def load_workspace_intent_model(settings, tenant_slug: str) -> IntentClassifier | None:
    """The workspace's current intent model, or None; loaded once per process, followed to new versions."""
    return ModelStore.of(settings).load(INTENT, tenant_slug, required=False)
