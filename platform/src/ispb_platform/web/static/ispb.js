// ISPB page behaviour. Loaded after htmx (both deferred, same origin; the CSP forbids inline script).
// htmx itself is configured by the <meta name="htmx-config"> tag in base.html so the settings apply
// before htmx initialises (selfRequestsOnly, no eval, no inline indicator styles, no history cache
// holding customer data in localStorage).
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Every unsafe htmx request carries the CSRF token in a header (DESIGN 6); plain forms carry the
  // hidden field instead.
  document.addEventListener("htmx:configRequest", function (event) {
    var verb = (event.detail.verb || "get").toUpperCase();
    if (verb !== "GET" && verb !== "HEAD") {
      event.detail.headers["X-CSRFToken"] = csrfToken();
    }
  });

  // A failed htmx request (server error, network down) would otherwise do nothing visible.
  function showProblem(message) {
    var box = document.getElementById("htmx-problem");
    if (!box) {
      box = document.createElement("div");
      box.id = "htmx-problem";
      box.className = "alert";
      box.setAttribute("role", "alert");
      var main = document.querySelector("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = message;
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    showProblem("The server could not complete that request (HTTP " + status + "). Nothing was lost; try again.");
  });
  // After a 422 the first field with an error gets focus, so a keyboard or screen reader user lands on it
  // (its message is linked with aria-describedby, web/templates/macros.html).
  function focusFirstInvalid(root) {
    var field = (root || document).querySelector('[aria-invalid="true"]');
    if (field) {
      field.focus();
      return true;
    }
    return false;
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { focusFirstInvalid(document); });
  } else {
    focusFirstInvalid(document);
  }

  // After an htmx update: errors take focus; a result count (live search) is announced in #live-status.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target || document.body;
    var root = target.isConnected ? target : document.body;
    if (focusFirstInvalid(root)) {
      return;
    }
    var count = root.querySelector(".count");
    var live = document.getElementById("live-status");
    if (count && live) {
      live.textContent = count.textContent;
    }
  });
  document.addEventListener("htmx:sendError", function () {
    showProblem("The server could not be reached. Check the connection and try again.");
  });
})();
