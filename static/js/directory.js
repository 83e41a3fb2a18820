// The directory's expertise filter starts folded on phones (results first) and
// unfolded on wider screens. Without JavaScript it unfolds when tags are chosen.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (window.matchMedia("(min-width: 992px)").matches) {
      document.querySelectorAll("details.expertise-filter").forEach(function (details) {
        details.open = true;
      });
    }
  });
})();
