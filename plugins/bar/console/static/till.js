// The till: tapping a product adds one to its quantity; the total follows.
// Data comes from data-* attributes (no inline script: the CSP forbids it).
(function () {
  "use strict";

  function luminance(hex) {
    var value = parseInt(hex.slice(1), 16);
    var channels = [(value >> 16) & 255, (value >> 8) & 255, value & 255].map(function (c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  }

  function updateTotal(form) {
    var cents = 0;
    form.querySelectorAll("input[type=number][data-price]").forEach(function (input) {
      var quantity = parseInt(input.value, 10);
      if (quantity > 0) {
        cents += quantity * Math.round(parseFloat(input.dataset.price) * 100);
      }
    });
    var total = form.querySelector("#bar-total");
    if (total) {
      total.textContent = (cents / 100).toFixed(2);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("bar-sale");
    if (!form) {
      return;
    }
    form.querySelectorAll(".bar-product-button").forEach(function (button) {
      var colour = button.dataset.colour;
      if (/^#[0-9a-fA-F]{6}$/.test(colour || "")) {
        button.style.backgroundColor = colour;
        button.classList.add(luminance(colour) > 0.179 ? "bar-dark-text" : "bar-light-text");
      }
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.target);
        input.value = String((parseInt(input.value, 10) || 0) + 1);
        updateTotal(form);
      });
    });
    form.addEventListener("input", function () {
      updateTotal(form);
    });
    var clear = document.getElementById("bar-clear");
    if (clear) {
      clear.addEventListener("click", function () {
        form.querySelectorAll("input[type=number][data-price]").forEach(function (input) {
          input.value = "0";
        });
        updateTotal(form);
      });
    }
    updateTotal(form);
  });
})();
