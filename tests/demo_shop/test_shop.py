"""The demo shop as a real process (the `demo_shop` fixture): its pages over HTTP, and the journeys the
Smoke suite relies on (login, cart, checkout, hover menu, console errors) in one real headless Chromium
shared by the module. Each browser test starts from a fresh shop session (cookies deleted)."""

from __future__ import annotations

import http.cookiejar
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC  # noqa: N812 - Selenium's own idiom
from selenium.webdriver.support.ui import Select, WebDriverWait

from demo_shop.server import MAX_DELAY_MS, _delay_seconds

EMAIL, PASSWORD = "demo@shop.test", "shop-password-1"
WAIT_SECONDS = 5


class Shop:
    """An HTTP client with its own cookie jar: one shop session, as one browser would have."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, form: dict[str, str] | None = None, method: str | None = None,
                follow: bool = True) -> tuple[int, str, str]:
        """(status, final URL, body). With follow=False a redirect answers its status and Location."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        url = urllib.parse.urljoin(self.base_url, path)
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the local shop
        opener = self.opener if follow else urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.url, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    profile = tempfile.mkdtemp(prefix="argus-shop-test-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run",
                 "--disable-sync", f"--user-data-dir={profile}", "--window-size=1280,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, demo_shop) -> webdriver.Chrome:
    """The module's browser on a fresh shop session, its console log emptied."""
    browser.get(demo_shop + "health")
    browser.delete_all_cookies()
    browser.get_log("browser")
    return browser


def open_page(driver: webdriver.Chrome, base_url: str, path: str) -> None:
    driver.get(urllib.parse.urljoin(base_url, path))


def wait_text(driver: webdriver.Chrome, css: str, text: str) -> None:
    WebDriverWait(driver, WAIT_SECONDS).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def by_testid(driver: webdriver.Chrome, test_id: str):
    return driver.find_element(By.CSS_SELECTOR, f"[data-testid='{test_id}']")


def severe_console_lines(driver: webdriver.Chrome) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def wait_console_line(driver: webdriver.Chrome, *fragments: str) -> list[str]:
    """The SEVERE console lines until one holds every fragment (the log reaches chromedriver a bit late)."""
    lines: list[str] = []
    deadline = time.monotonic() + WAIT_SECONDS
    while not any(all(fragment in line for fragment in fragments) for line in lines):
        assert time.monotonic() < deadline, f"no console error with {fragments}: {lines}"
        lines += severe_console_lines(driver)
        time.sleep(0.05)
    return lines


def add_to_cart(driver: webdriver.Chrome, base_url: str, product_id: int, quantity: int = 1) -> None:
    open_page(driver, base_url, f"/product/{product_id}")
    count_before = int(by_testid(driver, "cart-count").text)
    quantity_field = driver.find_element(By.ID, "quantity")
    quantity_field.clear()
    quantity_field.send_keys(str(quantity))
    by_testid(driver, "add-to-cart").click()
    wait_text(driver, "#cart-count", str(count_before + quantity))


# --- HTTP ---------------------------------------------------------------------------------------------

def test_health_static_files_and_not_found(demo_shop):
    shop = Shop(demo_shop)
    assert shop.request("/health")[::2] == (200, "ok")
    with urllib.request.urlopen(demo_shop + "static/shop.js", timeout=5) as response:  # noqa: S310 - local
        assert response.headers["Content-Type"].startswith("text/javascript")
        assert b"console.error" in response.read()
    with urllib.request.urlopen(demo_shop + "static/shop.css", timeout=5) as response:  # noqa: S310 - local
        assert response.headers["Content-Type"].startswith("text/css")
    status, _, body = shop.request("/product/999")
    assert status == 404 and "That product does not exist." in body
    assert shop.request("/no-such-page")[0] == 404
    assert shop.request("/cart/add", method="GET")[0] == 405


def test_search_lists_matches_and_says_when_nothing_matches(demo_shop):
    shop = Shop(demo_shop)
    _, _, body = shop.request("/search?q=mug")
    assert re.findall(r'data-testid="product-name">([^<]+)<', body) == ["Campfire Enamel Mug"]
    assert ">1 product<" in body
    _, _, body = shop.request("/search?category=kitchen")
    assert ">3 products<" in body
    _, _, body = shop.request("/search?q=unicorn")
    assert 'data-testid="no-results"' in body and "No products match “unicorn”." in body
    _, _, body = shop.request("/search?q=%3Cscript%3E")
    assert "<script>" not in body and "&lt;script&gt;" in body


def test_search_delay_is_honoured_capped_and_does_not_block_other_requests(demo_shop):
    assert _delay_seconds({"delay_ms": "250"}) == 0.25
    assert _delay_seconds({"delay_ms": "999999"}) == MAX_DELAY_MS / 1000
    assert _delay_seconds({"delay_ms": "-5"}) == 0 and _delay_seconds({"delay_ms": "soon"}) == 0
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        searches = [pool.submit(Shop(demo_shop).request, "/search?q=lamp&delay_ms=800") for _ in range(10)]
        fast = Shop(demo_shop).request("/")
        fast_elapsed = time.monotonic() - started
        statuses = [search.result()[0] for search in searches]
    elapsed = time.monotonic() - started
    assert statuses == [200] * 10
    assert fast[0] == 200 and fast_elapsed < 0.8  # the home page answered while ten searches slept
    assert 0.8 <= elapsed < 3  # ten delayed searches ran side by side, not one after another


def test_sessions_are_kept_apart(demo_shop):
    first, second = Shop(demo_shop), Shop(demo_shop)
    first.request("/cart/add", {"product_id": "6", "quantity": "2"})
    assert 'data-testid="cart-count">2<' in first.request("/cart")[2]
    assert 'data-testid="cart-empty"' in second.request("/cart")[2]
    assert 'data-testid="cart-count">0<' in second.request("/")[2]


def test_bad_form_input_gets_a_message_not_an_error(demo_shop):
    shop = Shop(demo_shop)
    status, _, body = shop.request("/cart/add", {"product_id": "6", "quantity": "lots"})
    assert status == 200 and "Enter a quantity from 1 to 10." in body
    assert shop.request("/cart/add", {"product_id": "999", "quantity": "1"})[0] == 404
    _, _, body = shop.request("/cart/add", {"product_id": "6", "quantity": "9"})
    _, _, body = shop.request("/cart/add", {"product_id": "6", "quantity": "5"})
    assert "You can buy at most 10 of Campfire Enamel Mug" in body and 'data-testid="cart-count">10<' in body
    _, _, body = shop.request("/cart/update", {"product_id": "6", "quantity": "-1"})
    assert "Enter a quantity from 0 to 10." in body
    status, location, _ = Shop(demo_shop).request("/checkout", {"full_name": "A"}, follow=False)
    assert status == 303 and location == "/cart"  # nothing to check out
    status, location, _ = shop.request("/login", {"email": EMAIL, "password": PASSWORD, "next": "//evil.test/"},
                                       follow=False)
    assert status == 303 and location == "/account"  # never a redirect to another host
    assert shop.request("/login", {"email": "x@y.z", "password": "p" * 70_000})[0] == 413


def test_an_order_is_visible_only_to_the_session_that_placed_it(demo_shop):
    shop = Shop(demo_shop)
    shop.request("/cart/add", {"product_id": "3", "quantity": "1"})
    status, url, body = shop.request("/checkout", {
        "full_name": "Grace Hopper", "email": "grace@example.com", "street": "1 Navy Way", "city": "Arlington",
        "postal_code": "22201", "country": "US", "shipping": "overnight",
    })
    assert status == 200 and re.search(r"/order/DS-\d{6}$", url)
    assert 'data-testid="order-total">$44.90<' in body  # $25.00 + next-day $19.90
    assert Shop(demo_shop).request(urllib.parse.urlsplit(url).path)[0] == 404
    assert 'data-testid="cart-empty"' in shop.request("/cart")[2]


# --- in the browser -----------------------------------------------------------------------------------

@pytest.mark.browser
def test_home_shows_featured_products_without_console_errors(page, demo_shop):
    open_page(page, demo_shop, "/")
    names = [element.text for element in page.find_elements(By.CSS_SELECTOR, "#featured-products .product-name")]
    assert names == ["Aurora Wireless Headphones", "Trailhead Backpack", "Campfire Enamel Mug", "Lumen Desk Lamp"]
    assert by_testid(page, "cart-count").text == "0"
    assert severe_console_lines(page) == []


@pytest.mark.browser
def test_login_rejects_a_wrong_password_then_accepts_the_demo_account(page, demo_shop):
    open_page(page, demo_shop, "/account")
    assert page.current_url.endswith("/login?next=/account")
    assert by_testid(page, "login-required").text == "Please log in to see your account."
    page.find_element(By.ID, "email").send_keys(EMAIL)
    page.find_element(By.ID, "password").send_keys("wrong-password")
    by_testid(page, "login-submit").click()
    wait_text(page, "[data-testid='login-error']", "Wrong email or password.")
    assert page.find_element(By.ID, "email").get_attribute("value") == EMAIL
    assert page.find_element(By.ID, "password").get_attribute("value") == ""
    page.find_element(By.ID, "password").send_keys(PASSWORD)
    by_testid(page, "login-submit").click()
    wait_text(page, "[data-testid='account-email']", EMAIL)
    assert page.current_url.endswith("/account")
    assert by_testid(page, "nav-account").text == "My account"
    by_testid(page, "logout").click()
    wait_text(page, "[data-testid='flash']", "You have been logged out.")
    open_page(page, demo_shop, "/account")
    assert "/login" in page.current_url


@pytest.mark.browser
def test_cart_add_update_and_remove(page, demo_shop):
    add_to_cart(page, demo_shop, 6, quantity=2)
    assert by_testid(page, "flash").text == "Added 2 × Campfire Enamel Mug to your cart."
    add_to_cart(page, demo_shop, 7)
    assert by_testid(page, "cart-count").text == "3"
    by_testid(page, "cart-link").click()
    wait_text(page, "#cart-subtotal", "$63.90")  # 2 × $12.00 + $39.90
    line = page.find_element(By.CSS_SELECTOR, "li[data-product-id='6']")
    quantity = line.find_element(By.NAME, "quantity")
    quantity.clear()
    quantity.send_keys("5", Keys.ENTER)  # Enter submits the line's own update form
    wait_text(page, "#cart-subtotal", "$99.90")
    assert page.find_element(By.CSS_SELECTOR, "li[data-product-id='6'] .line-total").text == "$60.00"
    assert by_testid(page, "cart-count").text == "6"
    page.find_element(By.CSS_SELECTOR, "button[aria-label='Remove Campfire Enamel Mug']").click()
    wait_text(page, "#cart-subtotal", "$39.90")
    page.find_element(By.CSS_SELECTOR, "button[aria-label='Remove Barista Pour-Over Kettle']").click()
    wait_text(page, "[data-testid='cart-empty']", "Your cart is empty.")
    assert by_testid(page, "cart-count").text == "0"


@pytest.mark.browser
def test_checkout_validates_applies_coupons_and_ends_with_an_order_number(page, demo_shop):
    add_to_cart(page, demo_shop, 7)  # $39.90
    open_page(page, demo_shop, "/checkout")
    by_testid(page, "place-order").click()
    wait_text(page, "[data-testid='checkout-errors']", "Please correct 6 errors below.")
    assert by_testid(page, "error-postal_code").text == "Enter a valid postal code."
    assert page.find_element(By.ID, "country").get_attribute("aria-invalid") == "true"

    page.find_element(By.ID, "coupon").send_keys("NOPE")
    by_testid(page, "apply-coupon").click()
    wait_text(page, "[data-testid='coupon-error']", "Coupon code “NOPE” is not valid.")
    assert by_testid(page, "summary-total").text == "$39.90"
    page.find_element(By.ID, "coupon").send_keys("SAVE10", Keys.ENTER)
    wait_text(page, "[data-testid='coupon-message']", "Coupon SAVE10 applied: 10% off.")
    assert by_testid(page, "summary-discount").text == "−$3.99"
    assert by_testid(page, "summary-total").text == "$35.91"

    for field_id, value in (("full_name", "Ada Lovelace"), ("email", "ada@example.com"),
                            ("street", "12 Analytical Row"), ("city", "London"), ("postal_code", "N1 9GU")):
        page.find_element(By.ID, field_id).send_keys(value)
    Select(page.find_element(By.ID, "country")).select_by_visible_text("Germany")
    assert by_testid(page, "delivery-estimate").text == "Delivery to Germany: 2–4 business days"
    page.find_element(By.ID, "shipping-express").click()
    assert by_testid(page, "summary-shipping").text == "$9.90"
    assert by_testid(page, "summary-total").text == "$45.81"  # the page's own arithmetic, before the server's
    by_testid(page, "place-order").click()

    WebDriverWait(page, WAIT_SECONDS).until(EC.url_matches(r"/order/DS-\d{6}$"))
    assert re.fullmatch(r"DS-\d{6}", by_testid(page, "order-number").text)
    assert by_testid(page, "order-total").text == "$45.81"  # the server agrees: 39.90 − 3.99 + 9.90
    assert "Germany" in by_testid(page, "order-address").text
    assert by_testid(page, "cart-count").text == "0"


@pytest.mark.browser
def test_hovering_categories_opens_the_menu(page, demo_shop):
    open_page(page, demo_shop, "/")
    kitchen = by_testid(page, "category-kitchen")
    assert not kitchen.is_displayed()
    ActionChains(page).move_to_element(by_testid(page, "categories-menu")).perform()
    WebDriverWait(page, WAIT_SECONDS).until(EC.visibility_of(kitchen))
    kitchen.click()
    wait_text(page, "#search-title", "Kitchen")
    assert page.current_url.endswith("/search?category=kitchen")


@pytest.mark.browser
def test_broken_pages_leave_errors_in_the_console(page, demo_shop):
    open_page(page, demo_shop, "/broken")
    wait_console_line(page, "intentional error on /broken")
    open_page(page, demo_shop, "/broken-api")
    wait_text(page, "[data-testid='recommendations-status']", "Recommendations are unavailable right now.")
    wait_console_line(page, "/api/recommendations", "503")
    open_page(page, demo_shop, "/search?q=lamp")
    assert severe_console_lines(page) == []
