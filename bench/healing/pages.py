"""Realistic page templates for the healing benchmark, built as small node trees so mutations can move,
wrap, copy and remove real elements. Every template takes a seeded Random for its content (names,
products, prices), so the same seed always builds the same page.

A node marked `target="click" | "type" | "assert_text"` is an element a test step could aim at; a node
marked `record=True` is a repeated unit (table row, card, list item, comment) that mutations can copy.
"""

from __future__ import annotations

import html
import random
from collections.abc import Callable
from dataclasses import dataclass, field

VOID_TAGS = frozenset({"input", "img", "br", "hr", "meta", "link"})


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)
    target: str | None = None
    record: bool = False
    uid: int = 0

    def elements(self) -> list[Node]:
        return [child for child in self.children if isinstance(child, Node)]

    def walk(self):
        yield self
        for child in self.elements():
            yield from child.walk()

    def text(self) -> str:
        return " ".join(child if isinstance(child, str) else child.text() for child in self.children).strip()


def h(tag: str, attrs: dict[str, str] | None = None, *children: Node | str, target: str | None = None,
      record: bool = False) -> Node:
    return Node(tag, dict(attrs or {}), list(children), target=target, record=record)


def render(node: Node | str) -> str:
    if isinstance(node, str):
        return html.escape(node, quote=False)
    attrs = "".join(f' {name}="{html.escape(value)}"' if value != "" else f" {name}"
                    for name, value in node.attrs.items())
    if node.tag in VOID_TAGS:
        return f"<{node.tag}{attrs}>"
    return f"<{node.tag}{attrs}>{''.join(render(child) for child in node.children)}</{node.tag}>"


STYLE = """
body{font-family:sans-serif;margin:0;padding:16px;line-height:1.4}
header,nav{display:flex;gap:12px;align-items:center;padding:8px;background:#f3f4f6}
.btn{display:inline-block;padding:6px 12px;border:1px solid #888;border-radius:4px;background:#fff;margin:2px}
.btn-primary{background:#2563eb;color:#fff}.btn-danger{background:#dc2626;color:#fff}
.field{margin:8px 0}.field label{display:block}input,select,textarea{padding:4px;min-width:180px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px}
.grid{display:grid;grid-template-columns:repeat(3,220px);gap:12px}
.card,.plan,.comment,.result{border:1px solid #ddd;padding:8px;border-radius:6px}
.dropdown-menu{list-style:none;padding:4px;border:1px solid #ccc}
.modal{position:fixed;top:60px;left:120px;width:420px;background:#fff;border:1px solid #333;padding:16px}
.steps{display:flex;gap:16px;list-style:none}.current{font-weight:bold}
"""


def page(title: str, *body: Node) -> Node:
    return h("html", {"lang": "en"},
             h("head", {}, h("meta", {"charset": "utf-8"}), h("title", {}, title), h("style", {}, STYLE)),
             h("body", {}, *body))


FIRST = ["Alice", "Bob", "Carol", "Dan", "Erin", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kemal", "Lena", "Mia",
         "Noor", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara"]
LAST = ["Martin", "Stone", "King", "Brown", "Novak", "Haddad", "Lee", "Tanaka", "Silva", "Berg", "Yilmaz", "Weber"]
PRODUCTS = ["Trail Runner Shoes", "Canvas Backpack", "Steel Water Bottle", "Wool Beanie", "Rain Jacket",
            "Camping Lantern", "Travel Mug", "Hiking Socks", "Sun Hat", "Yoga Mat", "Desk Lamp", "Notebook Set"]
ROLES = ["Admin", "Developer", "Viewer", "Owner", "Billing"]
FEATURES = ["Unlimited tests", "5 projects", "SSO", "Priority support", "Audit log", "API access"]


def person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return f"{first} {last}", f"{first.lower()}.{last.lower()}@example.com"


def field_block(label: str, input_id: str, name: str, kind: str = "text", placeholder: str = "") -> Node:
    attrs = {"id": input_id, "name": name, "type": kind, "class": "input"}
    if placeholder:
        attrs["placeholder"] = placeholder
    return h("div", {"class": "field"}, h("label", {"for": input_id}, label), h("input", attrs, target="type"))


def button(text: str, attrs: dict[str, str] | None = None, target: str | None = "click") -> Node:
    attrs = dict(attrs or {})
    attrs["class"] = ("btn " + attrs.get("class", "")).strip()
    return h("button", attrs, text, target=target)


def login(rng: random.Random) -> Node:
    return page(
        "Sign in",
        h("header", {"class": "topbar"}, h("a", {"href": "/", "class": "logo"}, "Acme", target="click"),
          h("a", {"href": "/help", "class": "nav-link"}, "Help", target="click")),
        h("main", {"class": "auth"},
          h("h1", {"class": "title"}, "Welcome back", target="assert_text"),
          h("form", {"id": "login-form", "class": "form", "action": "/login", "method": "post"},
            field_block("Email", "email", "email", "email", "you@example.com"),
            field_block("Password", "password", "password", "password"),
            h("div", {"class": "field"}, h("label", {"class": "check"},
                                           h("input", {"type": "checkbox", "id": "remember", "name": "remember"},
                                             target="click"), "Remember me")),
            h("a", {"href": "/password/reset", "class": "forgot"}, "Forgot password?", target="click"),
            button("Sign in", {"id": "login-btn", "class": "btn-primary", "type": "submit",
                               "data-testid": "login-submit"})),
          h("p", {"class": "alt"}, "No account? ", h("a", {"href": "/signup"}, "Create one", target="click"))))


def signup(rng: random.Random) -> Node:
    plans = h("select", {"id": "plan", "name": "plan"}, *[h("option", {"value": p.lower()}, p)
                                                          for p in ("Free", "Team", "Business")], target="type")
    return page(
        "Create your account",
        h("main", {},
          h("h1", {}, "Create your account", target="assert_text"),
          h("form", {"id": "signup", "class": "form"},
            field_block("Full name", "full-name", "name", "text", "Jane Doe"),
            field_block("Work email", "signup-email", "email", "email"),
            field_block("Password", "new-password", "password", "password"),
            field_block("Confirm password", "confirm-password", "password2", "password"),
            h("div", {"class": "field"}, h("label", {"for": "plan"}, "Plan"), plans),
            h("div", {"class": "field"}, h("label", {},
                                           h("input", {"type": "checkbox", "name": "terms", "id": "terms"},
                                             target="click"), "I accept the terms")),
            button("Create account", {"class": "btn-primary", "type": "submit", "id": "create-account"}),
            h("a", {"href": "/login", "class": "secondary"}, "Sign in instead", target="click"))))


def team_table(rng: random.Random) -> Node:
    rows = []
    for _ in range(rng.randint(4, 7)):
        name, email = person(rng)
        rows.append(h("tr", {"class": "member-row"}, h("td", {}, name), h("td", {}, email),
                      h("td", {}, h("span", {"class": "badge"}, rng.choice(ROLES))),
                      h("td", {"class": "actions"}, button("Edit", {"class": "btn-sm"}),
                        button("Delete", {"class": "btn-sm btn-danger"})), record=True))
    return page(
        "Team",
        h("main", {},
          h("div", {"class": "toolbar"}, h("h2", {}, "Team members", target="assert_text"),
            button("Invite member", {"class": "btn-primary", "id": "invite"})),
          h("table", {"class": "table", "id": "members"},
            h("thead", {}, h("tr", {}, *[h("th", {}, label) for label in ("Name", "Email", "Role", "")])),
            h("tbody", {}, *rows)),
          h("nav", {"class": "pagination"}, h("a", {"href": "?page=1"}, "Previous", target="click"),
            h("a", {"href": "?page=3"}, "Next", target="click"))))


def nav_menu(rng: random.Random) -> Node:
    items = [h("li", {}, h("a", {"href": f"/{label.lower()}", "class": "nav-link"}, label, target="click"))
             for label in ("Home", "Products", "Pricing", "Docs", "Blog")]
    account = h("li", {"class": "dropdown open"},
                button("Account", {"class": "dropdown-toggle", "aria-haspopup": "true", "aria-expanded": "true"}),
                h("ul", {"class": "dropdown-menu", "role": "menu"},
                  *[h("li", {}, h("a", {"href": f"/account/{label.lower().replace(' ', '-')}", "role": "menuitem"},
                                  label, target="click")) for label in ("Profile", "Settings", "Billing", "Sign out")]))
    return page(
        "Acme",
        h("header", {"class": "site-header"}, h("a", {"href": "/", "class": "brand"}, "Acme"),
          h("nav", {"class": "main-nav", "aria-label": "Main"}, h("ul", {"class": "menu"}, *items, account))),
        h("main", {}, h("h1", {}, "Ship faster with Acme", target="assert_text"),
          h("p", {"class": "lead"}, "Everything your team needs in one place."),
          button("Get started", {"class": "btn-primary", "id": "cta"})))


def product_grid(rng: random.Random) -> Node:
    cards = []
    for product in rng.sample(PRODUCTS, rng.randint(5, 8)):
        sku = product.lower().replace(" ", "-")
        cards.append(h("article", {"class": "card product"},
                       h("img", {"src": f"/img/{sku}.jpg", "alt": product, "width": "200", "height": "120"}),
                       h("h3", {"class": "product-name"}, product),
                       h("p", {"class": "price"}, f"${rng.randint(9, 199)}.{rng.choice(['00', '50', '99'])}"),
                       button("Add to cart", {"class": "add-to-cart", "data-sku": sku}),
                       h("a", {"href": f"/products/{sku}", "class": "details"}, "Details", target="click"),
                       record=True))
    return page("Shop", h("main", {}, h("h1", {}, "New arrivals", target="assert_text"),
                          h("div", {"class": "grid", "id": "products"}, *cards)))


def modal(rng: random.Random) -> Node:
    project = f"{rng.choice(['Apollo', 'Borealis', 'Cobalt', 'Delta'])} {rng.randint(2, 9)}"
    return page(
        "Project settings",
        h("main", {}, h("h1", {}, f"{project} settings"),
          button("Delete project", {"class": "btn-danger", "id": "open-delete"}),
          h("div", {"class": "modal-backdrop"}),
          h("div", {"class": "modal", "role": "dialog", "aria-modal": "true", "aria-labelledby": "modal-title"},
            h("button", {"class": "close", "aria-label": "Close", "type": "button"}, "×", target="click"),
            h("h2", {"id": "modal-title"}, "Delete project?", target="assert_text"),
            h("p", {}, f"This permanently deletes {project} and all its runs."),
            field_block("Type the project name to confirm", "confirm-name", "confirm", "text", project),
            h("div", {"class": "modal-footer"}, button("Cancel", {"class": "btn-secondary"}),
              button("Delete forever", {"class": "btn-danger", "id": "confirm-delete"})))))


def settings_form(rng: random.Random) -> Node:
    def toggle(label: str, name: str) -> Node:
        return h("label", {"class": "switch"}, h("input", {"type": "checkbox", "role": "switch", "name": name},
                                                 target="click"), h("span", {"class": "switch-label"}, label))

    zones = h("select", {"name": "timezone", "id": "tz"}, *[h("option", {}, zone) for zone in
                                                            ("UTC", "Europe/Paris", "America/New_York")], target="type")
    return page(
        "Settings",
        h("main", {}, h("h1", {}, "Settings"),
          h("form", {"class": "settings"},
            h("fieldset", {}, h("legend", {}, "Profile"),
              field_block("Display name", "display-name", "display_name", "text"),
              h("div", {"class": "field"}, h("label", {"for": "tz"}, "Time zone"), zones),
              h("div", {"class": "field"}, h("label", {"for": "bio"}, "Bio"),
                h("textarea", {"id": "bio", "name": "bio", "rows": "3"}, target="type"))),
            h("fieldset", {}, h("legend", {}, "Notifications"),
              toggle("Email notifications", "notify_email"), toggle("Weekly digest", "notify_digest"),
              toggle("Product updates", "notify_product")),
            button("Save changes", {"class": "btn-primary", "type": "submit"}),
            button("Reset", {"type": "reset"}))))


def search(rng: random.Random) -> Node:
    results = []
    for product in rng.sample(PRODUCTS, rng.randint(4, 6)):
        sku = product.lower().replace(" ", "-")
        results.append(h("li", {"class": "result"},
                         h("h3", {}, h("a", {"href": f"/p/{sku}"}, product, target="click")),
                         h("p", {"class": "snippet"}, f"{product} in {rng.choice(['black', 'green', 'navy'])}."),
                         button("Save", {"class": "btn-sm save"}), record=True))
    return page(
        "Search",
        h("header", {}, h("form", {"role": "search", "class": "search"},
                          h("input", {"type": "search", "name": "q", "placeholder": "Search products",
                                      "aria-label": "Search"}, target="type"),
                          button("Search", {"type": "submit"}))),
        h("main", {}, h("aside", {"class": "filters"}, h("h2", {}, "Filters"),
                        *[h("label", {}, h("input", {"type": "checkbox", "name": "f", "value": v}, target="click"), v)
                          for v in ("In stock", "On sale", "Free shipping")]),
          h("section", {}, h("p", {"class": "count"}, f"{len(results)} results", target="assert_text"),
            h("ul", {"class": "results"}, *results), button("Load more", {"id": "more"}))))


def checkout(rng: random.Random) -> Node:
    countries = h("select", {"name": "country", "id": "country"},
                  *[h("option", {}, c) for c in ("France", "Germany", "Spain", "United Kingdom")], target="type")
    total = f"${rng.randint(40, 400)}.00"
    return page(
        "Checkout",
        h("main", {"class": "checkout"},
          h("form", {"id": "address"}, h("h2", {}, "Shipping address"),
            field_block("First name", "first-name", "first_name"), field_block("Last name", "last-name", "last_name"),
            field_block("Street address", "street", "address1", "text", "12 Main St"),
            field_block("City", "city", "city"), field_block("Postal code", "zip", "postal_code"),
            h("div", {"class": "field"}, h("label", {"for": "country"}, "Country"), countries),
            field_block("Phone", "phone", "phone", "tel"),
            h("h2", {}, "Delivery"),
            *[h("label", {"class": "radio"}, h("input", {"type": "radio", "name": "shipping", "value": v},
                                               target="click"), label)
              for v, label in (("standard", "Standard (3-5 days)"), ("express", "Express (1 day)"))],
            button("Place order", {"class": "btn-primary", "type": "submit", "data-testid": "place-order"}),
            h("a", {"href": "/cart"}, "Back to cart", target="click")),
          h("aside", {"class": "summary"}, h("h2", {}, "Order summary"),
            h("p", {"class": "total"}, "Total: ", h("strong", {"id": "order-total"}, total, target="assert_text")))))


def pricing(rng: random.Random) -> Node:
    plans = []
    for name, price, cta in (("Basic", rng.randint(5, 15), "Choose Basic"), ("Pro", rng.randint(20, 49), "Start trial"),
                             ("Enterprise", rng.randint(90, 200), "Contact sales")):
        plans.append(h("div", {"class": "plan", "data-plan": name.lower()},
                       h("h3", {}, name), h("p", {"class": "price"}, f"${price}/month"),
                       h("ul", {}, *[h("li", {}, feature) for feature in rng.sample(FEATURES, 3)]),
                       h("a", {"href": f"/signup?plan={name.lower()}", "class": "btn"}, cta, target="click"),
                       record=True))
    return page("Pricing", h("main", {}, h("h1", {}, "Simple pricing", target="assert_text"),
                             h("div", {"class": "billing-toggle", "role": "group"},
                               button("Monthly", {"aria-pressed": "true"}),
                               button("Yearly", {"aria-pressed": "false"})),
                             h("div", {"class": "grid plans"}, *plans)))


def comments(rng: random.Random) -> Node:
    thread = []
    for _ in range(rng.randint(3, 6)):
        name, _email = person(rng)
        thread.append(h("div", {"class": "comment"},
                        h("div", {"class": "meta"}, h("span", {"class": "author"}, name),
                          h("time", {}, f"{rng.randint(2, 59)} minutes ago")),
                        h("p", {"class": "body"}, rng.choice(["Great write-up!", "I disagree with the second point.",
                                                              "Does this work on mobile?", "Thanks, this helped.",
                                                              "Can you share the benchmark?"])),
                        h("div", {"class": "comment-actions"}, button("Reply", {"class": "btn-link"}),
                          button("Like", {"class": "btn-link"}, target=None), button("Report", {"class": "btn-link"})),
                        record=True))
    return page(
        "Post",
        h("main", {}, h("article", {}, h("h1", {}, "How we cut test flakiness in half", target="assert_text"),
                        h("p", {}, "A long article body goes here.")),
          h("section", {"class": "comments"}, h("h2", {}, "Comments"), *thread,
            h("form", {"class": "new-comment"}, h("label", {"for": "comment"}, "Add a comment"),
              h("textarea", {"id": "comment", "name": "comment"}, target="type"),
              button("Post comment", {"class": "btn-primary", "type": "submit"})))))


def wizard(rng: random.Random) -> Node:
    return page(
        "New project",
        h("main", {},
          h("ol", {"class": "steps"}, h("li", {"class": "done"}, "Account"), h("li", {"class": "current"}, "Details",
                                                                               target="assert_text"),
            h("li", {}, "Confirm")),
          h("form", {"class": "wizard"}, h("h2", {}, "Project details"),
            field_block("Project name", "project-name", "project_name", "text", "My project"),
            field_block("Repository URL", "repo-url", "repository", "url", "https://github.com/..."),
            h("div", {"class": "field"}, h("label", {"for": "desc"}, "Description"),
              h("textarea", {"id": "desc", "name": "description"}, target="type")),
            h("div", {"class": "wizard-nav"}, button("Back", {"class": "btn-secondary", "type": "button"}),
              h("a", {"href": "#draft", "class": "draft"}, "Save draft", target="click"),
              button("Next", {"class": "btn-primary", "type": "submit", "id": "next-step"})))))


TEMPLATES: dict[str, Callable[[random.Random], Node]] = {
    "login": login, "signup": signup, "team_table": team_table, "nav_menu": nav_menu, "product_grid": product_grid,
    "modal": modal, "settings": settings_form, "search": search, "checkout": checkout, "pricing": pricing,
    "comments": comments, "wizard": wizard,
}
