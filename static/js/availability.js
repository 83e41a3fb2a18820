// The availability editor (templates/scheduling/_availability_*.html). The
// page works without this file: every button is a plain form submit, and
// htmx turns those into in-place swaps. This adds what needs a script:
//
// - on a phone, the week folds into its summary lines ("Mon–Fri 09:00–12:00"),
//   the add forms into their buttons and the preview after its first three
//   days; what the server marks
//   data-keep-open (the day just edited, a form with errors) stays open;
// - "Unsaved changes" shows as soon as a time is changed, not only after a
//   button's round trip;
// - a copy menu: one open at a time, Escape closes it, Enter on a day in it
//   copies (instead of submitting the form with its first button);
// - what a swapped-in section says is read out by the page's live region.
(function () {
  "use strict";

  // htmx copies a few attributes of the old elements onto the new ones while
  // it settles, "style" among them: our CSP (style-src 'self') refuses that
  // with a console error for every element anything (an extension, a test's
  // screenshot) gave a style attribute. Nothing here animates a style.
  if (window.htmx) {
    window.htmx.config.attributesToSettle = ["class", "width", "height"];
  }

  var phone = window.matchMedia("(max-width: 767.98px)");
  var FOLDABLE = "details.week-group, details.add-form, details.preview-more";

  function fold(root) {
    var found = root.matches && root.matches(FOLDABLE) ? [root] : [];
    found = found.concat(Array.prototype.slice.call(root.querySelectorAll(FOLDABLE)));
    found.forEach(function (details) {
      if (details.hasAttribute("data-folded")) {
        return;
      }
      details.setAttribute("data-folded", "");
      if (phone.matches && !details.hasAttribute("data-keep-open")) {
        details.open = false;
      }
    });
  }

  function markUnsaved(form) {
    var dirty = form.querySelector("input[name=dirty]");
    var badge = form.querySelector("#weekly-unsaved");
    if (dirty) {
      dirty.value = "1";
    }
    if (badge) {
      badge.hidden = false;
    }
  }

  // The notice of a section just swapped in (each is read once).
  function announceNew() {
    var region = document.getElementById("availability-announce");
    var notices = document.querySelectorAll("[data-notice]:not([data-announced])");
    if (!region || !notices.length) {
      return;
    }
    var texts = [];
    notices.forEach(function (notice) {
      notice.setAttribute("data-announced", "");
      var text = notice.textContent.replace(/\s+/g, " ").trim();
      if (text) {
        texts.push(text);
      }
    });
    region.textContent = "";
    // A moment apart, so the same words said twice are read twice.
    window.setTimeout(function () {
      region.textContent = texts.join(" ");
    }, 50);
  }

  // A deferred script runs once the page is parsed: fold it before it is shown.
  fold(document);
  document.querySelectorAll("[data-notice]").forEach(function (notice) {
    notice.setAttribute("data-announced", "");
  });

  // Before the swapped-in section is painted: folded already, no flash.
  document.addEventListener("htmx:afterSwap", function () {
    fold(document);
  });

  document.addEventListener("htmx:afterSettle", announceNew);

  phone.addEventListener("change", function () {
    document.querySelectorAll(FOLDABLE).forEach(function (details) {
      details.open = !phone.matches || details.hasAttribute("data-keep-open");
    });
  });

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-weekly-form]");
    if (form && event.target.matches("select")) {
      markUnsaved(form);
    }
  });

  // One copy menu open at a time.
  document.addEventListener(
    "toggle",
    function (event) {
      var menu = event.target;
      if (!menu.matches || !menu.matches("details.copy-menu") || !menu.open) {
        return;
      }
      document.querySelectorAll("details.copy-menu[open]").forEach(function (other) {
        if (other !== menu) {
          other.open = false;
        }
      });
    },
    true
  );

  document.addEventListener("keydown", function (event) {
    var menu = event.target.closest ? event.target.closest("details.copy-menu") : null;
    if (!menu) {
      return;
    }
    if (event.key === "Escape" && menu.open) {
      event.preventDefault();
      menu.open = false;
      menu.querySelector("summary").focus();
    } else if (event.key === "Enter" && event.target.matches("input[type=checkbox]")) {
      event.preventDefault();
      menu.querySelector("[data-copy-button]").click();
    }
  });
})();
