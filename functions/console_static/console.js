// Thor's operations console: the only script (CSP script-src 'self'); the pages work without it.
// "/" puts the cursor in the search box, as on many consoles.
"use strict";
document.addEventListener("keydown", function (event) {
  var target = event.target;
  var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA");
  if (event.key === "/" && !typing) {
    var box = document.getElementById("search-q");
    if (box) { event.preventDefault(); box.focus(); }
  }
});
