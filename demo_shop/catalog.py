"""What the shop sells and the fixed choices of its checkout: products, categories, countries,
shipping methods and coupons. Prices are integer cents."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    slug: str
    name: str


@dataclass(frozen=True)
class Product:
    id: int
    name: str
    category: str
    price_cents: int
    summary: str
    description: str
    sku: str
    featured: bool = False


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    delivery: str


@dataclass(frozen=True)
class ShippingOption:
    code: str
    name: str
    detail: str
    price_cents: int


CATEGORIES: tuple[Category, ...] = (
    Category("electronics", "Electronics"),
    Category("outdoors", "Outdoors"),
    Category("kitchen", "Kitchen"),
    Category("home", "Home"),
    Category("apparel", "Apparel"),
)

PRODUCTS: tuple[Product, ...] = (
    Product(1, "Aurora Wireless Headphones", "electronics", 8900, "Over-ear, 30 hours of battery.",
            "Closed-back wireless headphones with active noise cancelling, a 30-hour battery and a folding "
            "frame that fits in the included case.", "EL-AUR-01", featured=True),
    Product(2, "Pulse Bluetooth Speaker", "electronics", 4900, "Splash-proof speaker with deep bass.",
            "A palm-sized speaker with a 12-hour battery, IPX5 splash protection and a built-in microphone "
            "for calls.", "EL-PUL-02"),
    Product(3, "Nimbus USB-C Charger", "electronics", 2500, "65 W, charges a laptop and a phone.",
            "A compact 65 W gallium-nitride charger with two USB-C ports and one USB-A port.", "EL-NIM-03"),
    Product(4, "Trailhead Backpack", "outdoors", 7450, "28 litres, water-resistant.",
            "A 28-litre day pack in recycled nylon with a padded laptop sleeve, hip belt and rain cover.",
            "OD-TRL-04", featured=True),
    Product(5, "Summit Water Bottle", "outdoors", 1800, "Insulated steel, 750 ml.",
            "Keeps drinks cold for 24 hours or hot for 12. Leak-proof lid with a carry loop.", "OD-SUM-05"),
    Product(6, "Campfire Enamel Mug", "kitchen", 1200, "Classic speckled enamel, 350 ml.",
            "A sturdy enamel-coated steel mug for the stove top, the campfire and the office desk.",
            "KI-CAM-06", featured=True),
    Product(7, "Barista Pour-Over Kettle", "kitchen", 3990, "Gooseneck kettle for slow pours.",
            "A 1-litre stainless steel gooseneck kettle with a built-in thermometer for precise pour-over "
            "coffee.", "KI-BAR-07"),
    Product(8, "Harvest Chef's Knife", "kitchen", 5900, "20 cm forged steel blade.",
            "A full-tang chef's knife forged from high-carbon stainless steel with an olive-wood handle.",
            "KI-HAR-08"),
    Product(9, "Meadow Linen Throw", "home", 4500, "Stonewashed linen, 130 × 170 cm.",
            "A soft, stonewashed linen throw in sage green that gets softer with every wash.", "HO-MEA-09"),
    Product(10, "Lumen Desk Lamp", "home", 3400, "Dimmable LED with a warm glow.",
            "An aluminium desk lamp with a dimmable 8 W LED, three colour temperatures and a USB port.",
            "HO-LUM-10", featured=True),
    Product(11, "Ember Scented Candle", "home", 1650, "Cedar and amber, 45 hours.",
            "A soy wax candle in a reusable glass jar with notes of cedar, amber and smoked vanilla.",
            "HO-EMB-11"),
    Product(12, "Drift Cotton T-Shirt", "apparel", 2200, "Organic cotton, relaxed fit.",
            "A heavyweight organic cotton T-shirt with a relaxed fit, garment-dyed in ocean blue.",
            "AP-DRI-12"),
    Product(13, "Ridge Wool Socks", "apparel", 1400, "Merino hiking socks, two pairs.",
            "Cushioned merino wool hiking socks with a reinforced heel and toe. Two pairs per pack.",
            "AP-RID-13"),
)

COUNTRIES: tuple[Country, ...] = (
    Country("US", "United States", "5–8 business days"),
    Country("CA", "Canada", "6–9 business days"),
    Country("GB", "United Kingdom", "3–5 business days"),
    Country("DE", "Germany", "2–4 business days"),
    Country("FR", "France", "2–4 business days"),
    Country("NL", "Netherlands", "1–3 business days"),
    Country("JP", "Japan", "7–10 business days"),
)

SHIPPING_OPTIONS: tuple[ShippingOption, ...] = (
    ShippingOption("standard", "Standard", "5–7 business days", 0),
    ShippingOption("express", "Express", "2–3 business days", 990),
    ShippingOption("overnight", "Next day", "order before 2 pm", 1990),
)

# Coupon code → percent off the subtotal.
COUPONS: dict[str, int] = {"SAVE10": 10}

_PRODUCTS_BY_ID = {product.id: product for product in PRODUCTS}
_CATEGORIES_BY_SLUG = {category.slug: category for category in CATEGORIES}


def product_by_id(product_id: int) -> Product | None:
    return _PRODUCTS_BY_ID.get(product_id)


def category_by_slug(slug: str) -> Category | None:
    return _CATEGORIES_BY_SLUG.get(slug)


def country_by_code(code: str) -> Country | None:
    return next((country for country in COUNTRIES if country.code == code), None)


def shipping_by_code(code: str) -> ShippingOption | None:
    return next((option for option in SHIPPING_OPTIONS if option.code == code), None)


def featured_products() -> list[Product]:
    return [product for product in PRODUCTS if product.featured]


def search_products(query: str, category: str = "") -> list[Product]:
    """Products matching every word of the query (name, summary, category) and the category, if any."""
    words = query.lower().split()
    found = []
    for product in PRODUCTS:
        if category and product.category != category:
            continue
        haystack = f"{product.name} {product.summary} {product.category}".lower()
        if all(word in haystack for word in words):
            found.append(product)
    return found


def format_money(cents: int) -> str:
    sign = "−" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"
