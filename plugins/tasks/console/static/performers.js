// People chosen by name: suggestions from the user directory as you type.
//
// Markup (no inline script: the Content-Security-Policy forbids it):
//   <div class="performer-picker" data-directory-url="/api/users/directory" data-multiple="true">
//     <input role="combobox" aria-controls="list-id" ...>
//     <ul id="list-id" role="listbox" hidden></ul>
//   </div>
// With data-multiple the input holds usernames separated by commas and a
// choice replaces the one being typed; otherwise it replaces the whole value.
// The directory is read with the console's own cookie (a GET needs no CSRF token).
(function () {
  "use strict";

  var DELAY_MS = 150;
  var LIMIT = 8;

  function setUp(picker) {
    var input = picker.querySelector("input[role='combobox']");
    if (!input) {
      return;
    }
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var url = picker.dataset.directoryUrl;
    var multiple = picker.dataset.multiple === "true";
    var timer = null;
    var active = -1;
    var asked = 0;

    function currentTerm() {
      var value = input.value;
      return multiple ? value.slice(value.lastIndexOf(",") + 1).trim() : value.trim();
    }

    function options() {
      return Array.prototype.slice.call(list.querySelectorAll("[role='option']"));
    }

    function close() {
      list.hidden = true;
      list.textContent = "";
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = options();
      if (!items.length) {
        return;
      }
      active = (index + items.length) % items.length;
      items.forEach(function (item, i) {
        item.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function choose(username) {
      if (multiple) {
        var value = input.value;
        var before = value.slice(0, value.lastIndexOf(",") + 1);
        input.value = (before ? before.trim() + " " : "") + username + ", ";
      } else {
        input.value = username;
      }
      close();
      input.focus();
    }

    function show(people) {
      list.textContent = "";
      if (!people.length) {
        close();
        return;
      }
      people.forEach(function (person, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.username = person.username;
        var name = document.createElement("span");
        name.textContent = person.display_name;
        item.appendChild(name);
        if (person.display_name !== person.username) {
          var username = document.createElement("small");
          username.textContent = person.username;
          item.appendChild(username);
        }
        list.appendChild(item);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    function search() {
      var term = currentTerm();
      if (!term) {
        close();
        return;
      }
      var ask = ++asked;
      var query = "?search=" + encodeURIComponent(term) + "&limit=" + LIMIT;
      fetch(url + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (page) {
          if (ask === asked) {
            show(page.results || []);
          }
        })
        .catch(close);
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) {
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        choose(options()[active].dataset.username);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () {
      // Later than a click on a suggestion, which would otherwise find the list gone.
      window.setTimeout(close, 200);
    });
    // mousedown, not click: it comes before the input loses its focus.
    list.addEventListener("mousedown", function (event) {
      var item = event.target.closest("[role='option']");
      if (item) {
        event.preventDefault();
        choose(item.dataset.username);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".performer-picker"), setUp);
  });
})();
