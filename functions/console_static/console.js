// Thor's operations console: the only script (CSP script-src 'self'). Shows each UTC time's age
// in its tooltip; the pages work without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var now = Date.now();
  document.querySelectorAll("time[datetime]").forEach(function (element) {
    var then = Date.parse(element.getAttribute("datetime"));
    if (isNaN(then)) { return; }
    var minutes = Math.round((now - then) / 60000);
    var text = minutes < 0 ? "in " + (-minutes) + " min" : minutes < 120 ? minutes + " min ago" : Math.round(minutes / 60) + " h ago";
    element.title = element.getAttribute("datetime") + " (" + text + ")";
  });
});
