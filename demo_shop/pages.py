"""The shop's HTML. Plain functions returning strings; every dynamic value goes through `esc`.

The markup is what test authors meet in real shops: ids, classes, `data-testid` on the elements a
test targets, labels on every control, ARIA roles where they are natural.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from urllib.parse import quote

from demo_shop.catalog import (
    CATEGORIES,
    COUNTRIES,
    SHIPPING_OPTIONS,
    Product,
    category_by_slug,
    country_by_code,
    format_money,
)
from demo_shop.state import CartLine, Order, Totals


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def layout(*, title: str, body: str, page: str, cart_count: int, email: str | None = None, query: str = "",
           flashes: list[tuple[str, str]] | None = None) -> str:
    categories = "".join(
        f'<li><a href="/search?category={category.slug}" data-testid="category-{category.slug}">'
        f"{esc(category.name)}</a></li>"
        for category in CATEGORIES
    )
    if email:
        account = '<a href="/account" data-testid="nav-account">My account</a>'
    else:
        account = '<a href="/login" data-testid="nav-login">Log in</a>'
    messages = "".join(
        f'<div class="flash flash-{esc(kind)}" role="status" data-testid="flash">{esc(message)}</div>'
        for kind, message in flashes or []
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · Demo Shop</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/shop.css">
<script src="/static/shop.js" defer></script>
</head>
<body data-page="{esc(page)}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <div class="header-inner">
    <a class="logo" href="/" data-testid="logo">Demo Shop</a>
    <nav class="main-nav" aria-label="Main">
      <ul class="nav-list">
        <li class="menu" id="categories-menu" data-testid="categories-menu">
          <button type="button" class="menu-toggle" aria-expanded="false"
                  aria-controls="category-list">Categories</button>
          <ul class="menu-items" id="category-list">{categories}</ul>
        </li>
        <li>{account}</li>
      </ul>
    </nav>
    <form class="search-form" role="search" action="/search" method="get">
      <label class="visually-hidden" for="search-input">Search products</label>
      <input id="search-input" name="q" type="search" placeholder="Search products" autocomplete="off"
             data-testid="search-input" value="{esc(query)}">
      <button type="submit" class="button" data-testid="search-button">Search</button>
    </form>
    <a class="cart-link" href="/cart" data-testid="cart-link" aria-label="Cart, {cart_count} items">
      Cart <span class="cart-badge" id="cart-count" data-testid="cart-count">{cart_count}</span>
    </a>
  </div>
</header>
<main id="main" class="page page-{esc(page)}">
{messages}{body}
</main>
<footer class="site-footer">
  <p>Demo Shop is a practice target for Argus. Nothing here is for sale.</p>
</footer>
</body>
</html>
"""


def _thumb(product: Product) -> str:
    initials = "".join(word[0] for word in product.name.split()[:2])
    return f'<div class="thumb thumb-{esc(product.category)}" aria-hidden="true">{esc(initials)}</div>'


def _product_card(product: Product) -> str:
    return f"""<li class="product-card" data-testid="product-card" data-product-id="{product.id}">
  <a class="product-link" href="/product/{product.id}">{_thumb(product)}
    <span class="product-name" data-testid="product-name">{esc(product.name)}</span></a>
  <p class="product-summary">{esc(product.summary)}</p>
  <p class="price" data-testid="product-price">{format_money(product.price_cents)}</p>
</li>"""


def home(featured: list[Product]) -> str:
    cards = "".join(_product_card(product) for product in featured)
    return f"""<section class="hero" aria-labelledby="hero-title">
  <h1 id="hero-title">Welcome to Demo Shop</h1>
  <p class="lead">Everyday goods for the kitchen, the trail and the desk.</p>
</section>
<section class="featured" aria-labelledby="featured-title">
  <h2 id="featured-title">Featured products</h2>
  <ul class="product-grid" id="featured-products" data-testid="featured-products">{cards}</ul>
</section>"""


def search(*, query: str, category: str, results: list[Product]) -> str:
    found = category_by_slug(category)
    if query:
        heading = f"Search results for “{esc(query)}”"
    elif found:
        heading = esc(found.name)
    else:
        heading = "All products"
    count = f"{len(results)} product{'s' if len(results) != 1 else ''}"
    if results:
        listing = (f'<p class="result-count" data-testid="result-count">{count}</p>'
                   f'<ul class="product-grid" id="search-results" data-testid="search-results">'
                   f'{"".join(_product_card(product) for product in results)}</ul>')
    else:
        what = f"“{esc(query)}”" if query else "your filters"
        listing = (f'<div class="empty-state" role="status" data-testid="no-results">'
                   f'<p>No products match {what}.</p><p>Try a shorter word, or <a href="/search">browse all '
                   f"products</a>.</p></div>")
    return f'<h1 id="search-title">{heading}</h1>\n{listing}'


def product(item: Product, *, error: str = "") -> str:
    category = category_by_slug(item.category)
    alert = f'<p class="field-error" role="alert" id="quantity-error">{esc(error)}</p>' if error else ""
    invalid = ' aria-invalid="true" aria-describedby="quantity-error"' if error else ""
    return f"""<nav class="breadcrumb" aria-label="Breadcrumb"><ol>
  <li><a href="/">Home</a></li>
  <li><a href="/search?category={item.category}">{esc(category.name if category else item.category)}</a></li>
  <li aria-current="page">{esc(item.name)}</li>
</ol></nav>
<article class="product-detail" data-testid="product-detail" data-product-id="{item.id}">
  {_thumb(item)}
  <div class="product-info">
    <h1 id="product-name" data-testid="product-title">{esc(item.name)}</h1>
    <p class="price price-large" id="product-price" data-testid="product-price">{format_money(item.price_cents)}</p>
    <p class="stock">In stock</p>
    <p class="description" data-testid="product-description">{esc(item.description)}</p>
    <form class="add-to-cart" method="post" action="/cart/add" data-testid="add-to-cart-form">
      <input type="hidden" name="product_id" value="{item.id}">
      <div class="field field-inline">
        <label for="quantity">Quantity</label>
        <input id="quantity" name="quantity" type="number" min="1" max="10" value="1" inputmode="numeric"
               data-testid="quantity"{invalid}>
      </div>
      {alert}
      <button type="submit" id="add-to-cart" class="button primary" data-testid="add-to-cart">Add to cart</button>
    </form>
    <dl class="specs"><dt>SKU</dt><dd data-testid="product-sku">{esc(item.sku)}</dd></dl>
  </div>
</article>"""


def cart(lines: list[CartLine], totals: Totals) -> str:
    if not lines:
        return """<h1>Your cart</h1>
<div class="empty-state" data-testid="cart-empty"><p>Your cart is empty.</p>
<p><a href="/" class="button">Continue shopping</a></p></div>"""
    rows = "".join(f"""<li class="cart-line" data-testid="cart-line" data-product-id="{line.product.id}">
  <a class="line-name" href="/product/{line.product.id}" data-testid="line-name">{esc(line.product.name)}</a>
  <span class="line-price">{format_money(line.product.price_cents)} each</span>
  <form class="line-update" method="post" action="/cart/update">
    <input type="hidden" name="product_id" value="{line.product.id}">
    <label for="qty-{line.product.id}">Quantity</label>
    <input id="qty-{line.product.id}" name="quantity" type="number" min="0" max="10" value="{line.quantity}"
           data-testid="line-quantity">
    <button type="submit" class="button small" data-testid="update-line">Update</button>
  </form>
  <span class="line-total" data-testid="line-total">{format_money(line.total_cents)}</span>
  <form class="line-remove" method="post" action="/cart/remove">
    <input type="hidden" name="product_id" value="{line.product.id}">
    <button type="submit" class="link-button" data-testid="remove-line"
            aria-label="Remove {esc(line.product.name)}">Remove</button>
  </form>
</li>""" for line in lines)
    return f"""<h1>Your cart</h1>
<ul class="cart-lines" id="cart-lines" data-testid="cart-lines">{rows}</ul>
<div class="cart-summary">
  <dl class="totals"><dt>Subtotal</dt>
    <dd id="cart-subtotal" data-testid="cart-subtotal">{format_money(totals.subtotal_cents)}</dd></dl>
  <a class="button primary" href="/checkout" id="checkout-button" data-testid="checkout-button">Proceed to checkout</a>
</div>"""


def login(*, email: str = "", error: str = "", next_path: str = "") -> str:
    alert = (f'<div class="alert alert-error" role="alert" data-testid="login-error">{esc(error)}</div>'
             if error else "")
    notice = ('<div class="alert alert-info" role="status" data-testid="login-required">'
              "Please log in to see your account.</div>" if next_path == "/account" and not error else "")
    return f"""<h1>Log in</h1>
{notice}{alert}
<form class="form login-form" method="post" action="/login" data-testid="login-form" novalidate>
  <input type="hidden" name="next" value="{esc(next_path)}">
  <div class="field">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="{esc(email)}">
  </div>
  <div class="field">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
  </div>
  <button type="submit" class="button primary" id="login-button" data-testid="login-submit">Log in</button>
</form>"""


def account(*, email: str, name: str, orders: list[Order]) -> str:
    if orders:
        items = "".join(
            f'<li data-testid="account-order"><a href="/order/{esc(order.number)}">{esc(order.number)}</a> · '
            f"{format_money(order.totals.total_cents)}</li>" for order in orders
        )
        history = f'<ul class="order-history">{items}</ul>'
    else:
        history = '<p data-testid="no-orders">You have not placed any orders yet.</p>'
    return f"""<h1>My account</h1>
<p class="account-greeting" data-testid="account-greeting">Hello, {esc(name)}!</p>
<p data-testid="account-email">Signed in as <strong>{esc(email)}</strong></p>
<h2>Your orders</h2>
{history}
<form method="post" action="/logout">
  <button type="submit" class="button" data-testid="logout">Log out</button>
</form>"""


def _summary(lines: list[CartLine], totals: Totals, coupon: str | None, shipping_label: str) -> str:
    items = "".join(
        f'<li data-testid="summary-line"><span>{esc(line.product.name)} × {line.quantity}</span>'
        f"<span>{format_money(line.total_cents)}</span></li>" for line in lines
    )
    discount = (f'<dt>Discount ({esc(coupon)})</dt><dd data-testid="summary-discount">'
                f"{format_money(-totals.discount_cents)}</dd>" if totals.discount_cents else "")
    shipping = format_money(totals.shipping_cents) if totals.shipping_cents else "Free"
    return f"""<ul class="summary-lines">{items}</ul>
  <dl class="totals" data-subtotal-cents="{totals.subtotal_cents}" data-discount-cents="{totals.discount_cents}">
    <dt>Subtotal</dt><dd data-testid="summary-subtotal">{format_money(totals.subtotal_cents)}</dd>
    {discount}
    <dt>Shipping <span class="muted" id="summary-shipping-name">({esc(shipping_label)})</span></dt>
    <dd id="summary-shipping" data-testid="summary-shipping">{shipping}</dd>
    <dt class="grand">Total</dt>
    <dd class="grand" id="summary-total" data-testid="summary-total">{format_money(totals.total_cents)}</dd>
  </dl>"""


CHECKOUT_FIELDS = (
    ("full_name", "Full name", "text", "name"),
    ("email", "Email", "email", "email"),
    ("street", "Street address", "text", "street-address"),
    ("city", "City", "text", "address-level2"),
    ("postal_code", "Postal code", "text", "postal-code"),
)


def _field(name: str, label: str, kind: str, autocomplete: str, values: Mapping[str, str],
           errors: Mapping[str, str]) -> str:
    error = errors.get(name)
    described = f' aria-invalid="true" aria-describedby="{name}-error"' if error else ""
    message = (f'<p class="field-error" id="{name}-error" data-testid="error-{name}">{esc(error)}</p>'
               if error else "")
    return f"""<div class="field{' has-error' if error else ''}">
    <label for="{name}">{label}</label>
    <input id="{name}" name="{name}" type="{kind}" autocomplete="{autocomplete}"
           value="{esc(values.get(name, ''))}"{described}>
    {message}
  </div>"""


def checkout(*, lines: list[CartLine], totals: Totals, coupon: str | None, values: Mapping[str, str],
             errors: Mapping[str, str], coupon_error: str = "") -> str:
    if not lines:
        return """<h1>Checkout</h1>
<div class="empty-state" data-testid="cart-empty"><p>Your cart is empty.</p>
<p><a href="/" class="button">Continue shopping</a></p></div>"""
    fields = "".join(_field(*spec, values, errors) for spec in CHECKOUT_FIELDS)
    chosen_country = values.get("country", "")
    options = "".join(
        f'<option value="{country.code}" data-delivery="{esc(country.delivery)}"'
        f'{" selected" if country.code == chosen_country else ""}>{esc(country.name)}</option>'
        for country in COUNTRIES
    )
    country = country_by_code(chosen_country)
    estimate = (f"Delivery to {esc(country.name)}: {esc(country.delivery)}" if country
                else "Choose a country to see the delivery estimate.")
    country_error = errors.get("country")
    country_message = (f'<p class="field-error" id="country-error" data-testid="error-country">{esc(country_error)}</p>'
                       if country_error else "")
    country_invalid = ' aria-invalid="true" aria-describedby="country-error"' if country_error else ""
    chosen_shipping = values.get("shipping", "standard")
    radios = "".join(
        f"""<div class="radio">
      <input type="radio" id="shipping-{option.code}" name="shipping" value="{option.code}"
             data-price-cents="{option.price_cents}" data-name="{esc(option.name)}"
             {'checked' if option.code == chosen_shipping else ''}>
      <label for="shipping-{option.code}">{esc(option.name)} ({esc(option.detail)}) —
        {format_money(option.price_cents) if option.price_cents else 'Free'}</label>
    </div>"""
        for option in SHIPPING_OPTIONS
    )
    shipping_label = next((option.name for option in SHIPPING_OPTIONS if option.code == chosen_shipping), "Standard")
    summary_errors = ""
    if errors:
        count = len(errors)
        summary_errors = (f'<div class="alert alert-error" role="alert" data-testid="checkout-errors">'
                          f"Please correct {count} error{'s' if count != 1 else ''} below.</div>")
    if coupon:
        coupon_status = (f'<p class="coupon-message" role="status" data-testid="coupon-message">'
                         f"Coupon {esc(coupon)} applied: 10% off.</p>")
    elif coupon_error:
        coupon_status = f'<p class="field-error" role="alert" data-testid="coupon-error">{esc(coupon_error)}</p>'
    else:
        coupon_status = ""
    return f"""<h1>Checkout</h1>
<div class="checkout">
<form class="form checkout-form" id="checkout-form" method="post" action="/checkout" data-testid="checkout-form"
      novalidate>
  {summary_errors}
  <fieldset>
    <legend>Shipping address</legend>
    {fields}
    <div class="field{' has-error' if country_error else ''}">
      <label for="country">Country</label>
      <select id="country" name="country" data-testid="country"{country_invalid}>
        <option value="">Choose a country…</option>{options}
      </select>
      {country_message}
      <p class="hint" id="delivery-estimate" data-testid="delivery-estimate" aria-live="polite">{estimate}</p>
    </div>
  </fieldset>
  <fieldset>
    <legend>Shipping method</legend>
    {radios}
  </fieldset>
  <button type="submit" class="button primary" id="place-order" data-testid="place-order">Place order</button>
</form>
<aside class="order-summary" data-testid="order-summary" aria-labelledby="summary-title">
  <h2 id="summary-title">Order summary</h2>
  {_summary(lines, totals, coupon, shipping_label)}
  <form class="coupon-form" method="post" action="/checkout/coupon" data-testid="coupon-form">
    <label for="coupon">Coupon code</label>
    <div class="inline">
      <input id="coupon" name="coupon" type="text" autocomplete="off" data-testid="coupon-input">
      <button type="submit" class="button" data-testid="apply-coupon">Apply</button>
    </div>
    {coupon_status}
  </form>
</aside>
</div>"""


def order(item: Order) -> str:
    country = country_by_code(item.address.country)
    lines = "".join(
        f'<li data-testid="order-line">{esc(line.product.name)} × {line.quantity} — '
        f"{format_money(line.total_cents)}</li>" for line in item.lines
    )
    discount = (f"<dt>Discount ({esc(item.coupon)})</dt><dd>{format_money(-item.totals.discount_cents)}</dd>"
                if item.totals.discount_cents else "")
    return f"""<section class="confirmation" data-testid="order-confirmation" aria-labelledby="confirmation-title">
  <h1 id="confirmation-title">Thank you for your order!</h1>
  <p>Your order number is <strong id="order-number" data-testid="order-number">{esc(item.number)}</strong>.</p>
  <p>A confirmation is on its way to <span data-testid="order-email">{esc(item.address.email)}</span>.</p>
  <h2>Items</h2>
  <ul class="order-lines">{lines}</ul>
  <dl class="totals">
    <dt>Subtotal</dt><dd>{format_money(item.totals.subtotal_cents)}</dd>
    {discount}
    <dt>Shipping ({esc(item.shipping.name)})</dt><dd>{format_money(item.totals.shipping_cents)}</dd>
    <dt class="grand">Total</dt><dd class="grand" data-testid="order-total">{format_money(item.totals.total_cents)}</dd>
  </dl>
  <h2>Shipping to</h2>
  <address data-testid="order-address">{esc(item.address.full_name)}<br>{esc(item.address.street)}<br>
    {esc(item.address.postal_code)} {esc(item.address.city)}<br>
    {esc(country.name if country else item.address.country)}</address>
  <p><a class="button" href="/">Continue shopping</a></p>
</section>"""


def broken() -> str:
    return """<h1>Broken page</h1>
<p data-testid="broken-note">This page logs an error to the browser console on purpose, so console checks
have something to find.</p>"""


def broken_api() -> str:
    return """<h1>Recommended for you</h1>
<p class="hint" id="recommendations-status" data-testid="recommendations-status" aria-live="polite">
  Loading recommendations…</p>
<ul id="recommendations" class="product-grid"></ul>"""


def not_found(message: str = "We could not find that page.") -> str:
    return f"""<h1>Page not found</h1>
<p data-testid="not-found">{esc(message)}</p>
<p><a href="/">Back to the shop</a></p>"""


def login_next_path(path: str) -> str:
    return f"/login?next={quote(path, safe='/')}"
