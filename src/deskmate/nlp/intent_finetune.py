"""Fine-tuning the sentence encoder on a workspace's labelled examples (SetFit-style, CPU-sized).

Why: the packaged MiniLM places "card not arrived" and "card not working" close together;
a few minutes of contrastive training on the workspace's own intents pulls each intent's
examples together and pushes the others apart, which is worth the most when there are only
10-30 examples per intent.

The loss is multiple-negatives ranking over (anchor, positive) pairs drawn from the same
intent, one pair per intent in a batch so every other row is a true negative, applied
symmetrically. The word-embedding matrix (half the weights) is frozen: a few thousand
sentences touch a small part of the vocabulary, and skipping its gradient and optimiser
state saves time and memory on a 2-core machine.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path
from typing import Callable, Sequence


from deskmate.nlp.encoder import MAX_TOKENS, configure_torch_threads, packaged_model_path

# Training pairs per run (two sentence passes each). At 3,000, 10 examples per intent on Banking77 gained
# +1.0 point (docs/bench/nlp-intents.md); CPU time grows linearly with it, so it stays modest on 2 cores.
PAIR_BUDGET = 3000
MIN_PAIRS_PER_INTENT = 8
MIN_INTENTS = 8
BATCH_INTENTS = 32
LEARNING_RATE = 3e-5
SCALE = 20.0  # cosine-similarity scale of the ranking loss (sentence-transformers' default)
TRAIN_MAX_TOKENS = 64  # support messages are short; longer ones are truncated during training only


def auto_epochs(n_examples: int, labels: Sequence[str] = ()) -> float:
    """Passes over the examples as pairs: more for few-shot sets, capped by the pair budget.

    Zero (no fine-tuning) with fewer than MIN_INTENTS intents: in-batch negatives need
    several other intents, and a handful of intents is separated well enough without it.
    """
    intents = len({label for label in labels}) if labels else 0
    if n_examples == 0 or (labels and intents < MIN_INTENTS):
        return 0.0
    return float(min(10.0, max(1.0, PAIR_BUDGET / n_examples)))


def _pair_batches(labels: Sequence[str], epochs: float, rng: random.Random) -> list[list[tuple[int, int]]]:
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    usable = [ids for ids in by_label.values() if len(ids) >= 2]
    if len(usable) < 2:
        return []
    n_pairs = max(int(len(labels) * epochs), MIN_PAIRS_PER_INTENT * len(usable))
    per_batch = min(BATCH_INTENTS, len(usable))
    batches = []
    for _ in range(math.ceil(n_pairs / per_batch)):
        batch = []
        for ids in rng.sample(usable, per_batch):
            a, p = rng.sample(ids, 2)
            batch.append((a, p))
        batches.append(batch)
    return batches


def finetune_encoder(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    out_dir: Path,
    epochs: float,
    base_path: Path | None = None,
    seed: int = 0,
    learning_rate: float = LEARNING_RATE,
    max_seconds: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> Path | None:
    """Train a copy of the encoder on same-intent pairs and save it (sentence-transformers format) to out_dir.

    Returns None when the data has fewer than two intents with two examples each (nothing to contrast).
    `max_seconds` stops early, keeping what was learnt, so a slow machine still finishes.
    """
    import torch
    import torch.nn.functional as F
    from sentence_transformers import SentenceTransformer

    from deskmate.nlp.encoder import _quiet

    rng = random.Random(seed)
    batches = _pair_batches(labels, epochs, rng)
    if not batches:
        return None
    configure_torch_threads()
    torch.manual_seed(seed)
    with _quiet():
        model = SentenceTransformer(str(base_path or packaged_model_path()), device="cpu")
    model.max_seq_length = TRAIN_MAX_TOKENS
    transformer = model[0].auto_model
    transformer.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.01)
    total = len(batches)
    warmup = max(1, total // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (total - step) / total)
    )
    texts = list(texts)
    started = time.monotonic()
    model.train()
    for step, batch in enumerate(batches):
        features = model.preprocess([texts[a] for a, _ in batch] + [texts[p] for _, p in batch])
        embeddings = model(features)["sentence_embedding"]
        anchors, positives = embeddings[: len(batch)], embeddings[len(batch):]
        scores = SCALE * F.normalize(anchors, dim=-1) @ F.normalize(positives, dim=-1).T
        target = torch.arange(len(batch))
        loss = (F.cross_entropy(scores, target) + F.cross_entropy(scores.T, target)) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if progress:
            progress((step + 1) / total)
        if max_seconds is not None and time.monotonic() - started > max_seconds:
            break
    model.eval()
    model.max_seq_length = MAX_TOKENS
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _quiet():
        model.save(str(out_dir))
    return out_dir
