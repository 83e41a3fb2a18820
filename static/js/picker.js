// The slot picker: after htmx swaps in the week with a chosen time, say what
// was chosen in the live region (#picker-announce) and move focus to the
// first field of the booking form (htmx also honours autofocus; this covers
// browsers where the swapped element cannot take it). Without JavaScript the
// page loads with the time chosen and the topic field autofocused.
(function () {
  "use strict";

  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.target || event.target.id !== "picker-days") {
      return;
    }
    var announce = document.getElementById("picker-announce");
    var chosen = document.getElementById("picker-chosen");
    if (announce) {
      announce.textContent = chosen ? chosen.getAttribute("data-announce") || "" : "";
    }
    if (chosen) {
      var field = chosen.querySelector("textarea, input:not([type=hidden]), button[type=submit]");
      if (field && document.activeElement !== field) {
        field.focus();
      }
    }
  });
})();
