// Airlock's web UI: the little script it has. Every page reads without it. It follows a
// running run's progress (server-sent events) into its progress line, as text, and appends a
// long transcript's next messages in place (HTML the server escaped, from this site only).
(function () {
  "use strict";
  var line = document.querySelector("[data-events]");
  if (line && window.EventSource) {
    var source = new EventSource(line.getAttribute("data-events"));
    source.addEventListener("progress", function (event) {
      var progress = JSON.parse(event.data);
      line.textContent = progress.state + ": " + progress.done + " of " + progress.planned + " attempts" +
        (progress.failed > 0 ? ", " + progress.failed + " failed" : "");
      if (progress.state !== "queued" && progress.state !== "running") { source.close(); }
    });
    source.addEventListener("error", function () { source.close(); });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-more]");
    if (!link || !window.fetch || !window.DOMParser) { return; }
    var url = new URL(link.getAttribute("href"), location.href);
    if (url.origin !== location.origin) { return; }
    event.preventDefault();
    url.searchParams.set("part", "messages");
    link.textContent = "Loading…";
    fetch(url.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      })
      .then(function (html) {
        var parsed = new DOMParser().parseFromString(html, "text/html");
        var holder = link.parentNode;
        Array.prototype.slice.call(parsed.body.childNodes).forEach(function (node) {
          holder.parentNode.insertBefore(document.importNode(node, true), holder);
        });
        holder.parentNode.removeChild(holder);
      })
      .catch(function () { location.href = link.getAttribute("href"); });
  });
}());
