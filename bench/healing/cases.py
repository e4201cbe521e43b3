"""The healing benchmark's mutation cases: a baseline page, a mutated page, the target's selector on the
baseline and the ground truth on the mutated page (a selector, or None when refusing is the right answer).

Every case is generated from its own seed, so `build_cases()` always returns the same cases. Even seeds are
the tuning half, odd seeds the hold-out half (see run.py --seeds).
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass

from pages import TEMPLATES, Node, h, render

SINGLE_MUTATIONS = ("id_renamed", "class_renamed", "text_reworded", "moved", "wrapper_added", "siblings_inserted",
                    "attributes_removed", "duplicate_added")
REMOVED_SHARE = 0.15
COMBINATION_SHARE = 0.17

SYNONYMS = {
    "sign in": ["Log in", "Login"], "delete": ["Remove"], "edit": ["Modify", "Change"],
    "add to cart": ["Add to bag", "Add to basket"], "details": ["View details", "More info"],
    "create account": ["Sign up", "Register"], "sign in instead": ["Log in instead"], "create one": ["Sign up"],
    "forgot password?": ["Reset password", "Forgot your password?"], "help": ["Support"],
    "previous": ["Prev", "Back"], "next": ["Continue", "Next step"], "invite member": ["Add member", "Invite teammate"],
    "get started": ["Start now", "Try it free"], "save changes": ["Save", "Update settings"], "reset": ["Discard"],
    "search": ["Find", "Go"], "save": ["Bookmark"], "load more": ["Show more"],
    "place order": ["Buy now", "Complete purchase"], "back to cart": ["Return to cart"],
    "choose basic": ["Select Basic"], "start trial": ["Try Pro free"], "contact sales": ["Talk to sales"],
    "reply": ["Respond"], "report": ["Flag"], "post comment": ["Comment", "Publish"],
    "save draft": ["Keep as draft"], "back": ["Previous"], "delete forever": ["Delete permanently"],
    "cancel": ["Dismiss", "Never mind"], "home": ["Start"], "products": ["Catalog"], "pricing": ["Plans"],
    "docs": ["Documentation"], "blog": ["News"], "profile": ["My profile"], "settings": ["Preferences"],
    "billing": ["Payments"], "sign out": ["Log out"], "acme": ["Acme Inc."], "welcome back": ["Sign in to Acme"],
    "remember me": ["Keep me signed in"], "email": ["Email address"], "password": ["Your password"],
    "new arrivals": ["Just in"], "simple pricing": ["Plans and pricing"], "team members": ["People"],
    "details ": ["Info"], "delete project?": ["Delete this project?"], "create your account": ["Sign up for Acme"],
}
SIBLINGS = [
    lambda: h("span", {"class": "badge"}, "New"),
    lambda: h("button", {"class": "btn btn-sm", "type": "button"}, "Help"),
    lambda: h("a", {"href": "#tips", "class": "tip"}, "Tips"),
    lambda: h("div", {"class": "notice"}, "Heads up: we changed this page."),
    lambda: h("span", {"class": "icon", "aria-hidden": "true"}),
]


@dataclass
class Case:
    id: str
    seed: int
    page: str
    mutations: list[str]
    action: str
    baseline_html: str
    mutated_html: str
    baseline_selector: str
    truth_selector: str | None

    @property
    def mutation(self) -> str:
        return self.mutations[0] if len(self.mutations) == 1 else "combination"


# -- tree helpers ---------------------------------------------------------------------------------------------

def number(root: Node) -> None:
    for uid, node in enumerate(root.walk()):
        node.uid = uid


def find(root: Node, uid: int) -> Node:
    return next(node for node in root.walk() if node.uid == uid)


def parent_of(root: Node, target: Node) -> Node | None:
    for node in root.walk():
        if any(child is target for child in node.children):
            return node
    return None


def record_of(root: Node, target: Node) -> Node | None:
    node = target
    while node is not None and not node.record:
        node = parent_of(root, node)
    return node


def selector_of(root: Node, target: Node) -> str:
    """An nth-child path from <html>: exact in the rendered page."""
    steps = []
    node = target
    while node is not root:
        parent = parent_of(root, node)
        steps.append(f"{node.tag}:nth-child({parent.elements().index(node) + 1})")
        node = parent
    return " > ".join(["html", *reversed(steps)])


def detach(root: Node, node: Node) -> Node:
    parent = parent_of(root, node)
    parent.children = [child for child in parent.children if child is not node]
    return parent


def insert_before(parent: Node, anchor: Node, new: Node) -> None:
    index = next(i for i, child in enumerate(parent.children) if child is anchor)
    parent.children.insert(index, new)


def new_identifier(rng: random.Random, old: str) -> str:
    styles = [
        lambda: f"{old}-{rng.randint(2, 99)}",
        lambda: old.replace("-", "_") + "_v2" if "-" in old else old + "V2",
        lambda: f"el-{rng.getrandbits(24):06x}",
        lambda: old.replace("login", "signin").replace("btn", "button").replace("email", "mail") + "-new",
        lambda: f"{rng.choice(['main', 'page', 'app'])}-{old.split('-')[0]}",
    ]
    return rng.choice(styles)()


# -- mutations: each answers whether it applied, and may mark the target's identity as changed ----------------

class Mutator:
    def __init__(self, rng: random.Random, root: Node, target: Node) -> None:
        self.rng, self.root, self.target = rng, root, target
        self.removed = False
        self.text_changed = False

    def id_renamed(self) -> bool:
        target = self.target
        for attr in ("id", "data-testid"):
            if target.attrs.get(attr):
                old = target.attrs[attr]
                target.attrs[attr] = new_identifier(self.rng, old)
                if attr == "id":  # keep the label pointing at its field, as a real rename would
                    for node in self.root.walk():
                        if node.tag == "label" and node.attrs.get("for") == old:
                            node.attrs["for"] = target.attrs["id"]
                return True
        return False

    def class_renamed(self) -> bool:
        parent = parent_of(self.root, self.target)
        if not self.target.attrs.get("class") and not (parent and parent.attrs.get("class")):
            return False
        mapping: dict[str, str] = {}
        prefix = self.rng.choice(["sc", "css", "x"])
        for node in self.root.walk():
            if node.attrs.get("class"):
                node.attrs["class"] = " ".join(mapping.setdefault(name, f"{prefix}-{self.rng.getrandbits(24):06x}")
                                               for name in node.attrs["class"].split())
        return True

    def _texts(self, node: Node) -> list[tuple[Node, int]]:
        return [(n, i) for n in node.walk() for i, child in enumerate(n.children) if isinstance(child, str)
                and child.strip()]

    def text_reworded(self) -> bool:
        target = self.target
        if target.tag in ("input", "select", "textarea"):
            # A field's visible words are its label and placeholder.
            labels = [node for node in self.root.walk() if node.tag == "label"
                      and (node.attrs.get("for") == target.attrs.get("id") or any(c is target for c in node.children))]
            changed = False
            for label in labels:
                for node, index in self._texts(label):
                    node.children[index] = self._reword(node.children[index])
                    changed = True
            if target.attrs.get("placeholder"):
                target.attrs["placeholder"] = self._reword(target.attrs["placeholder"])
                changed = True
            return changed
        texts = self._texts(target)
        if not texts:
            return False
        joined = " ".join(node.children[index] for node, index in texts)
        synonyms = SYNONYMS.get(joined.strip().lower())
        if synonyms and self.rng.random() < 0.75:
            first_node, first_index = texts[0]
            first_node.children[first_index] = self.rng.choice(synonyms)
            for node, index in texts[1:]:
                node.children[index] = ""
            self.text_changed = True
        else:
            for node, index in texts:
                node.children[index] = self.rng.choice([str.upper, str.lower, str.title])(node.children[index])
        return True

    def _reword(self, text: str) -> str:
        synonyms = SYNONYMS.get(text.strip().lower())
        return self.rng.choice(synonyms) if synonyms else text.upper()

    def moved(self) -> bool:
        target, rng = self.target, self.rng
        record = record_of(self.root, target)
        options = []
        if record is not None:
            options.append("reorder_record")
        parent = parent_of(self.root, target)
        if parent is not None and len(parent.elements()) > 1:
            options.append("reorder")
        grandparent = parent_of(self.root, parent) if parent is not None else None
        if grandparent is not None and grandparent.tag not in ("html", "tr", "table", "thead", "tbody", "select"):
            options.append("other_container")
        options = [o for o in options if not (o == "reorder" and target.tag == "input" and parent.tag == "label")]
        if not options:
            return False
        choice = rng.choice(options)
        if choice == "reorder_record":
            container = parent_of(self.root, record)
            original = next(i for i, child in enumerate(container.children) if child is record)
            detach(self.root, record)
            slots = [i for i, child in enumerate(container.children) if isinstance(child, Node) and child.record]
            slots = [i for i in [*slots, slots[-1] + 1 if slots else 0] if i != original] or [0]
            container.children.insert(rng.choice(slots), record)
        elif choice == "reorder":
            detach(self.root, target)
            parent.children.insert(0 if rng.random() < 0.5 else len(parent.children), target)
        else:
            detach(self.root, target)
            insert_before(grandparent, parent, target) if rng.random() < 0.5 else grandparent.children.append(target)
        return True

    def wrapper_added(self) -> bool:
        node = self.target if self.rng.random() < 0.6 else parent_of(self.root, self.target)
        if node is None or node.tag in ("html", "body", "tr", "td", "li", "option", "tbody"):
            node = self.target
        parent = parent_of(self.root, node)
        if parent is None or parent.tag in ("tr", "select", "table", "tbody"):
            return False
        wrapper = h(self.rng.choice(["div", "span", "div"]), {"class": self.rng.choice(["wrapper", "inner", "cell"])})
        insert_before(parent, node, wrapper)
        detach(self.root, node)
        wrapper.children.append(node)
        return True

    def siblings_inserted(self) -> bool:
        parent = parent_of(self.root, self.target)
        if parent is None or parent.tag in ("select", "tr"):
            return False
        for _ in range(self.rng.randint(1, 3)):
            insert_before(parent, self.target, self.rng.choice(SIBLINGS)())
        return True

    def attributes_removed(self) -> bool:
        present = [a for a in ("id", "name", "data-testid", "aria-label", "placeholder", "title", "type")
                   if self.target.attrs.get(a) and not (a == "type" and self.target.tag == "input")]
        if not present:
            return False
        for attr in self.rng.sample(present, min(len(present), self.rng.randint(1, 2))):
            del self.target.attrs[attr]
        return True

    def duplicate_added(self) -> bool:
        record = record_of(self.root, self.target)
        if record is not None:
            clone = copy.deepcopy(record)
            self._refill(clone)
            container = parent_of(self.root, record)
            siblings = [c for c in container.elements() if c.record]
            insert_before(container, self.rng.choice(siblings), clone)
            return True
        clone = copy.deepcopy(self.target)
        for node in clone.walk():
            node.uid = -1
            for attr in ("id", "data-testid", "name"):
                if attr in node.attrs:
                    node.attrs[attr] = node.attrs[attr] + "-alt"
        parent = parent_of(self.root, self.target)
        grandparent = parent_of(self.root, parent) if parent is not None else None
        body = self.root.elements()[1]
        destination = grandparent if grandparent is not None and grandparent is not self.root else body
        if destination.tag in ("tr", "table", "tbody", "select", "html"):
            destination = body
        destination.children.insert(0, h("div", {"class": "promo"}, clone))
        return True

    def _refill(self, clone: Node) -> None:
        """Make a copied record another record: other name, other price, other ids."""
        from pages import PRODUCTS, person
        for node in clone.walk():
            node.uid = -1
            for attr in ("id", "data-sku", "data-plan", "href", "src", "alt"):
                if attr in node.attrs:
                    node.attrs[attr] = node.attrs[attr] + "-2"
            for index, child in enumerate(node.children):
                if not isinstance(child, str) or not child.strip() or node.target:
                    continue
                if "$" in child:
                    node.children[index] = f"${self.rng.randint(9, 199)}.00"
                elif "@" in child:
                    node.children[index] = person(self.rng)[1]
                elif node.tag in ("h3", "a") and "card" in " ".join(n.attrs.get("class", "") for n in clone.walk()):
                    node.children[index] = self.rng.choice(PRODUCTS)
                else:
                    node.children[index] = person(self.rng)[0]

    def remove(self) -> bool:
        record = record_of(self.root, self.target)
        detach(self.root, record if record is not None and self.rng.random() < 0.5 else self.target)
        self.removed = True
        return True


def build_case(index: int, base_seed: int = 2026) -> Case:
    seed = base_seed * 1000 + index
    rng = random.Random(seed)
    names = sorted(TEMPLATES)
    template = names[(index // 2) % len(names)]
    baseline = TEMPLATES[template](random.Random(seed))
    number(baseline)
    target = rng.choice([node for node in baseline.walk() if node.target])
    mutated = copy.deepcopy(baseline)
    moved_target = find(mutated, target.uid)
    mutator = Mutator(rng, mutated, moved_target)
    draw = rng.random()
    applied: list[str] = []
    if draw < REMOVED_SHARE:
        mutator.remove()
        applied = ["removed"]
    else:
        wanted = 2 if draw < REMOVED_SHARE + COMBINATION_SHARE else 1
        for mutation in rng.sample(SINGLE_MUTATIONS, len(SINGLE_MUTATIONS)):
            if len(applied) == wanted:
                break
            if getattr(mutator, mutation)():
                applied.append(mutation)
    # An assertion whose text was reworded must fail, not heal: refusing is the right answer.
    identity_lost = mutator.removed or (target.target == "assert_text" and mutator.text_changed)
    return Case(
        id=f"{template}-{index:04d}", seed=seed, page=template, mutations=applied, action=target.target,
        baseline_html="<!doctype html>" + render(baseline), mutated_html="<!doctype html>" + render(mutated),
        baseline_selector=selector_of(baseline, target),
        truth_selector=None if identity_lost else selector_of(mutated, moved_target),
    )


def build_cases(count: int = 360) -> list[Case]:
    return [build_case(index) for index in range(count)]
