// The console's own behaviour, for every page. No inline script anywhere: the
// Content-Security-Policy forbids it, so pages pass data in data-* attributes.
(function () {
  "use strict";

  // A button with data-confirm="Really revoke this key?" asks before its form is sent.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // After a form fails, put the keyboard on the first field that needs fixing.
  document.addEventListener("DOMContentLoaded", function () {
    var invalid = document.querySelector("main [aria-invalid='true']");
    if (invalid && typeof invalid.focus === "function") {
      invalid.focus();
    }
  });
})();
