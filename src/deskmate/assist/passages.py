"""Articles cut into passages: an agent needs the paragraph that answers, not a 2,000-word page.

A passage is a heading with the paragraphs under it, packed up to about `TARGET_WORDS`; a long
paragraph is cut at sentence ends. Each passage keeps its article's title in front so that a
passage about "step 3" still matches the article's subject in full text and dense retrieval.
"""

from __future__ import annotations

import re

TARGET_WORDS = 120
MAX_WORDS = 220

_HEADING = re.compile(r"^\s*(#{1,6}\s+.+|[A-Z][^.!?\n]{0,80}:)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


def _words(text: str) -> int:
    return len(text.split())


def _cut_long(paragraph: str) -> list[str]:
    if _words(paragraph) <= MAX_WORDS:
        return [paragraph]
    pieces, current = [], []
    for sentence in _SENTENCE_END.split(paragraph):
        if current and _words(" ".join(current + [sentence])) > TARGET_WORDS:
            pieces.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        pieces.append(" ".join(current))
    out = []
    for piece in pieces:  # a single enormous "sentence" (a list without full stops) is cut by words
        words = piece.split()
        out.extend(" ".join(words[i : i + MAX_WORDS]) for i in range(0, len(words), MAX_WORDS))
    return out


def split_article(title: str, body: str) -> list[str]:
    """Passages of one article, in reading order (never empty for a non-empty body)."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", body or "") if b.strip()]
    passages: list[str] = []
    current: list[str] = []
    heading: str | None = None

    def flush() -> None:
        nonlocal current
        if current:
            passages.append("\n".join(current))
            current = []

    for block in blocks:
        first_line = block.splitlines()[0]
        if _HEADING.match(first_line) and len(block.splitlines()) == 1:
            flush()
            heading = first_line.lstrip("# ").strip()
            current = [heading]
            continue
        for piece in _cut_long(block):
            size = _words("\n".join(current)) + _words(piece)
            if current and size > TARGET_WORDS and not (len(current) == 1 and current[0] == heading):
                flush()
                if heading:
                    current = [heading]
            current.append(piece)
    flush()
    if not passages and body and body.strip():
        passages = [body.strip()]
    return [f"{title}\n{p}" if not p.startswith(title) else p for p in passages]
