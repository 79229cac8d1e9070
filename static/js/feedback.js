// The one feedback region of every page (base.html): fixed to the viewport, two live
// regions (status for notices, alert for errors). The server fills it on page loads and
// out of band with every htmx action; scripts use window.framingFeedback. A message stays
// until the next action replaces it or the person dismisses it.
(function () {
  "use strict";

  function region(id) {
    return document.getElementById(id);
  }

  function show(kind, text) {
    const status = region("feedback-status");
    const alert = region("feedback-alert");
    if (!status || !alert) return;
    status.replaceChildren();
    alert.replaceChildren();
    const p = document.createElement("p");
    p.className = kind === "error" ? "error" : "notice";
    p.id = kind === "error" ? "error" : "notice";
    p.textContent = text;
    (kind === "error" ? alert : status).appendChild(p);
  }

  function clear() {
    ["feedback-status", "feedback-alert"].forEach(function (id) {
      const box = region(id);
      if (box) box.replaceChildren();
    });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("#feedback-close")) clear();
  });

  window.framingFeedback = {
    notice: function (text) { show("notice", text); },
    error: function (text) { show("error", text); },
    clear: clear,
  };
})();
