// Starts Swagger UI on the API's own OpenAPI document, whose URL the page gives in
// data-spec-url. A file of its own, not an inline script, so that the page's
// Content-Security-Policy allows scripts from the API only.
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    displayOperationId: true,
    // Never send the document to swagger.io's validator (nor load its badge).
    validatorUrl: null,
  });
})();
