// Airlock's web UI: the little script it has. Every page reads without it. It only follows a
// running run's progress (server-sent events) into its progress line, as text.
(function () {
  "use strict";
  var line = document.querySelector("[data-events]");
  if (!line || !window.EventSource) { return; }
  var source = new EventSource(line.getAttribute("data-events"));
  source.addEventListener("progress", function (event) {
    var progress = JSON.parse(event.data);
    line.textContent = progress.state + ": " + progress.done + " of " + progress.planned + " attempts" +
      (progress.failed > 0 ? ", " + progress.failed + " failed" : "");
    if (progress.state !== "queued" && progress.state !== "running") { source.close(); }
  });
  source.addEventListener("error", function () { source.close(); });
}());
