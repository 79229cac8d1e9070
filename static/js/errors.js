// When an htmx request fails (server error, database unavailable, network down), say so
// where the person is looking (the feedback region fixed to the viewport), instead of
// silently doing nothing.
(function () {
  "use strict";

  function show(message) {
    if (window.framingFeedback) window.framingFeedback.error(message);
  }

  document.addEventListener("htmx:responseError", function (event) {
    const xhr = event.detail.xhr;
    const text = xhr && xhr.getResponseHeader("Content-Type") &&
      xhr.getResponseHeader("Content-Type").indexOf("text/plain") === 0
      ? xhr.responseText
      : "";
    show(text || "Something went wrong on the server (" + (xhr ? xhr.status : "?") +
      "); nothing was changed. Please try again.");
  });

  document.addEventListener("htmx:sendError", function () {
    show("The server could not be reached; nothing was saved. Check the connection and try again.");
  });
})();
