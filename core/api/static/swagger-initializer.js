// Starts Swagger UI on /api/docs. A file of its own, not an inline script: the
// Content-Security-Policy of HTML pages forbids inline scripts. The page gives
// the document's URL in data-openapi-url.
(function () {
  "use strict";
  window.addEventListener("load", function () {
    var root = document.getElementById("swagger-ui");
    window.ui = SwaggerUIBundle({
      url: root.dataset.openapiUrl,
      dom_id: "#swagger-ui",
      deepLinking: true,
      // "Authorize" keeps the token for this tab only, never in localStorage.
      persistAuthorization: false,
      tryItOutEnabled: false,
      displayRequestDuration: true,
      docExpansion: "list",
      filter: true,
    });
  });
})();
