"""Loomhouse, the demo's retailer: its support policy, phrase pools and catalogue, loaded from the package.

The policy follows the shape of ABCD's ontology (flows -> reasons for contact ->
an ordered procedure of agent actions from a fixed vocabulary, each explained by a
knowledge article) but its text is Deskmate's own. Everything here is data, so a
team can swap in their own policy without touching the generator.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from deskmate.errors import InvalidInput

# Slots whose values only the customer can give (the agent asks for them); every
# other action value is something the agent's desk already knows or decides.
CUSTOMER_SLOTS = frozenset(
    {"customer_name", "account_id", "username", "email", "phone", "zip_code", "order_id", "code"}
)
VERIFICATION_ACTIONS = ("verify-identity", "validate-purchase")
# Actions that change an account or move money: policy wants verification before them.
SENSITIVE_ACTIONS = ("offer-refund", "update-order", "update-account", "make-password", "send-link", "promo-code")


@dataclass(frozen=True)
class Step:
    action: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Reason:
    id: str
    flow: str
    title: str
    weight: float
    procedure: tuple[Step, ...]
    articles: tuple[str, ...]
    escalation_team: str
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def actions(self) -> list[str]:
        return [s.action for s in self.procedure]


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    body: str
    tags: tuple[str, ...]
    reason: str | None


@dataclass(frozen=True)
class Policy:
    company: dict
    actions: dict
    flows: dict
    reasons: dict[str, Reason]
    articles: dict[str, Article]

    def primary_article(self, reason: str) -> str | None:
        arts = self.reasons[reason].articles
        return arts[0] if arts else None

    def holdback_candidates(self, exclude_reasons: tuple[str, ...] = ()) -> list[str]:
        """Articles that explain one reason: removing one leaves a gap that conversations on that reason reveal."""
        return sorted(
            a.id for a in self.articles.values() if a.reason and a.reason not in exclude_reasons
            and self.reasons[a.reason].weight >= 3
        )

    def choose_holdback(self, rng: random.Random, count: int, exclude_reasons: tuple[str, ...] = ()) -> list[str]:
        candidates = self.holdback_candidates(exclude_reasons)
        if count < 0 or count > len(candidates):
            raise InvalidInput(f"holdback: choose between 0 and {len(candidates)} articles; got {count}")
        return sorted(rng.sample(candidates, count))


def _read(name: str) -> dict:
    return json.loads(resources.files("deskmate.demo").joinpath(name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_policy() -> Policy:
    raw = _read("policy.json")
    vocabulary = raw["actions"]
    reasons = {}
    for rid, spec in raw["reasons"].items():
        steps = []
        for s in spec["procedure"]:
            if s["action"] not in vocabulary:
                raise InvalidInput(f"policy: reason {rid} uses unknown action {s['action']!r}")
            unknown = set(s["values"]) - set(vocabulary[s["action"]]["values"])
            if unknown:
                raise InvalidInput(f"policy: {rid} step {s['action']} carries unknown values {sorted(unknown)}")
            steps.append(Step(s["action"], tuple(s["values"])))
        known = {"flow", "title", "weight", "procedure", "articles", "escalation_team"}
        reasons[rid] = Reason(
            id=rid, flow=spec["flow"], title=spec["title"], weight=float(spec["weight"]), procedure=tuple(steps),
            articles=tuple(spec["articles"]), escalation_team=spec["escalation_team"],
            extra={k: v for k, v in spec.items() if k not in known},
        )
    articles = {
        a["id"]: Article(a["id"], a["title"], "\n\n".join(a["body"]), tuple(a["tags"]), a.get("reason"))
        for a in raw["articles"]
    }
    for r in reasons.values():
        missing = [a for a in r.articles if a not in articles]
        if missing:
            raise InvalidInput(f"policy: reason {r.id} names missing articles {missing}")
    return Policy(raw["company"], vocabulary, raw["flows"], reasons, articles)


@lru_cache(maxsize=1)
def load_texts() -> dict:
    """Phrase pools: dialogue moves, customer openings per reason, and the catalogue."""
    texts = _read("dialogue.json")
    texts["openings"] = _read("openings.json")
    texts["catalogue"] = _read("catalogue.json")
    return texts
