"""Naming topics the way a support lead would: distinctive terms (class-based TF-IDF) made into a short phrase.

All documents of a topic are one "class document"; a term weighs its frequency in the class
times log(1 + average class size / its frequency over all classes), so words every topic uses
("order", "help") sink and the words that set a topic apart rise (as BERTopic does). The same
weighting contrasts a spike window with its baseline to say which phrases an emerging issue brings.

Customers type fast, so raw top terms read like "assistance / updtae / neeed" or "ened" (a
swapped "need"). Before weighing, text is normalised by `Wording`: contractions are expanded
(no "doesn" or "ve" fragments), and a rare word one edit away from a word at least TYPO_RATIO
times as frequent in the same corpus is read as that word, unless the encoder's vocabulary knows
it as a word of its own ("cart" is not a typo of "card"). A term is shown only when each of its
words is a real word: in that vocabulary, or frequent in the corpus (product and brand names).
A topic's name is then its best phrase: a span of the customers' own words that starts and ends
on distinctive words ("reset my password" -> "Reset password", "refund for the damaged item" ->
"Refund for damaged item"), scored by how many of the topic's conversations use it times the
weight of its words, with 2-3 word phrases preferred.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

# Chat filler carries no topic (redaction placeholders such as [CARD_NUMBER] are removed before).
EXTRA_STOP = {"hi", "hello", "hey", "thanks", "thank", "please", "ok", "okay", "yes", "just", "im", "ive", "dont",
              "need", "want", "help", "like", "know", "get", "got", "hey", "can", "could", "would", "iban",
              "doesn", "didn", "isn", "wasn", "haven", "hasn", "won", "ve", "ll", "re", "don", "aren", "couldn", "wouldn"}
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | EXTRA_STOP)
_STOP = frozenset(STOP_WORDS)
PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
WORD = re.compile(r"[a-z][a-z]+")
_CONTRACTIONS = [(re.compile(p), r) for p, r in (
    (r"\bcan[’']?t\b", "can not"), (r"\bwon[’']?t\b", "will not"), (r"n[’']t\b", " not"),
    (r"\b(do|does|did|is|are|was|were|has|have|had|could|would|should)nt\b", r"\1 not"),
    (r"[’']ve\b", " have"), (r"[’']re\b", " are"), (r"[’']ll\b", " will"), (r"[’']d\b", " would"),
    (r"\bi[’']?m\b", "i am"), (r"\bive\b", "i have"), (r"[’']s\b", ""))]
# Words a topic's name may keep between its distinctive words ("refund for damaged item") ...
CONNECTORS = frozenset({"for", "of", "on", "with", "to", "from", "in", "not", "at", "about", "after", "without", "off"})
# ... and words that may sit there but are left out of it ("reset my password" -> "reset password").
SKIPPED = frozenset({"the", "a", "an", "my", "your", "our", "his", "her", "their", "this", "that", "it", "has", "have",
                     "had", "is", "was", "been", "be", "did", "does", "do", "am", "are", "were", "still", "yet", "just",
                     "i", "me", "we", "you", "he", "she", "they", "them", "some", "any", "all", "so", "very", "really",
                     "will", "can", "and", "but", "or", "if", "want", "need", "please", "like", "would", "could"})
# Words that colour a request but never name it: they may sit inside a name, never start or end one
# ("tracking says delivered", not "says delivered"; "days ago" is no reason for contact).
WEAK = frozenset({"says", "said", "ago", "day", "days", "week", "weeks", "month", "months", "year", "years", "going",
                  "think", "sure", "right", "thing", "things", "tell", "really", "actually", "anymore", "time", "times",
                  "today", "yesterday", "tomorrow", "still", "way", "bit", "lot", "seriously", "honestly", "ridiculous",
                  "frustrated", "furious", "annoyed", "annoying", "unacceptable", "sigh", "ugh", "great", "happy", "tried",
                  "trying", "looks", "came", "come", "went", "use", "using", "wondering", "hurry", "first", "second",
                  "appreciate", "fine", "worked", "matters", "enough", "bought", "ordered", "placed", "heard", "anything",
                  "new", "old", "last", "next", "earlier", "friday", "weekend", "morning", "good", "sort", "fixed", "asap"})
# A topic whose distinctive words are all of this kind opened with a greeting and no request yet.
GENERIC = frozenset({"assistance", "someone", "anyone", "anybody", "somebody", "morning", "afternoon", "evening",
                     "good", "problem", "question", "issue", "something", "quick", "sorry", "urgent", "there",
                     "hope", "day", "assist", "support", "service", "wondering", "hoping", "chat", "talk", "speak"})
GENERIC_NAME = "General request, no details yet"
TYPO_RATIO = 5  # a spelling this many times rarer than a neighbour one edit away is a typo of it
MIN_REAL = 3  # a word unknown to the encoder's vocabulary (and no typo) is shown once the corpus has it this often
MAX_SPAN = 6  # tokens in a candidate phrase
PHRASE_BONUS = {1: 0.7, 2: 1.2, 3: 1.3}  # by distinctive words in the phrase: 2-3 read best
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """Whole words of the sentence encoder's WordPiece vocabulary (about 20,000 common English words)."""
    try:
        from deskmate.nlp.encoder import packaged_model_path

        lines = (packaged_model_path() / "vocab.txt").read_text(encoding="utf-8").split()
    except Exception:  # no packaged model: corpus frequency alone decides
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and w.isascii() and len(w) > 1)


def _edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b} | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _LETTERS} | {a + c + b for a, b in splits for c in _LETTERS})


def expand_contractions(text: str) -> str:
    text = PLACEHOLDER.sub(" ", text or "").lower()
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return text


class Wording:
    """A corpus's spelling: its word counts, the typo -> word map, and which words are real enough to show."""

    def __init__(self, docs: Sequence[str], known: frozenset[str] | None = None):
        self.known = known_words() if known is None else known
        self.counts = Counter(w for d in docs for w in WORD.findall(expand_contractions(d)))
        self.typos: dict[str, str] = {}
        for word, n in self.counts.items():
            if len(word) < 3 or word in self.known:
                continue
            best = max((v for v in _edits1(word) if self.counts.get(v, 0) >= TYPO_RATIO * n and v != word),
                       key=lambda v: (self.counts[v], v), default=None)
            if best is not None:
                self.typos[word] = best

    def tokens(self, text: str) -> list[str]:
        return [self.typos.get(w, w) for w in WORD.findall(expand_contractions(text))]

    def normalise(self, text: str) -> str:
        return " ".join(self.tokens(text))

    def real(self, word: str) -> bool:
        if word in self.typos:
            return False
        return word in self.known or (len(word) > 2 and self.counts.get(word, 0) >= MIN_REAL)

    def readable(self, term: str) -> bool:
        return all(self.real(w) for w in term.split())


def vectorizer(min_df: int = 1, wording: Wording | None = None) -> CountVectorizer:
    prep = wording.normalise if wording is not None else expand_contractions
    return CountVectorizer(stop_words=STOP_WORDS, ngram_range=(1, 2), min_df=min_df, token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
                           preprocessor=prep)


def class_weights(docs: Sequence[str], labels: Sequence[int], n_classes: int, wording: Wording | None = None):
    """(terms, classes x terms c-TF-IDF weights) over unigrams and bigrams; None when there is nothing to weigh."""
    labels = np.asarray(labels)
    keep = labels >= 0
    if not keep.any():
        return None
    docs = [d for d, k in zip(docs, keep) if k]
    labels = labels[keep]
    try:
        counts = vectorizer(min_df=2 if len(docs) > 200 else 1, wording=wording).fit(docs)
    except ValueError:  # only stop words
        return None
    X = counts.transform(docs)
    onehot = np.zeros((n_classes, len(docs)), dtype=np.float32)
    onehot[labels, np.arange(len(docs))] = 1.0
    tf = np.asarray((X.T @ onehot.T).T)  # classes x terms
    sizes = tf.sum(1, keepdims=True)
    idf = np.log1p(max(float(sizes.mean()), 1.0) / np.maximum(tf.sum(0), 1))
    return counts.get_feature_names_out(), tf / np.maximum(sizes, 1) * idf


def class_tfidf(docs: Sequence[str], labels: Sequence[int], n_classes: int, top_n: int = 8,
                wording: Wording | None = None) -> list[list[tuple[str, float]]]:
    """Top readable terms (term, weight) for each class 0..n_classes-1; classes without documents get []."""
    wording = wording or Wording(docs)
    weighed = class_weights(docs, labels, n_classes, wording)
    if weighed is None:
        return [[] for _ in range(n_classes)]
    terms, weights = weighed
    out = []
    for row in weights:
        best = [i for i in np.argsort(-row)[: top_n * 4] if row[i] > 0 and wording.readable(str(terms[i]))]
        out.append(_without_nested([(str(terms[i]), float(row[i])) for i in best])[:top_n])
    return out


def _without_nested(ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Drop a unigram inside a better-ranked bigram ("refund" under "refund status") and vice versa."""
    kept: list[tuple[str, float]] = []
    for term, weight in ranked:
        words = set(term.split())
        kept_words = {w for k, _ in kept for w in k.split()}
        if words <= kept_words:
            continue
        kept.append((term, weight))
    return kept


def _phrases(tokens: list[str], weight: dict[str, float]) -> set[tuple[str, ...]]:
    """Spans that start and end on a distinctive word, with only filler between (left out when skippable)."""
    found = set()
    for i, first in enumerate(tokens):
        if first not in weight or first in WEAK:
            continue
        for j in range(i, min(i + MAX_SPAN, len(tokens))):
            t = tokens[j]
            if t in weight and t not in WEAK:
                shown = tuple(w for w in tokens[i:j + 1] if w not in SKIPPED)
                if sum(w in weight for w in shown) <= 3 and len(shown) <= 4:
                    found.add(shown)
            elif t in weight or t in _STOP or t in WEAK or t in CONNECTORS or t in SKIPPED:
                continue
            else:
                break
    return found


def ranked_phrases(docs: Sequence[str], weight: dict[str, float], wording: Wording, top: int = 5) -> list[tuple[str, float]]:
    """The phrases most of these documents use, weighted by their distinctive words, best first."""
    df: Counter = Counter()
    for d in docs:
        df.update(_phrases(wording.tokens(d), weight))
    n = max(len(docs), 1)

    def score(p: tuple[str, ...]) -> float:
        content = {w for w in p if w in weight and w not in WEAK}
        return df[p] / n * sum(weight[w] for w in content) * PHRASE_BONUS.get(len(content), 1.3)

    ranked = sorted(df, key=lambda p: (-score(p), len(p), p))[:top]
    return [(" ".join(p), score(p)) for p in ranked]


def name_topics(docs: Sequence[str], labels: Sequence[int], n_classes: int, *, wording: Wording | None = None,
                terms: list[list[tuple[str, float]]] | None = None) -> list[str]:
    """A readable, unique name for each class ("Reset password"); "" for a class without documents.

    Bigger classes choose first; a class whose best phrase is taken uses its next one when that
    scores at least half as well, else adds a distinctive term in brackets.
    """
    wording = wording or Wording(docs)
    weighed = class_weights(docs, labels, n_classes, wording)
    terms = terms if terms is not None else class_tfidf(docs, labels, n_classes, wording=wording)
    labels = np.asarray(labels)
    options: list[list[str]] = []
    for c in range(n_classes):
        if weighed is None or not (labels == c).any():
            options.append([""])
            continue
        vocab, weights = weighed
        row = weights[c]
        uni = {str(vocab[i]): float(row[i]) for i in np.argsort(-row)[:60]
               if row[i] > 0 and " " not in vocab[i] and wording.real(str(vocab[i]))
               and vocab[i] not in SKIPPED and vocab[i] not in CONNECTORS}
        top = [w for w in sorted(uni, key=uni.get, reverse=True) if w not in WEAK][:3]
        if not top or set(top) <= GENERIC:
            options.append([GENERIC_NAME])
            continue
        ranked = ranked_phrases([d for d, lab in zip(docs, labels) if lab == c], uni, wording)
        good = [_sentence_case(p) for p, sc in ranked if sc >= 0.5 * ranked[0][1]] or [_sentence_case(top[0])]
        options.append(good)
    sizes = np.bincount(labels[labels >= 0], minlength=n_classes)
    names = [""] * n_classes
    used: set[str] = set()
    for c in np.argsort(-sizes, kind="stable"):
        name = next((o for o in options[c] if o not in used), None)
        if name is None:
            name = _distinguished(options[c][0], terms[c], used)
        names[c] = name
        if name:
            used.add(name)
    return names


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _distinguished(name: str, terms: list[tuple[str, float]], used: set[str]) -> str:
    """`name` plus the first distinctive term it lacks ("Wardrobe club (payment)"), or a number."""
    words = set(name.lower().split())
    for term, _ in terms:
        extra = " ".join(w for w in term.split() if w not in words)
        if extra and f"{name} ({extra})" not in used:
            return f"{name} ({extra})"
    k = 2
    while f"{name} {k}" in used:
        k += 1
    return f"{name} {k}"


def label_for(terms: Sequence[tuple[str, float]], fallback: str) -> str:
    """A name from terms alone (no documents at hand): the best term, sentence case."""
    return _sentence_case(terms[0][0]) if terms else fallback


def contrast_terms(window_docs: Sequence[str], baseline_docs: Sequence[str], top_n: int = 8) -> list[str]:
    """Phrases the spike window uses far more than the baseline: the evidence an alert quotes."""
    if not window_docs:
        return []
    labels = [0] * len(window_docs) + [1] * len(baseline_docs)
    ranked = class_tfidf(list(window_docs) + list(baseline_docs), labels, 2, top_n=top_n)
    return [t for t, _ in ranked[0]]
