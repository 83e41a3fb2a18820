// Copy buttons: <button data-copy-target="#input" data-copy-status="#status" hidden>.
// The button stays hidden without JavaScript; the field itself can still be
// selected and copied by hand.
(function () {
  "use strict";

  function say(status, text) {
    if (status) {
      status.textContent = text;
    }
  }

  function copyBySelection(field) {
    // For browsers without the asynchronous Clipboard API (plain http).
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
      var field = document.querySelector(button.getAttribute("data-copy-target"));
      if (!field) {
        return;
      }
      var status = document.querySelector(button.getAttribute("data-copy-status"));
      var label = button.textContent;
      var timer = null;

      function copied() {
        button.textContent = "Copied";
        say(status, "Copied to the clipboard.");
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          button.textContent = label;
          say(status, "");
        }, 4000);
      }

      function failed() {
        field.focus();
        field.select();
        say(status, "Could not copy: the link is selected, press Ctrl+C (⌘C on a Mac).");
      }

      button.addEventListener("click", function () {
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(copied, function () {
            if (copyBySelection(field)) {
              copied();
            } else {
              failed();
            }
          });
        } else if (copyBySelection(field)) {
          copied();
        } else {
          failed();
        }
      });
      // Selecting the whole link on focus makes copying by hand one keystroke.
      field.addEventListener("focus", function () {
        field.select();
      });
      button.hidden = false;
    });
  });
})();
