/* Demo Shop: small progressive enhancements. Every page works without this file except the two
   pages that exist to misbehave (/broken, /broken-api). */
(function () {
  "use strict";

  var page = document.body.getAttribute("data-page");

  function money(cents) {
    var sign = cents < 0 ? "\u2212" : "";
    var value = Math.abs(cents);
    var dollars = Math.floor(value / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var rest = ("0" + (value % 100)).slice(-2);
    return sign + "$" + dollars + "." + rest;
  }

  // Categories menu: CSS opens it on hover and focus; the button also toggles it for touch screens.
  var menu = document.getElementById("categories-menu");
  if (menu) {
    var toggle = menu.querySelector(".menu-toggle");
    var setOpen = function (open) {
      menu.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    };
    toggle.addEventListener("click", function () {
      setOpen(!menu.classList.contains("open"));
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        setOpen(false);
      }
    });
    document.addEventListener("click", function (event) {
      if (!menu.contains(event.target)) {
        setOpen(false);
      }
    });
  }

  // Checkout: the delivery estimate follows the country, the totals follow the shipping method.
  var checkout = document.getElementById("checkout-form");
  if (checkout) {
    var country = document.getElementById("country");
    var estimate = document.getElementById("delivery-estimate");
    country.addEventListener("change", function () {
      var option = country.options[country.selectedIndex];
      estimate.textContent = option && option.value
        ? "Delivery to " + option.text + ": " + option.getAttribute("data-delivery")
        : "Choose a country to see the delivery estimate.";
    });

    var totals = document.querySelector(".order-summary .totals");
    var shippingCell = document.getElementById("summary-shipping");
    var shippingName = document.getElementById("summary-shipping-name");
    var totalCell = document.getElementById("summary-total");
    checkout.addEventListener("change", function (event) {
      var radio = event.target;
      if (radio.name !== "shipping" || !totals) {
        return;
      }
      var shipping = parseInt(radio.getAttribute("data-price-cents"), 10);
      var subtotal = parseInt(totals.getAttribute("data-subtotal-cents"), 10);
      var discount = parseInt(totals.getAttribute("data-discount-cents"), 10);
      shippingCell.textContent = shipping ? money(shipping) : "Free";
      shippingName.textContent = "(" + radio.getAttribute("data-name") + ")";
      totalCell.textContent = money(subtotal - discount + shipping);
    });
  }

  if (page === "broken") {
    console.error("Demo Shop: an intentional error on /broken, for console error checks");
  }

  if (page === "broken-api") {
    var status = document.getElementById("recommendations-status");
    fetch("/api/recommendations", { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function () {
        status.textContent = "Recommendations loaded.";
      })
      .catch(function () {
        // The failed request itself is what the browser reports; the page only says so to the reader.
        status.textContent = "Recommendations are unavailable right now.";
      });
  }
})();
