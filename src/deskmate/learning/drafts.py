"""A draft knowledge article assembled from how agents resolved conversations that had no article to lean on.

From the resolved conversations of a gap (best quality first), the agents' messages are embedded
and grouped (agglomerative, cosine); a group becomes a step when it recurs in enough of those
conversations and is specific to the topic (greetings and sign-offs, said for every reason, are
dropped by comparing with other reasons' conversations). Steps are ordered by where they
typically occur in the conversation, each introduced by the action agents took around it; each
keeps the conversations it came from. Every text passes the PII redactor (names of the source
conversations' customers included) even if the tenant stores raw text.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from deskmate.conversations.transcript import Transcript

SAME_STEP = 0.78  # cosine above which two agent messages say the same thing
SAME_POINT = 0.6  # two steps at the same action saying this much the same thing are one step
MIN_SUPPORT = 0.3  # share of the gap's conversations a step must recur in
SPECIFICITY = 3.0  # a step must recur this many times more often here than in other topics' conversations
MAX_SOURCES = 40
MAX_STEPS = 12


@dataclass
class Step:
    text: str
    action: str | None
    position: float
    support: int
    sources: list[int] = field(default_factory=list)


@dataclass
class Draft:
    title: str
    body: str
    steps: list[Step]
    sources: list[dict]


def humanise(action: str) -> str:
    words = re.sub(r"[-_]+", " ", action).strip()
    return words[:1].upper() + words[1:]


def _agent_messages(conv: Transcript) -> list[tuple[float, str, str | None]]:
    """(relative position, text, the action it belongs to) for each agent text.

    An agent confirms an action right after taking it and asks for what it needs a turn or two
    before (the customer answers in between): the action just before wins, else the next one."""
    n = max(len(conv.turns), 1)
    out = []
    for i, turn in enumerate(conv.turns):
        if turn.role != "agent" or turn.action or not turn.text.strip():
            continue
        before = conv.turns[i - 1].action if i >= 1 else None
        after = next((t.action for t in conv.turns[i + 1:i + 4] if t.action), None)
        out.append((i / n, turn.text.strip(), before or after))
    return out


def _generalise(text: str) -> str:
    """One customer's amounts and dates become placeholders: an article states the rule, not the case."""
    from deskmate.nlp.entities import extract_entities

    for entity in sorted(extract_entities(text), key=lambda e: -e.start):
        if entity.kind in ("amount", "date"):
            text = text[:entity.start] + f"[{entity.kind.upper()}]" + text[entity.end:]
    return text


def _groups(vectors: np.ndarray) -> np.ndarray:
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                    distance_threshold=1.0 - SAME_STEP)
    return model.fit_predict(vectors)


def assemble(topic_title: str, sources: list[Transcript], other_vectors: np.ndarray, other_conversations: int,
             other_owner: np.ndarray, encoder, redact, quality: dict[int, float | None] | None = None) -> Draft:
    """`sources`: the gap's resolved conversations, best first, with `quality` (their quality scores) for the list
    of sources; `other_vectors` (with `other_owner`, the conversation index of each) are agent messages from
    other topics."""
    sources = sources[:MAX_SOURCES]
    items = [(ci, pos, text, action) for ci, conv in enumerate(sources) for pos, text, action in _agent_messages(conv)]
    if not items:
        return Draft(topic_title, "", [], [])
    vectors = encoder.encode([text for _, _, text, _ in items])
    labels = _groups(vectors)
    members: dict[int, list[int]] = defaultdict(list)
    for idx, label in enumerate(labels):
        members[int(label)].append(idx)
    candidates: list[tuple[Step, np.ndarray]] = []
    for idx_list in members.values():
        convs = {items[i][0] for i in idx_list}
        if len(convs) < max(2, MIN_SUPPORT * len(sources)):
            continue
        centroid = vectors[idx_list].mean(axis=0)
        medoid = max(idx_list, key=lambda i: float(vectors[i] @ centroid))
        if not _specific(vectors[medoid], len(convs) / len(sources), other_vectors, other_owner, other_conversations):
            continue
        actions = Counter(items[i][3] for i in idx_list if items[i][3])
        step = Step(text=redact(_generalise(items[medoid][2])), action=actions.most_common(1)[0][0] if actions else None,
                    position=float(np.median([items[i][1] for i in idx_list])), support=len(convs),
                    sources=sorted({sources[items[i][0]].conversation_id for i in idx_list}))
        candidates.append((step, vectors[medoid]))
    steps = _merge_same_point(candidates)
    steps = sorted(steps, key=lambda s: s.position)[:MAX_STEPS]
    return Draft(topic_title, _body(steps, typical_path(sources)), steps, _source_list(sources, steps, quality or {}))


def typical_path(sources: list[Transcript]) -> list[str]:
    """The action sequence most of the resolving agents followed."""
    paths = Counter(tuple(t.action for t in conv.turns if t.action) for conv in sources)
    paths.pop((), None)
    return list(paths.most_common(1)[0][0]) if paths else []


def _specific(vector: np.ndarray, share_here: float, other_vectors: np.ndarray, other_owner: np.ndarray,
              other_conversations: int) -> bool:
    """Said here far more often than elsewhere (greetings and sign-offs are said everywhere)."""
    if not len(other_vectors) or not other_conversations:
        return True
    close = other_owner[(other_vectors @ vector) >= SAME_STEP]
    share_elsewhere = len(set(close.tolist())) / other_conversations
    return share_here >= SPECIFICITY * share_elsewhere


def _merge_same_point(candidates: list[tuple[Step, np.ndarray]]) -> list[Step]:
    """Agents phrase the same step differently; keep the most common phrasing of each point."""
    kept: list[tuple[Step, np.ndarray]] = []
    for step, vector in sorted(candidates, key=lambda sv: -sv[0].support):
        twin = next((k for k, v in kept if k.action == step.action and float(v @ vector) >= SAME_POINT), None)
        if twin is None:
            kept.append((step, vector))
        else:
            twin.sources = sorted(set(twin.sources) | set(step.sources))
            twin.support = max(twin.support, len(twin.sources))
    return [s for s, _ in kept]


def _body(steps: list[Step], path: list[str]) -> str:
    """The article text only: how many conversations each step came from is on the gap's page, not in the article."""
    lines = [f"Actions agents took, in order: {', '.join(humanise(a) for a in path)}."] if path else []
    action_done: set[str] = set()
    for i, step in enumerate(steps, 1):
        lead = ""
        if step.action and step.action not in action_done:
            lead = f"{humanise(step.action)}. "
            action_done.add(step.action)
        lines.append(f"{i}. {lead}{step.text}")
    return "\n\n".join(lines).strip()


def _source_list(sources: list[Transcript], steps: list[Step], quality: dict[int, float | None]) -> list[dict]:
    used: dict[int, int] = Counter(cid for s in steps for cid in s.sources)
    return [{"conversation_id": c.conversation_id, "external_id": c.external_id,
             "quality_score": quality.get(c.conversation_id),
             "steps": used.get(c.conversation_id, 0)} for c in sources if used.get(c.conversation_id)]


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over lower-cased word tokens (longest common subsequence)."""
    a = re.findall(r"[a-z0-9]+", candidate.lower())
    b = re.findall(r"[a-z0-9]+", reference.lower())
    if not a or not b:
        return 0.0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    lcs = prev[-1]
    if not lcs:
        return 0.0
    p, r = lcs / len(a), lcs / len(b)
    return round(2 * p * r / (p + r), 4)
