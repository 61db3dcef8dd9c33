// A run's page follows its run live. It joins the router with the console
// session's own rights (the core's pyramidion-live.js) and subscribes to the
// run's topic. An event says which hosts started or ended, or that the run's
// status changed; the page then fetches its live part again
// (/console/jobs/runs/<id>/live), so results are drawn by the same template as
// on the first load. Its data comes from data-* attributes of #run-connection:
// the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  var ENDED = ["finished", "failed", "aborted"];
  var REFRESH_DELAY = 150; // ms: events of one flush arrive together, one fetch serves them all

  document.addEventListener("DOMContentLoaded", function () {
    var state = document.getElementById("run-connection");
    var part = document.getElementById("run-live");
    var running = document.getElementById("run-running");
    if (!state || !part || state.dataset.done === "true") {
      return;
    }

    var started = [];
    var ended = false;
    var timer = null;
    var fetching = false;
    var again = false;

    function say(text) {
      state.textContent = text;
    }

    function showRunning() {
      running.hidden = started.length === 0;
      running.textContent = started.length ? "Running now on: " + started.join(", ") : "";
    }

    function refresh() {
      if (fetching) {
        again = true;
        return;
      }
      fetching = true;
      fetch(state.dataset.liveUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.text();
        })
        .then(function (html) {
          part.innerHTML = html;
          var summary = part.querySelector("[data-status]");
          if (summary) {
            document.body.dataset.runStatus = summary.dataset.status;
          }
        })
        .catch(function () {
          say("Could not load the latest results: reload the page.");
        })
        .finally(function () {
          fetching = false;
          if (again) {
            again = false;
            refresh();
          }
        });
    }

    function refreshSoon() {
      if (timer === null) {
        timer = window.setTimeout(function () {
          timer = null;
          refresh();
        }, REFRESH_DELAY);
      }
    }

    function onEvent(args) {
      var event = (args && args[0]) || {};
      (event.hosts || []).forEach(function (host) {
        var at = started.indexOf(host.host);
        if (host.event === "started" && at < 0) {
          started.push(host.host);
        } else if (host.event !== "started" && at >= 0) {
          started.splice(at, 1);
        }
      });
      if (event.status) {
        if (ENDED.indexOf(event.status) >= 0) {
          ended = true;
          started = [];
          say("This run has ended: " + event.status + ".");
          live.close(); // nothing more will happen to it
        } else {
          say("Following the run live: " + event.status + "…");
        }
      }
      showRunning();
      refreshSoon();
    }

    if (!window.PyramidionLive) {
      say("Live updates are unavailable: reload the page to see changes.");
      return;
    }
    var live = window.PyramidionLive.connect({
      onopen: function (session) {
        session.subscribe(state.dataset.topic, onEvent).then(
          function () {
            if (!ended) {
              say("Following the run live.");
            }
            document.body.dataset.runLive = "on";
            refreshSoon(); // what happened between the page's load and the subscription
          },
          function () {
            say("Live updates were refused: reload the page to see changes.");
          }
        );
      },
      onclose: function () {
        delete document.body.dataset.runLive;
        if (!ended) {
          say("Reconnecting…");
        }
      },
    });
  });
})();
