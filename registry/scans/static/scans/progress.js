/*
 * Live progress of a scan job, without reloading the page.
 *
 * The job page renders an element with data-progress-url (the JSON endpoint `scans:progress`)
 * and data-status. Every second this script fetches that endpoint and updates the bar, the
 * "done / total" text, the speed and the time left. It stops polling once the job is finished,
 * cancelled or failed; if the job ended while the page was open, it reloads the page once so the
 * summary and the matched samples (rendered by the server) appear.
 *
 * Plain fetch and DOM calls, no framework: the page works without JavaScript too (it shows the
 * state at load time and a link to reload).
 */
(function () {
  "use strict";

  var FINAL = ["finished", "cancelled", "failed"];
  var root = document.querySelector("[data-progress-url]");
  if (!root) {
    return;
  }
  var url = root.getAttribute("data-progress-url");
  var startedFinal = FINAL.indexOf(root.getAttribute("data-status")) !== -1;
  var bar = root.querySelector("progress");
  var field = function (name) {
    return root.querySelector('[data-field="' + name + '"]');
  };

  function setText(name, value) {
    var el = field(name);
    if (el) {
      el.textContent = value;
    }
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) {
      return "—";
    }
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) {
      return seconds + " s";
    }
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) {
      return minutes + " min " + (seconds % 60) + " s";
    }
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function render(p) {
    var percent = p.total > 0 ? Math.floor((100 * p.done) / p.total) : p.status === "finished" ? 100 : 0;
    if (bar) {
      bar.max = Math.max(p.total, 1);
      bar.value = p.total > 0 ? p.done : percent === 100 ? 1 : 0;
      bar.textContent = percent + "%";
    }
    root.setAttribute("data-status", p.status);
    root.setAttribute("data-percent", String(percent));
    setText("percent", percent + "%");
    setText("done", p.done.toLocaleString("en"));
    setText("total", p.total.toLocaleString("en"));
    setText("failed", p.failed.toLocaleString("en"));
    setText("matched", p.matched.toLocaleString("en"));
    setText("status", p.status_display || p.status);
    setText(
      "rate",
      p.samples_per_second === null || p.samples_per_second === undefined
        ? "—"
        : Math.round(p.samples_per_second).toLocaleString("en") + " samples/s"
    );
    setText("eta", FINAL.indexOf(p.status) !== -1 ? "—" : duration(p.eta_seconds));
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("progress: HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (p) {
        render(p);
        if (FINAL.indexOf(p.status) !== -1) {
          if (!startedFinal) {
            // The summary and the result lists are rendered by the server: show them once.
            window.location.reload();
          }
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        // A network hiccup or a restarting server: try again, a little later.
        window.setTimeout(poll, 3000);
      });
  }

  if (!startedFinal) {
    window.setTimeout(poll, 1000);
  }
})();
