// Live pages: join the WAMP router with the console session's own rights.
//
// Load Autobahn|JS first, then this file, then the page's own script:
//
//   <script src="{{ request.static_url('pyramidion:console/static/vendor/autobahn/autobahn.min.js') }}" defer></script>
//   <script src="{{ request.static_url('pyramidion:console/static/pyramidion-live.js') }}" defer></script>
//   <script src="{{ request.static_url('pyramidion_robots:console/static/fleet.js') }}" defer></script>
//
// and in the page's script:
//
//   var live = PyramidionLive.connect({
//     onopen: function (session) { session.subscribe(topic, handler); },  // after every (re)join
//     onclose: function (reason) { ... },                                  // joined no more; retrying unless "ended"
//   });
//   live.close();  // leave for good
//
// Each join fetches a fresh ticket (POST /console/ticket, with the CSRF token):
// a ticket lives a minute, so it is never reused. When the router goes away the
// connection is retried with a growing delay, each time with a new ticket. When
// the console session has ended (logged out elsewhere, deactivated) there is no
// ticket to be had: onclose("ended") and no more retries.
//
// What the user may not read over the API they cannot subscribe to: the router
// asks the platform's authorizers, as for any client.
(function () {
  "use strict";

  var RETRY_DELAYS = [1000, 2000, 5000, 10000, 30000]; // ms; the last one repeats

  function meta(name) {
    var element = document.querySelector('meta[name="' + name + '"]');
    return element ? element.content : "";
  }

  function absolute(url) {
    // A path ("/ws") is on this site, with ws: or wss: as the page is http: or https:.
    if (url.charAt(0) === "/") {
      return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + url;
    }
    return url;
  }

  function fetchTicket() {
    return fetch(meta("pyramidion-ticket-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": meta("csrf-token"), Accept: "application/json" },
    }).then(function (response) {
      if (response.status === 401 || response.status === 403 || response.redirected) {
        var ended = new Error("the console session has ended");
        ended.ended = true;
        throw ended;
      }
      if (!response.ok) {
        throw new Error("no ticket: HTTP " + response.status);
      }
      return response.json();
    });
  }

  function connect(options) {
    options = options || {};
    var attempt = 0;
    var closed = false;
    var connection = null;
    var timer = null;

    function retryLater(reason) {
      if (options.onclose) {
        options.onclose(reason);
      }
      if (closed) {
        return;
      }
      var delay = RETRY_DELAYS[Math.min(attempt, RETRY_DELAYS.length - 1)];
      attempt += 1;
      timer = window.setTimeout(join, delay);
    }

    function join() {
      timer = null;
      if (typeof autobahn === "undefined") {
        closed = true;
        if (options.onclose) {
          options.onclose("ended");
        }
        return;
      }
      fetchTicket().then(
        function (grant) {
          if (closed) {
            return;
          }
          connection = new autobahn.Connection({
            url: absolute(grant.url),
            realm: grant.realm,
            authmethods: ["ticket"],
            onchallenge: function () {
              return grant.ticket;
            },
            max_retries: 0, // retried here, with a fresh ticket each time
          });
          connection.onopen = function (session) {
            attempt = 0;
            document.documentElement.dataset.live = "on";
            if (options.onopen) {
              options.onopen(session);
            }
          };
          connection.onclose = function (reason) {
            delete document.documentElement.dataset.live;
            connection = null;
            retryLater(reason);
            return true; // Autobahn must not retry by itself
          };
          connection.open();
        },
        function (error) {
          if (error.ended) {
            closed = true;
            if (options.onclose) {
              options.onclose("ended");
            }
            return;
          }
          retryLater("unreachable");
        }
      );
    }

    join();
    return {
      close: function () {
        closed = true;
        if (timer !== null) {
          window.clearTimeout(timer);
        }
        if (connection !== null) {
          connection.close();
        }
      },
    };
  }

  window.PyramidionLive = { connect: connect };
})();
