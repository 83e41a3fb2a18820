// Filters a long checkbox list as you type: <input data-tag-filter="#list">.
// Without JavaScript the full list stays visible and usable.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-tag-filter]").forEach(function (input) {
      var list = document.querySelector(input.getAttribute("data-tag-filter"));
      if (!list) {
        return;
      }
      input.addEventListener("input", function () {
        var needle = input.value.trim().toLowerCase();
        list.querySelectorAll(".form-check").forEach(function (item) {
          var text = item.textContent.trim().toLowerCase();
          var checked = item.querySelector("input:checked") !== null;
          item.hidden = needle !== "" && text.indexOf(needle) === -1 && !checked;
        });
      });
    });
  });
})();
