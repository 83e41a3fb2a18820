// The browser's IANA time zone, shared with the server:
// - stored in the "tz" cookie so pages render in the visitor's zone before sign-in;
// - filled into hidden sign-up fields marked data-browser-timezone;
// and the browser's clock (12- or 24-hour) in the "tf" cookie.
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
    // A first visit was rendered in UTC (the server had no zone yet): show it
    // again in the visitor's zone, once, so a shared booking link never offers
    // times in the wrong zone. Only a first visit (always a GET) gets here.
    var root = document.documentElement;
    try {
      if (
        root.getAttribute("data-timezone-source") === "default" &&
        root.getAttribute("data-timezone") !== zone &&
        document.cookie.indexOf("tz=") !== -1 &&
        !window.sessionStorage.getItem("tz-reloaded")
      ) {
        window.sessionStorage.setItem("tz-reloaded", "1");
        window.location.reload();
        return;
      }
    } catch (error) {
      // No sessionStorage (a privacy mode): keep this page; the next one is right.
    }
  }
  // The browser's clock (12- or 24-hour), for people who have not chosen one.
  try {
    var cycle = new Intl.DateTimeFormat(undefined, { hour: "numeric" }).resolvedOptions().hourCycle;
    var clock = cycle === "h12" || cycle === "h11" ? "12" : "24";
    if (document.cookie.split("; ").indexOf("tf=" + clock) === -1) {
      document.cookie =
        "tf=" + clock + "; path=/; max-age=31536000; SameSite=Lax" +
        (window.location.protocol === "https:" ? "; Secure" : "");
    }
  } catch (error) {
    // An old browser: 24-hour times.
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-browser-timezone]").forEach(function (input) {
      if (!input.value) {
        input.value = zone;
      }
    });
  });
})();
