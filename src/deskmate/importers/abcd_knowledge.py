"""ABCD's policy files: guidelines.json as knowledge articles, kb.json as procedures.

An article per subflow (flow and subflow as tags, published), and a procedure per
subflow (the ordered actions policy requires) linked to that subflow's article,
whichever of the two files is imported first. Subflows are named by ABCD's slugs
(the keys of kb.json and the `subflow` of its dialogues), so conversations,
articles and procedures meet on one reason for contact.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskmate.importers.base import BatchResult, Importer, Parsed, SourceFile
from deskmate.knowledge.models import Article, Procedure
from deskmate.knowledge.service import upsert_article, upsert_procedure

# guidelines.json names subflows for people ("Initiate Refund"); kb.json and the dialogues use slugs.
SUBFLOW_SLUGS = {
    "Initiate Refund": "refund_initiate", "Update Refund": "refund_update", "Refund Status": "refund_status",
    "Return Due to Stain": "return_stain", "Return Due to Color": "return_color", "Return Due to Size": "return_size",
    "Status Mystery Fee": "status_mystery_fee", "Status Delivery Time": "status_delivery_time",
    "Status Payment Method": "status_payment_method", "Status Quantity": "status_quantity",
    "Manage Upgrade": "manage_upgrade", "Manage Downgrade": "manage_downgrade", "Manage Create": "manage_create",
    "Manage Cancel": "manage_cancel", "Recover Username": "recover_username", "Recover Password": "recover_password",
    "Reset Two-Factor Auth": "reset_2fa", "Invalid Credit Card": "credit_card", "Cart Not Updating": "shopping_cart",
    "Search Not Working": "search_results", "Website Too Slow": "slow_speed",
    "Status Service Added": "status_service_added", "Status Service Removed": "status_service_removed",
    "Status Shipping Question": "status_shipping_question", "Status Credit Missing": "status_credit_missing",
    "Manage Change Address": "manage_change_address", "Manage Change Name": "manage_change_name",
    "Manage Change Phone": "manage_change_phone", "Manage Payment Method": "manage_payment_method",
    "Bad Price Competitor": "bad_price_competitor", "Bad Price Yesterday": "bad_price_yesterday",
    "Out-of-Stock General": "out_of_stock_general", "Out-of-Stock One Item": "out_of_stock_one_item",
    "Promo Code Invalid": "promo_code_invalid", "Promo Code Out of Date": "promo_code_out_of_date",
    "Mistimed Billing Already Returned": "mistimed_billing_already_returned",
    "Mistimed Billing Never Bought": "mistimed_billing_never_bought", "Shipping Status": "status",
    "Manage Shipping": "manage", "Missing Item": "missing", "Shipping Cost": "cost", "Status Active": "status_active",
    "Status Due Amount": "status_due_amount", "Status Due Date": "status_due_date", "Manage Pay Bill": "manage_pay_bill",
    "Manage Extension": "manage_extension", "Manage Dispute Bill": "manage_dispute_bill", "Boots FAQ": "boots",
    "Shirt FAQ": "shirt", "Jeans FAQ": "jeans", "Jacket FAQ": "jacket", "Pricing FAQ": "pricing",
    "Membership FAQ": "membership", "Timing FAQ": "timing", "Policy FAQ": "policy",
}
SUBFLOW_NAMES = {slug: name for name, slug in SUBFLOW_SLUGS.items()}


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def article_external_id(subflow: str) -> str:
    return f"abcd:{subflow}"


@dataclass(slots=True)
class ArticleItem:
    external_id: str
    reason: str
    title: str
    body: str
    tags: list[str]

    @property
    def key(self) -> tuple:
        return ("article", self.external_id)


@dataclass(slots=True)
class ProcedureItem:
    reason: str
    name: str
    actions: list[str]

    @property
    def key(self) -> tuple:
        return ("procedure", self.reason)


def guideline_body(description: str | None, guide: dict) -> str:
    """Markdown: the opening instruction, the numbered actions with their details, then the closing notes."""
    instructions = [str(i).strip() for i in guide.get("instructions") or [] if str(i).strip()]
    lines = []
    if description:
        lines += [f"_{description.strip()}_", ""]
    if instructions:
        lines += [instructions[0], ""]
    for n, action in enumerate(guide.get("actions") or [], 1):
        button = str(action.get("button") or "").strip()
        label = f"**{button}**: " if button and button != "N/A" else ""
        lines.append(f"{n}. {label}{str(action.get('text') or '').strip()}")
        lines += [f"   - {str(sub).strip()}" for sub in action.get("subtext") or [] if str(sub).strip()]
    if instructions[1:]:
        lines += ["", *instructions[1:]]
    return "\n".join(lines).strip()


class _KnowledgeSink:
    """Few, small records: the knowledge service's upserts keep versions and notify index listeners."""

    def __init__(self, tenant_id: int):
        self.tenant_id = tenant_id

    def write(self, session: Session, items: list) -> BatchResult:
        result = BatchResult()
        for item in items:
            if isinstance(item, ArticleItem):
                article, outcome = upsert_article(session, tenant_id=self.tenant_id, external_id=item.external_id,
                                                  title=item.title, body=item.body, tags=item.tags)
                self._link(session, item.reason, article.id)
            else:
                article_id = session.scalar(select(Article.id).where(
                    Article.tenant_id == self.tenant_id, Article.external_id == article_external_id(item.reason)))
                _, outcome = upsert_procedure(session, tenant_id=self.tenant_id, reason=item.reason, name=item.name,
                                              actions=item.actions, article_id=article_id)
            setattr(result, outcome, getattr(result, outcome) + 1)
        session.flush()
        return result

    def _link(self, session: Session, reason: str, article_id: int) -> None:
        """Procedures imported before their article get linked now."""
        proc = session.scalar(select(Procedure).where(Procedure.tenant_id == self.tenant_id, Procedure.reason == reason))
        if proc is not None and proc.article_id is None:
            proc.article_id = article_id


class _JsonObjectImporter(Importer):
    def sink(self, tenant_id: int) -> _KnowledgeSink:
        return _KnowledgeSink(tenant_id)

    def _load(self, source: SourceFile) -> dict | None:
        try:
            data = json.load(source.text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object keyed by {self.keyed_by}")
        return data

    keyed_by = "name"

    def parse(self, source: SourceFile) -> Iterator[Parsed]:
        try:
            data = self._load(source)
        except ValueError as exc:
            yield Parsed("file", error=str(exc))
            return
        yield from self.items(data)

    def items(self, data: dict) -> Iterator[Parsed]:
        raise NotImplementedError


class GuidelinesImporter(_JsonObjectImporter):
    name = "abcd-guidelines"
    help = "ABCD guidelines.json as knowledge articles, one per subflow"
    keyed_by = "flow name"

    def items(self, data: dict) -> Iterator[Parsed]:
        number = 0
        for flow_name, flow in data.items():
            subflows = flow.get("subflows") if isinstance(flow, dict) else None
            if not isinstance(subflows, dict):
                number += 1
                yield Parsed(f"record {number} ({flow_name})", error="a flow needs a subflows object")
                continue
            for subflow_name, guide in subflows.items():
                number += 1
                where = f"record {number} ({flow_name} / {subflow_name})"
                if not isinstance(guide, dict) or not isinstance(guide.get("actions", []), list):
                    yield Parsed(where, error="a subflow needs an object with an actions list")
                    continue
                reason = SUBFLOW_SLUGS.get(subflow_name) or slug(subflow_name)
                body = guideline_body(flow.get("description"), guide)
                if not body:
                    yield Parsed(where, error="no instructions or actions to make an article of")
                    continue
                yield Parsed(where, ArticleItem(
                    external_id=article_external_id(reason), reason=reason,
                    title=f"{flow_name}: {subflow_name}"[:300], body=body, tags=[slug(flow_name), reason],
                ))


class KbImporter(_JsonObjectImporter):
    name = "abcd-kb"
    help = "ABCD kb.json as procedures: the ordered actions each subflow requires"
    keyed_by = "subflow"

    def items(self, data: dict) -> Iterator[Parsed]:
        for number, (reason, actions) in enumerate(data.items(), 1):
            where = f"record {number} ({reason})"
            if not (isinstance(actions, list) and actions and all(isinstance(a, str) and a.strip() for a in actions)):
                yield Parsed(where, error="expected a non-empty list of action names")
            elif len(reason) > 100 or any(len(a) > 64 for a in actions):
                yield Parsed(where, error="a subflow name is at most 100 characters, an action name 64")
            else:
                name = SUBFLOW_NAMES.get(reason) or reason.replace("_", " ").title()
                yield Parsed(where, ProcedureItem(reason=reason, name=name, actions=[a.strip() for a in actions]))
