// The sample plugin's live page: subscribe to my topic and to someone else's.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var state = document.getElementById("live-state");
  function follow(session, id) {
    var element = document.getElementById(id);
    session.subscribe(element.dataset.topic, function (args) {
      var item = document.createElement("li");
      item.textContent = args[0];
      document.getElementById("news").appendChild(item);
    }).then(
      function (subscription) {
        element.textContent = "subscribed";
        subscription.on_unsubscribe.then(function (reason) { element.textContent = "removed: " + reason; });
      },
      function (error) { element.textContent = "refused: " + error.error; }
    );
  }
  window.PyramidionLive.connect({
    onopen: function (session) {
      state.textContent = "joined as " + session.id;
      follow(session, "mine-state");
      follow(session, "theirs-state");
    },
    onclose: function (reason) {
      state.textContent = "closed: " + reason;
    },
  });
});
