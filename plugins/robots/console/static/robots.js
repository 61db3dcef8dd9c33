// The robots' live pages: the fleet and a robot's page follow each robot's status topic.
//
// Data comes from data-* attributes (no inline script: the CSP forbids it):
//   [data-robot-id][data-topic]   a robot shown on the page, and its status topic
//   [data-connection]             its connection cell, [data-position] its last position
//   svg[data-trail]               the position trail (data-points: [[x, y], ...], data-limit)
//   table[data-commands]          the commands, rows [data-command-id] with [data-command-status]
//   [data-live-state]             says whether live updates are on
// Events on pyramidion.robots.robot.<id>.status: {robot_id, connected}, {robot_id, frame},
// {robot_id, command: {id, command, status}}.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var MIN_SPAN = 2.0; // metres, as the server draws it (console/trail.py)
  var MARGIN = 0.08;

  function number(value) {
    return (Math.round(value * 1000) / 1000).toString();
  }

  function showConnection(cell, connected) {
    if (!cell) return;
    cell.textContent = connected ? "connected" : "disconnected";
    cell.classList.toggle("connection-on", connected);
    cell.classList.toggle("connection-off", !connected);
  }

  function showPosition(cell, frame) {
    if (!cell) return;
    var data = frame.data;
    cell.textContent = "(" + data.position_x.toFixed(2) + ", " + data.position_y.toFixed(2) + ") · " + frame.state;
  }

  // -- the trail ----------------------------------------------------------------------

  function Trail(svg) {
    this.svg = svg;
    this.limit = parseInt(svg.dataset.limit, 10) || 500;
    this.points = JSON.parse(svg.dataset.points || "[]");
    this.line = svg.querySelector("polyline");
    this.start = svg.querySelector("circle.trail-start");
    this.marker = svg.querySelector("circle.trail-marker");
    this.caption = document.querySelector("[data-trail-caption]");
  }

  Trail.prototype.add = function (x, y) {
    this.points.push([x, y]);
    if (this.points.length > this.limit) this.points.splice(0, this.points.length - this.limit);
    this.draw();
  };

  Trail.prototype.draw = function () {
    var points = this.points;
    var xs = points.map(function (p) { return p[0]; });
    var ys = points.map(function (p) { return -p[1]; }); // y points up
    var minX = Math.min.apply(null, xs), maxX = Math.max.apply(null, xs);
    var minY = Math.min.apply(null, ys), maxY = Math.max.apply(null, ys);
    var span = Math.max(maxX - minX, maxY - minY, MIN_SPAN);
    var size = span * (1 + 2 * MARGIN);
    var left = (maxX + minX) / 2 - size / 2, top = (maxY + minY) / 2 - size / 2;
    this.svg.setAttribute("viewBox", [left, top, size, size].map(number).join(" "));
    this.line.setAttribute("points", points.map(function (p) { return number(p[0]) + "," + number(-p[1]); }).join(" "));
    place(this.start, points[0], size);
    place(this.marker, points[points.length - 1], size);
    if (this.caption) {
      var ys = points.map(function (p) { return p[1]; });
      this.caption.textContent = "The last " + points.length + " positions, north up: x " + minX.toFixed(2) +
        " to " + maxX.toFixed(2) + " m, y " + Math.min.apply(null, ys).toFixed(2) + " to " +
        Math.max.apply(null, ys).toFixed(2) + " m. The ring is the oldest, the dot the newest.";
    }
  };

  function place(circle, point, size) {
    circle.setAttribute("cx", number(point[0]));
    circle.setAttribute("cy", number(-point[1]));
    circle.setAttribute("r", number(size / 60));
    circle.classList.remove("trail-empty");
  }

  // -- commands -----------------------------------------------------------------------

  function showCommand(table, command) {
    if (!table) return;
    var row = table.querySelector('tr[data-command-id="' + command.id + '"]');
    if (!row) {
      var empty = table.querySelector("[data-no-commands]");
      if (empty) empty.remove();
      row = document.createElement("tr");
      row.dataset.commandId = command.id;
      var sentBy = command.sent_by ? command.sent_by.username : "";
      var sentAt = command.created_at ? String(command.created_at).replace("T", " ").slice(0, 19) + " UTC" : "";
      [String(command.id), command.command, "", sentBy, sentAt].forEach(function (text, index) {
        var cell = document.createElement("td");
        cell.textContent = text;
        if (index === 2) cell.dataset.commandStatus = "";
        row.appendChild(cell);
      });
      table.tBodies[0].insertBefore(row, table.tBodies[0].firstChild);
    }
    var status = row.querySelector("[data-command-status]");
    status.textContent = command.status;
    status.className = "status-" + command.status;
  }

  // -- wiring -------------------------------------------------------------------------

  function robotsOnPage() {
    var robots = [];
    document.querySelectorAll("[data-robot-id][data-topic]").forEach(function (element) {
      robots.push({
        id: parseInt(element.dataset.robotId, 10),
        topic: element.dataset.topic,
        connection: element.querySelector("[data-connection]"),
        position: element.querySelector("[data-position]"),
        trail: element.querySelector("svg[data-trail]") ? new Trail(element.querySelector("svg[data-trail]")) : null,
        commands: element.querySelector("table[data-commands]"),
      });
    });
    return robots;
  }

  function handler(robot) {
    return function (args) {
      var event = args[0] || {};
      if ("connected" in event) showConnection(robot.connection, event.connected);
      if (event.frame && event.frame.type === 1) {
        showPosition(robot.position, event.frame);
        if (robot.trail) robot.trail.add(event.frame.data.position_x, event.frame.data.position_y);
      }
      if (event.command) showCommand(robot.commands, event.command);
    };
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    });
  }

  // What changed between the page's rendering and its subscriptions (or while the
  // connection was down) is read once more from the API, then events keep it current.
  function catchUp(robots) {
    var byId = {};
    robots.forEach(function (robot) { byId[robot.id] = robot; });
    var reads = [];
    document.querySelectorAll("[data-robots-api]").forEach(function (element) {
      reads.push(getJSON(element.dataset.robotsApi).then(function (answer) {
        (answer.results || [answer]).forEach(function (found) {
          if (byId[found.id]) showConnection(byId[found.id].connection, found.connected);
        });
      }));
    });
    document.querySelectorAll("table[data-commands][data-commands-api]").forEach(function (table) {
      reads.push(getJSON(table.dataset.commandsApi).then(function (answer) {
        answer.results.slice().reverse().forEach(function (command) { showCommand(table, command); });
      }));
    });
    return Promise.all(reads);
  }

  function liveState(text) {
    var element = document.querySelector("[data-live-state]");
    if (element) element.textContent = "Live updates: " + text;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var robots = robotsOnPage();
    if (!robots.length) {
      liveState("no robot to follow");
      return;
    }
    if (!window.PyramidionLive) {
      liveState("unavailable (reload the page to see changes)");
      return;
    }
    window.PyramidionLive.connect({
      onopen: function (session) {
        var subscribed = robots.map(function (robot) {
          return session.subscribe(robot.topic, handler(robot)).then(function (subscription) {
            // The platform ends a subscription when its right goes away (unshared, deleted).
            if (subscription.on_unsubscribe) {
              subscription.on_unsubscribe.then(function () {
                if (robot.connection) robot.connection.textContent = "no longer shared with you";
              });
            }
            return subscription;
          });
        });
        Promise.all(subscribed)
          .then(function () { return catchUp(robots); })
          .then(
            function () { liveState("on"); document.body.dataset.robotsLive = "on"; },
            function () { liveState("refused for some robots"); }
          );
      },
      onclose: function (reason) {
        liveState(reason === "ended" ? "off: your console session has ended, log in again" : "reconnecting…");
        delete document.body.dataset.robotsLive;
      },
    });
  });
})();
