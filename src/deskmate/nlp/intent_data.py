"""Reading labelled utterances from whatever file a user brings (CSV or JSONL, text + label).

Column names differ between exports (Banking77 says `category`, CLINC150 `intent`, a
helpdesk export `label`), so the reader looks for the usual names and says which it used.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from deskmate.errors import InvalidInput

TEXT_COLUMNS = ("text", "utterance", "message", "query", "sentence", "question", "body")
LABEL_COLUMNS = ("label", "intent", "category", "reason", "class", "topic")
# Labels that mean "no known intent" in public data sets (CLINC150 "oos", Rasa's "out_of_scope", ...).
OUT_OF_SCOPE_LABELS = frozenset({"oos", "out_of_scope", "out-of-scope", "outofscope", "none", "other", "no_intent",
                                 "unknown", "fallback", "nlu_fallback"})


@dataclass
class LabelledTexts:
    texts: list[str]
    labels: list[str]
    text_column: str = "text"
    label_column: str = "label"
    skipped: int = 0  # rows without text or label
    source: str = ""

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> Counter:
        return Counter(self.labels)

    def per_intent(self, n: int, *, seed: int = 0) -> "LabelledTexts":
        """At most `n` random examples of each label (the few-shot settings of the benchmark)."""
        rng = random.Random(seed)
        by_label: dict[str, list[int]] = defaultdict(list)
        for i, label in enumerate(self.labels):
            by_label[label].append(i)
        keep = sorted(i for label in sorted(by_label) for i in rng.sample(by_label[label], min(n, len(by_label[label]))))
        return LabelledTexts([self.texts[i] for i in keep], [self.labels[i] for i in keep],
                             self.text_column, self.label_column, 0, self.source)

    def without_labels(self, labels: Sequence[str]) -> "LabelledTexts":
        drop = set(labels)
        keep = [i for i, label in enumerate(self.labels) if label not in drop]
        return LabelledTexts([self.texts[i] for i in keep], [self.labels[i] for i in keep],
                             self.text_column, self.label_column, 0, self.source)


def _pick(columns: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, path: Path) -> str:
    lowered = {c.strip().lower(): c for c in columns if c}
    if wanted:
        if wanted.lower() in lowered:
            return lowered[wanted.lower()]
        raise InvalidInput(f"{path.name}: no column {wanted!r} (found: {', '.join(columns) or 'none'})")
    for name in candidates:
        if name in lowered:
            return lowered[name]
    raise InvalidInput(
        f"{path.name}: no {what} column; expected one of {', '.join(candidates)} (found: {', '.join(columns) or 'none'})"
    )


def read_labelled(path: Path | str, *, text_column: str | None = None, label_column: str | None = None) -> LabelledTexts:
    """Load a CSV (header row) or JSONL (one object a line) of labelled texts; raises InvalidInput on a bad file."""
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"no such file: {path}")
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory; give a .csv or .jsonl file")
    suffix = path.suffix.lower()
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path.name}: not UTF-8 text") from None
    if suffix in (".jsonl", ".ndjson", ".json") or (suffix not in (".csv", ".tsv") and raw.lstrip().startswith("{")):
        rows, columns = _jsonl_rows(raw, path)
    else:
        rows, columns = _csv_rows(raw, path, delimiter="\t" if suffix == ".tsv" else None)
    tcol = _pick(columns, text_column, TEXT_COLUMNS, "text", path)
    lcol = _pick(columns, label_column, LABEL_COLUMNS, "label", path)
    texts, labels, skipped = [], [], 0
    for row in rows:
        text, label = row.get(tcol), row.get(lcol)
        text = "" if text is None else str(text).strip()
        label = "" if label is None else str(label).strip()
        if not text or not label:
            skipped += 1
            continue
        texts.append(text)
        labels.append(label)
    if not texts:
        raise InvalidInput(f"{path.name}: no rows with both {tcol!r} and {lcol!r}")
    return LabelledTexts(texts, labels, tcol, lcol, skipped, str(path))


def _csv_rows(raw: str, path: Path, delimiter: str | None):
    lines = raw.splitlines()
    if not lines:
        raise InvalidInput(f"{path.name}: the file is empty")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(lines[0], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.DictReader(lines, delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InvalidInput(f"{path.name}: not a valid CSV ({exc})") from None
    return rows, [c for c in (reader.fieldnames or []) if c]


def _jsonl_rows(raw: str, path: Path):
    stripped = raw.strip()
    if not stripped:
        raise InvalidInput(f"{path.name}: the file is empty")
    if stripped.startswith("["):  # a JSON array of objects is common enough to accept
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    else:
        items = []
        for n, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{path.name}: line {n} is not valid JSON ({exc.msg})") from None
    rows = [item for item in items if isinstance(item, dict)]
    if not rows:
        raise InvalidInput(f"{path.name}: expected one JSON object per line")
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return rows, columns


def is_out_of_scope_label(label: str) -> bool:
    return label.strip().lower() in OUT_OF_SCOPE_LABELS
