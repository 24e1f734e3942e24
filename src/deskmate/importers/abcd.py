"""ABCD (Action-Based Conversations Dataset) dialogues: a JSON list, or the full corpus's
{"train": [...], "dev": [...], "test": [...]} (plain or .gz), read one dialogue at a time.

Each dialogue becomes a conversation with its agent actions (named by the delexed
turn's targets[2]), a customer from the scenario's personal details and an order
from its order details. ABCD has no timestamps: a conversation takes the time of
its first import, and keeps it when imported again.
"""

from __future__ import annotations

import ast
import re
from typing import Any, Iterator

from deskmate.importers.base import Importer, Parsed, SourceFile
from deskmate.importers.jsonstream import MalformedJson, iter_json_items
from deskmate.importers.records import validate_conversation

SPEAKERS = {"agent": "agent", "customer": "customer", "action": "action"}
# Order details kept on the order record (the rest of the scenario's order is products and ids).
ORDER_ATTRIBUTES = ("purchase_date", "payment_method", "packaging", "num_products", "full_address", "street_address",
                    "city", "state", "zip_code")
_FAQ_NUMBER = re.compile(r"_\d+$")


def reason_for(subflow: str) -> str:
    """FAQ subflows carry the question number ("timing_4"); the reason for contact is the topic ("timing")."""
    return _FAQ_NUMBER.sub("", subflow)


def _products(order: dict) -> list[dict]:
    raw = order.get("products")
    if isinstance(raw, str):  # ABCD writes the list as a Python literal, single quotes and all
        try:
            raw = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            raw = []
    return [p for p in raw or [] if isinstance(p, dict)]


def _named_values(values: list, scenario: dict) -> dict:
    """ABCD gives an action's values as a bare list; name each by the scenario field it matches."""
    fields: dict[str, str] = {}
    for part in ("personal", "order"):
        for key, value in (scenario.get(part) or {}).items():
            if isinstance(value, str) and value.strip():
                fields.setdefault(value.strip().lower(), key)
    named: dict[str, Any] = {}
    rest = []
    for value in values:
        key = fields.get(value.strip().lower()) if isinstance(value, str) else None
        if key and key not in named:
            named[key] = value
        else:
            rest.append(value)
    if rest:
        named["values"] = rest
    return named


class AbcdImporter(Importer):
    name = "abcd"
    help = "ABCD corpus dialogues (abcd_sample.json or the full abcd_v1.1.json[.gz])"

    def parse(self, source: SourceFile) -> Iterator[Parsed]:
        number = 0
        try:
            for split, index, dialogue in iter_json_items(source.text):
                if index is None:  # a non-list member of the top-level object is not a dialogue
                    continue
                number += 1
                where = f"record {number}" + (f" ({split}[{index}])" if split else "")
                try:
                    record = self.record(dialogue)
                    yield Parsed(where, validate_conversation(record, default_source=self.name))
                except (ValueError, KeyError, TypeError, IndexError) as exc:
                    yield Parsed(where, error=str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}")
        except MalformedJson as exc:
            yield Parsed(f"record {number + 1}", error=f"{exc}; the rest of the file cannot be read")

    @staticmethod
    def record(dialogue: Any) -> dict:
        if not isinstance(dialogue, dict):
            raise ValueError(f"a dialogue is a JSON object, got {type(dialogue).__name__}")
        if dialogue.get("convo_id") is None:
            raise ValueError("convo_id is missing")
        scenario = dialogue.get("scenario")
        turns = dialogue.get("original")
        if not isinstance(scenario, dict) or not isinstance(turns, list):
            raise ValueError("a dialogue needs a scenario object and an original list of turns")
        delexed = dialogue.get("delexed") or []
        entries = []
        for i, turn in enumerate(turns):
            if not (isinstance(turn, list) and len(turn) == 2 and turn[0] in SPEAKERS):
                raise ValueError(f"original turn {i + 1}: expected [agent|customer|action, text]")
            speaker, text = turn
            if speaker != "action":
                entries.append({"role": speaker, "text": text})
                continue
            targets = delexed[i].get("targets") if i < len(delexed) and isinstance(delexed[i], dict) else None
            if not (isinstance(targets, list) and len(targets) > 3 and targets[2]):
                raise ValueError(f"original turn {i + 1}: an action without its delexed target (the action name)")
            values = targets[3] if isinstance(targets[3], list) else []
            entries.append({"role": "agent", "action": targets[2], "text": text, "values": _named_values(values, scenario)})
        flow, subflow = scenario.get("flow"), scenario.get("subflow")
        attributes = {"flow": flow, "subflow": subflow}
        product = scenario.get("product") or {}
        if product.get("names"):
            attributes["products"] = product["names"]
        return {
            "id": dialogue["convo_id"], "channel": "chat", "status": "closed",
            "reason": reason_for(subflow) if subflow else None, "labels": [flow] if flow else [],
            "customer": AbcdImporter.customer(scenario), "entries": entries, "attributes": attributes,
        }

    @staticmethod
    def customer(scenario: dict) -> dict | None:
        personal = scenario.get("personal") or {}
        # username is the account; a scenario without one still names a person by e-mail or phone
        external = personal.get("username") or personal.get("email") or personal.get("phone")
        if not external:
            return None
        name = personal.get("customer_name")
        customer = {
            "id": external, "name": name.title() if isinstance(name, str) else None, "email": personal.get("email"),
            "phone": personal.get("phone"), "tier": personal.get("member_level"), "records": [],
        }
        if personal.get("account_id"):
            customer["attributes"] = {"account_id": personal["account_id"]}
        order = scenario.get("order") or {}
        if order.get("order_id"):
            products = _products(order)
            amounts = [p["amount"] for p in products if isinstance(p.get("amount"), (int, float))]
            attributes = {k: order[k] for k in ORDER_ATTRIBUTES if order.get(k)}
            attributes["products"] = [
                {k: p[k] for k in ("brand", "product_type", "amount") if k in p} for p in products
            ]
            customer["records"].append({
                "kind": "order", "id": order["order_id"], "amount": round(sum(amounts), 2) if amounts else None,
                "currency": "USD", "attributes": attributes,
            })
        return customer
