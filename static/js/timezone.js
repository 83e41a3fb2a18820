// The browser's IANA time zone, shared with the server:
// - stored in the "tz" cookie so pages render in the visitor's zone before sign-in;
// - filled into hidden sign-up fields marked data-browser-timezone.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone) {
    return;
  }
  var current = document.cookie.split("; ").find(function (row) {
    return row.indexOf("tz=") === 0;
  });
  if (!current || decodeURIComponent(current.slice(3)) !== zone) {
    document.cookie =
      "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax" +
      (window.location.protocol === "https:" ? "; Secure" : "");
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-browser-timezone]").forEach(function (input) {
      if (!input.value) {
        input.value = zone;
      }
    });
  });
})();
