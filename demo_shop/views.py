"""One function per page or form of the shop. Each takes a Request and returns a Response; the
server calls them under the store's lock, so they read and change the session freely."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from demo_shop import pages
from demo_shop.catalog import (
    COUPONS,
    category_by_slug,
    country_by_code,
    featured_products,
    format_money,
    product_by_id,
    search_products,
    shipping_by_code,
)
from demo_shop.state import (
    MAX_LINE_QUANTITY,
    Address,
    Session,
    Store,
    account_name,
    cart_lines,
    check_password,
    compute_totals,
)

STORE = Store()
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
POSTAL_CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    session: Session
    args: tuple[str, ...] = ()


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def render(request: Request, *, title: str, page: str, body: str, status: int = 200, query: str = "") -> Response:
    document = pages.layout(title=title, body=body, page=page, cart_count=request.session.cart_count,
                            email=request.session.email, query=query, flashes=request.session.pop_flashes())
    return Response(status=status, body=document.encode())


def redirect(location: str, status: int = 303) -> Response:
    return Response(status=status, headers=[("Location", location)])


def json_response(data: object, status: int = 200) -> Response:
    return Response(status=status, body=json.dumps(data).encode(), content_type="application/json")


def _safe_next(path: str) -> str:
    # Only paths on this site: "//evil.test" would be a protocol-relative URL to another host.
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else ""


def _quantity(raw: str, minimum: int) -> int | None:
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if minimum <= value <= MAX_LINE_QUANTITY else None


def home(request: Request) -> Response:
    return render(request, title="Home", page="home", body=pages.home(featured_products()))


def search(request: Request) -> Response:
    query = request.query.get("q", "").strip()[:100]
    category = request.query.get("category", "")
    if category and category_by_slug(category) is None:
        category = ""
    results = search_products(query, category)
    title = f"Search: {query}" if query else "Products"
    return render(request, title=title, page="search", query=query,
                  body=pages.search(query=query, category=category, results=results))


def product(request: Request) -> Response:
    item = product_by_id(int(request.args[0]))
    if item is None:
        return not_found(request, "That product does not exist.")
    return render(request, title=item.name, page="product", body=pages.product(item))


def cart_add(request: Request) -> Response:
    item = product_by_id(_int(request.form.get("product_id", "")))
    if item is None:
        return not_found(request, "That product does not exist.")
    quantity = _quantity(request.form.get("quantity", "1"), minimum=1)
    if quantity is None:
        body = pages.product(item, error=f"Enter a quantity from 1 to {MAX_LINE_QUANTITY}.")
        return render(request, title=item.name, page="product", body=body)
    cart = request.session.cart
    wanted = cart.get(item.id, 0) + quantity
    cart[item.id] = min(wanted, MAX_LINE_QUANTITY)
    if wanted > MAX_LINE_QUANTITY:
        request.session.flash("error", f"You can buy at most {MAX_LINE_QUANTITY} of {item.name}; "
                                       f"your cart now holds {MAX_LINE_QUANTITY}.")
    else:
        request.session.flash("success", f"Added {quantity} × {item.name} to your cart.")
    return redirect(f"/product/{item.id}")


def cart(request: Request) -> Response:
    lines = cart_lines(request.session)
    return render(request, title="Cart", page="cart",
                  body=pages.cart(lines, compute_totals(lines, request.session.coupon)))


def cart_update(request: Request) -> Response:
    item = product_by_id(_int(request.form.get("product_id", "")))
    cart = request.session.cart
    if item is None or item.id not in cart:
        request.session.flash("error", "That item is no longer in your cart.")
        return redirect("/cart")
    quantity = _quantity(request.form.get("quantity", ""), minimum=0)
    if quantity is None:
        request.session.flash("error", f"Enter a quantity from 0 to {MAX_LINE_QUANTITY}.")
    elif quantity == 0:
        del cart[item.id]
        request.session.flash("success", f"Removed {item.name} from your cart.")
    else:
        cart[item.id] = quantity
        request.session.flash("success", f"Updated {item.name}: quantity {quantity}.")
    return redirect("/cart")


def cart_remove(request: Request) -> Response:
    item = product_by_id(_int(request.form.get("product_id", "")))
    if item is not None and request.session.cart.pop(item.id, None) is not None:
        request.session.flash("success", f"Removed {item.name} from your cart.")
    return redirect("/cart")


def login_form(request: Request) -> Response:
    if request.session.email:
        return redirect("/account", status=302)
    next_path = _safe_next(request.query.get("next", ""))
    return render(request, title="Log in", page="login", body=pages.login(next_path=next_path))


def login_submit(request: Request) -> Response:
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    next_path = _safe_next(request.form.get("next", ""))
    if not email or not password:
        error = "Enter your email and password."
    elif not check_password(email, password):
        error = "Wrong email or password."
    else:
        request.session.email = email
        request.session.flash("success", f"Welcome back, {account_name(email)}!")
        return redirect(next_path or "/account")
    return render(request, title="Log in", page="login",
                  body=pages.login(email=email, error=error, next_path=next_path))


def logout(request: Request) -> Response:
    request.session.email = None
    request.session.flash("success", "You have been logged out.")
    return redirect("/")


def account(request: Request) -> Response:
    email = request.session.email
    if not email:
        return redirect(pages.login_next_path("/account"), status=302)
    body = pages.account(email=email, name=account_name(email), orders=STORE.orders_of(email))
    return render(request, title="My account", page="account", body=body)


def _checkout_page(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    session = request.session
    lines = cart_lines(session)
    shipping = shipping_by_code(values.get("shipping", "")) or shipping_by_code("standard")
    totals = compute_totals(lines, session.coupon, shipping.price_cents if shipping else 0)
    coupon_error, session.coupon_error = session.coupon_error, ""
    body = pages.checkout(lines=lines, totals=totals, coupon=session.coupon, values=values, errors=errors,
                          coupon_error=coupon_error)
    return render(request, title="Checkout", page="checkout", body=body, status=status)


def checkout_form(request: Request) -> Response:
    return _checkout_page(request, {"email": request.session.email or "", "shipping": "standard"}, {})


def checkout_errors(values: dict[str, str]) -> dict[str, str]:
    errors = {}
    if len(values["full_name"]) < 2:
        errors["full_name"] = "Enter your full name."
    if not EMAIL_PATTERN.match(values["email"]):
        errors["email"] = "Enter a valid email address."
    if not values["street"]:
        errors["street"] = "Enter your street address."
    if not values["city"]:
        errors["city"] = "Enter your city."
    if not POSTAL_CODE_PATTERN.match(values["postal_code"]):
        errors["postal_code"] = "Enter a valid postal code."
    if country_by_code(values["country"]) is None:
        errors["country"] = "Choose a country."
    if shipping_by_code(values["shipping"]) is None:
        errors["shipping"] = "Choose a shipping method."
    return errors


def checkout_submit(request: Request) -> Response:
    if not request.session.cart:
        return redirect("/cart")
    names = ("full_name", "email", "street", "city", "postal_code", "country", "shipping")
    values = {name: request.form.get(name, "").strip()[:200] for name in names}
    errors = checkout_errors(values)
    if errors:
        return _checkout_page(request, values, errors)
    address = Address(full_name=values["full_name"], email=values["email"], street=values["street"],
                      city=values["city"], postal_code=values["postal_code"], country=values["country"])
    shipping = shipping_by_code(values["shipping"])
    assert shipping is not None  # checked by checkout_errors
    order = STORE.place_order(request.session, address=address, shipping=shipping)
    return redirect(f"/order/{order.number}")


def coupon_apply(request: Request) -> Response:
    code = request.form.get("coupon", "").strip().upper()[:40]
    session = request.session
    if not code:
        session.coupon_error = "Enter a coupon code."
    elif code in COUPONS:
        session.coupon = code
    else:
        session.coupon_error = f"Coupon code “{code}” is not valid."
    return redirect("/checkout")


def order(request: Request) -> Response:
    item = STORE.order_for(request.session, request.args[0])
    if item is None:
        return not_found(request, "We could not find that order.")
    return render(request, title=f"Order {item.number}", page="order", body=pages.order(item))


def broken(request: Request) -> Response:
    return render(request, title="Broken page", page="broken", body=pages.broken())


def broken_api(request: Request) -> Response:
    return render(request, title="Recommendations", page="broken-api", body=pages.broken_api())


def api_products(request: Request) -> Response:
    results = search_products(request.query.get("q", "")[:100], request.query.get("category", ""))
    return json_response({"products": [
        {"id": item.id, "name": item.name, "price": format_money(item.price_cents), "url": f"/product/{item.id}"}
        for item in results
    ]})


def api_recommendations(request: Request) -> Response:
    # Always down: /broken-api fetches it, so the page has a failed request to report.
    return json_response({"error": "Recommendations are temporarily unavailable."}, status=503)


def not_found(request: Request, message: str = "We could not find that page.") -> Response:
    return render(request, title="Not found", page="not-found", body=pages.not_found(message), status=404)


def _int(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        return 0


View = Callable[[Request], Response]
# (method, path pattern, view, honours ?delay_ms=)
ROUTES: tuple[tuple[str, re.Pattern, View, bool], ...] = tuple(
    (method, re.compile(f"^{pattern}$"), view, delayable)
    for method, pattern, view, delayable in (
        ("GET", "/", home, False),
        ("GET", "/search", search, True),
        ("GET", r"/product/(\d{1,6})", product, False),
        ("POST", "/cart/add", cart_add, False),
        ("GET", "/cart", cart, False),
        ("POST", "/cart/update", cart_update, False),
        ("POST", "/cart/remove", cart_remove, False),
        ("GET", "/login", login_form, False),
        ("POST", "/login", login_submit, False),
        ("POST", "/logout", logout, False),
        ("GET", "/account", account, False),
        ("GET", "/checkout", checkout_form, False),
        ("POST", "/checkout", checkout_submit, False),
        ("POST", "/checkout/coupon", coupon_apply, False),
        ("GET", r"/order/(DS-\d{1,9})", order, False),
        ("GET", "/broken", broken, False),
        ("GET", "/broken-api", broken_api, False),
        ("GET", "/api/products", api_products, False),
        ("GET", "/api/recommendations", api_recommendations, False),
    )
)
