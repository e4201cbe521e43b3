"""The shop's memory: sessions (cart, login, coupon, flash messages) keyed by a cookie, and orders.

Everything lives in this process and is lost on restart, which is what a demo target wants: every
browser starts from an empty cart. One lock guards it all; the work under it is tiny.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from demo_shop.catalog import COUPONS, Product, ShippingOption, product_by_id

# The demo account; the seeded Argus project holds these as SHOP_EMAIL and SHOP_PASSWORD (secret).
DEMO_EMAIL = "demo@shop.test"
DEMO_PASSWORD = "shop-password-1"  # noqa: S105 - the documented demo login of a practice shop
# E-mail → (full name, password).
ACCOUNTS: dict[str, tuple[str, str]] = {DEMO_EMAIL: ("Demo Shopper", DEMO_PASSWORD)}
MAX_LINE_QUANTITY = 10
# Oldest sessions are forgotten beyond this, so a long benchmark can't grow memory without bound.
MAX_SESSIONS = 20_000


@dataclass
class Session:
    token: str
    cart: dict[int, int] = field(default_factory=dict)
    email: str | None = None
    coupon: str | None = None
    # A rejected coupon code's message, shown once next to the coupon field.
    coupon_error: str = ""
    flashes: list[tuple[str, str]] = field(default_factory=list)

    def flash(self, kind: str, message: str) -> None:
        self.flashes.append((kind, message))

    def pop_flashes(self) -> list[tuple[str, str]]:
        flashes, self.flashes = self.flashes, []
        return flashes

    @property
    def cart_count(self) -> int:
        return sum(self.cart.values())


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def total_cents(self) -> int:
        return self.product.price_cents * self.quantity


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int
    discount_cents: int
    shipping_cents: int

    @property
    def total_cents(self) -> int:
        return self.subtotal_cents - self.discount_cents + self.shipping_cents


@dataclass(frozen=True)
class Address:
    full_name: str
    email: str
    street: str
    city: str
    postal_code: str
    country: str


@dataclass(frozen=True)
class Order:
    number: str
    session_token: str
    account_email: str | None
    lines: tuple[CartLine, ...]
    totals: Totals
    coupon: str | None
    address: Address
    shipping: ShippingOption
    placed_at: datetime


def cart_lines(session: Session) -> list[CartLine]:
    lines = []
    for product_id, quantity in session.cart.items():
        product = product_by_id(product_id)
        if product is not None:
            lines.append(CartLine(product, quantity))
    return lines


def compute_totals(lines: list[CartLine], coupon: str | None, shipping_cents: int = 0) -> Totals:
    subtotal = sum(line.total_cents for line in lines)
    percent = COUPONS.get(coupon or "", 0)
    discount = (subtotal * percent + 50) // 100  # rounded half up, in cents
    return Totals(subtotal_cents=subtotal, discount_cents=discount, shipping_cents=shipping_cents)


def check_password(email: str, password: str) -> bool:
    account = ACCOUNTS.get(email.strip().lower())
    return account is not None and secrets.compare_digest(account[1].encode(), password.encode())


def account_name(email: str) -> str:
    return ACCOUNTS[email][0]


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._orders: dict[str, Order] = {}
        self._order_numbers = itertools.count(100_001)

    def session(self, token: str | None) -> tuple[Session, bool]:
        """The session of a cookie value, or a new one (second item True) when unknown."""
        with self.lock:
            if token and token in self._sessions:
                self._sessions.move_to_end(token)
                return self._sessions[token], False
            session = Session(token=secrets.token_urlsafe(24))
            self._sessions[session.token] = session
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
            return session, True

    def place_order(self, session: Session, *, address: Address, shipping: ShippingOption) -> Order:
        with self.lock:
            lines = tuple(cart_lines(session))
            order = Order(
                number=f"DS-{next(self._order_numbers)}", session_token=session.token, account_email=session.email,
                lines=lines, totals=compute_totals(list(lines), session.coupon, shipping.price_cents),
                coupon=session.coupon, address=address, shipping=shipping, placed_at=datetime.now(UTC),
            )
            self._orders[order.number] = order
            session.cart.clear()
            session.coupon = None
            return order

    def order_for(self, session: Session, number: str) -> Order | None:
        """An order, only for the browser that placed it or the account it was placed under."""
        with self.lock:
            order = self._orders.get(number)
        if order is None:
            return None
        if order.session_token == session.token or (session.email and order.account_email == session.email):
            return order
        return None

    def orders_of(self, email: str) -> list[Order]:
        with self.lock:
            orders = [order for order in self._orders.values() if order.account_email == email]
        return sorted(orders, key=lambda order: order.placed_at, reverse=True)
