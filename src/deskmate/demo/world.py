"""The demo's support organisation: agents with habits, customers with accounts, orders and subscriptions."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# Agents differ the way real teams do: some skip policy steps, some write with more
# empathy, some are slower. The numbers are multipliers the dialogue writer reads.
AGENT_ROSTER = [
    # id, name, skip, empathy, slowness, closing care, skill, share of traffic
    ("agent-1", "Sam Lee", 0.5, 0.45, 1.0, 0.95, 1.00, 1.2),
    ("agent-2", "Maya Okafor", 0.3, 0.90, 1.35, 0.98, 1.05, 1.0),
    ("agent-3", "Diego Alvarez", 2.8, 0.10, 0.70, 0.60, 0.90, 1.1),
    ("agent-4", "Hannah Kim", 0.6, 0.55, 1.0, 0.92, 1.00, 1.0),
    ("agent-5", "Tom Becker", 2.3, 0.15, 0.80, 0.70, 0.85, 1.0),
    ("agent-6", "Aisha Rahman", 0.3, 0.80, 1.10, 0.97, 1.10, 1.0),
    ("agent-7", "Leo Martin", 1.0, 0.35, 1.70, 0.85, 0.95, 0.6),
    ("agent-8", "Grace Chen", 0.7, 0.65, 0.90, 0.90, 1.00, 0.8),
]
TIERS = (("guest", 0.30), ("bronze", 0.35), ("silver", 0.22), ("gold", 0.13))
TIER_SHIPPING = {
    "guest": "free standard shipping on orders over $100",
    "bronze": "free standard shipping on orders over $75",
    "silver": "free standard shipping on every order",
    "gold": "free standard and express shipping on every order",
}
TIER_BENEFITS = {
    "guest": "free standard shipping over $100 and 30-day returns",
    "bronze": "free standard shipping over $75 and early access to sales",
    "silver": "free standard shipping, 5% extra store credit on refunds and a birthday code",
    "gold": "free express shipping, 60-day returns, priority chat and free alterations",
}
NEXT_THRESHOLD = {"guest": "$250", "bronze": "$600", "silver": "$1,200", "gold": "the top tier already"}


@dataclass
class Agent:
    id: str
    name: str
    skip: float
    empathy: float
    slowness: float
    care: float
    skill: float
    share: float
    workdays: frozenset[int]

    @property
    def first(self) -> str:
        return self.name.split()[0]


@dataclass
class Order:
    id: str
    products: list[str]
    amount: float
    placed_at: datetime
    status: str
    shipping: str = "standard"
    fee: float = 0.0

    def record(self) -> dict:
        return {
            "kind": "order", "id": self.id, "status": self.status, "amount": round(self.amount, 2), "currency": "USD",
            "attributes": {"products": list(self.products), "placed_at": self.placed_at.date().isoformat(),
                           "shipping": self.shipping, "shipping_fee": self.fee},
        }


@dataclass
class Customer:
    id: str
    name: str
    email: str
    phone: str
    username: str
    account_id: str
    address: str
    zip_code: str
    tier: str
    member_since: str
    subscription: dict | None = None
    orders: list[Order] = field(default_factory=list)

    @property
    def first(self) -> str:
        return self.name.split()[0]

    def canonical(self) -> dict:
        records = [{"kind": "account", "id": self.account_id, "status": "active",
                    "attributes": {"username": self.username, "member_since": self.member_since, "tier": self.tier}}]
        if self.subscription:
            s = self.subscription
            records.append({"kind": "subscription", "id": s["id"], "status": s["status"], "amount": s["amount"],
                            "currency": "USD", "attributes": {"plan": s["plan"], "next_due": s["due_date"]}})
        records += [o.record() for o in sorted(self.orders, key=lambda o: o.placed_at)]
        return {"id": self.id, "name": self.name, "email": self.email, "phone": self.phone, "tier": self.tier,
                "attributes": {"username": self.username, "zip_code": self.zip_code, "address": self.address},
                "records": records}


def build_agents(rng: random.Random) -> list[Agent]:
    agents = []
    for aid, name, skip, empathy, slowness, care, skill, share in AGENT_ROSTER:
        off = rng.sample(range(7), 2)  # two days off a week, so weekday staffing varies
        agents.append(Agent(aid, name, skip, empathy, slowness, care, skill, share,
                            frozenset(d for d in range(7) if d not in off)))
    return agents


class World:
    """Customers and their orders, created on demand so every order a conversation mentions is consistent."""

    def __init__(self, rng: random.Random, catalogue: dict, reference: datetime, n_customers: int):
        self.rng = rng
        self.catalogue = catalogue
        self.reference = reference
        self.products = {p["name"]: p for p in catalogue["products"]}
        self._ids: set[str] = set()
        self.customers = [self._customer(i + 1) for i in range(n_customers)]
        for c in self.customers:  # older purchases give the context card a history
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                placed = reference - timedelta(days=rng.randint(95, 300), hours=rng.randint(0, 23))
                self.new_order(c, placed, "delivered")

    def _unique(self, make) -> str:
        while True:
            value = make()
            if value not in self._ids:
                self._ids.add(value)
                return value

    def _customer(self, n: int) -> Customer:
        rng, cat = self.rng, self.catalogue
        first, last = rng.choice(cat["first_names"]), rng.choice(cat["last_names"])
        address = self.random_address()
        zip_code = address.rsplit(" ", 1)[1]
        slug = f"{first}.{last}".lower().replace("'", "")
        email = self._unique(lambda: f"{slug}{rng.choice(['', str(rng.randint(1, 99))])}@{rng.choice(cat['email_domains'])}")
        username = self._unique(lambda: f"{first[0]}{last}{rng.randint(10, 999)}".lower().replace("'", ""))
        phone = f"({rng.choice(cat['area_codes'])}) {rng.randint(201, 989)}-{rng.randint(1000, 9999)}"
        tier = rng.choices([t for t, _ in TIERS], [w for _, w in TIERS])[0]
        since = (self.reference - timedelta(days=rng.randint(120, 2200))).date().isoformat()
        customer = Customer(
            id=f"cust-{n:05d}", name=f"{first} {last}", email=email, phone=phone, username=username,
            account_id=self._unique(lambda: f"ACC-{rng.randint(100000, 999999)}"),
            address=address,
            zip_code=zip_code, tier=tier, member_since=since,
        )
        if rng.random() < 0.25:
            annual = rng.random() < 0.3
            customer.subscription = {
                "id": self._unique(lambda: f"SUB-{rng.randint(100000, 999999)}"),
                "plan": "annual" if annual else "monthly", "amount": 240.0 if annual else 25.0,
                "status": "past_due" if rng.random() < 0.15 else "active",
                "due_date": (self.reference + timedelta(days=rng.randint(1, 28))).date().isoformat(),
            }
        return customer

    def random_address(self) -> str:
        rng, cat = self.rng, self.catalogue
        city, state, zip_prefix = rng.choice(cat["cities"])
        return f"{rng.randint(12, 9870)} {rng.choice(cat['streets'])}, {city}, {state} {zip_prefix}{rng.randint(0, 999):03d}"

    def pick_product(self, placed_at: datetime, exclude: tuple[str, ...] = ()) -> str:
        """Products sold on that date (a new product only after its launch)."""
        names = []
        for p in self.catalogue["products"]:
            launch = p.get("launch_days_before_end")
            if p["name"] in exclude or (launch is not None and placed_at < self.reference - timedelta(days=launch)):
                continue
            names.append(p["name"])
        return self.rng.choice(names)

    def new_order(self, customer: Customer, placed_at: datetime, status: str, product: str | None = None) -> Order:
        rng = self.rng
        products = [product or self.pick_product(placed_at)]
        if rng.random() < 0.2:
            products.append(self.pick_product(placed_at, exclude=tuple(products)))
        amount = sum(self.products[p]["price"] for p in products)
        free = {"gold": 0, "silver": 0, "bronze": 75, "guest": 100}[customer.tier]
        shipping = "express" if rng.random() < 0.15 else "standard"
        fee = 0.0 if (customer.tier == "gold" or (shipping == "standard" and amount >= free)) else (
            14.95 if shipping == "express" else 6.95)
        order = Order(self._unique(lambda: f"ORD-{rng.randint(1000000, 9999999)}"), products, amount + fee,
                      placed_at, status, shipping, fee)
        customer.orders.append(order)
        return order
