// Booking rules in words (templates/mentorship/widgets/_booking_rule.html):
// each rule's example follows its value while the mentor types or picks a
// unit. The sentences are those of mentorship/forms.py (buffer_example,
// notice_example…) and the units those of mentorship/widgets.py; the browser
// test mentorship/tests/test_browser_booking_rules.py checks that both write
// the same. Without JavaScript the example of the saved value stays.
(function () {
  "use strict";

  var UNIT_MINUTES = { minutes: 1, hours: 60, days: 24 * 60, weeks: 7 * 24 * 60 };
  var SINGULAR = { minutes: "minute", hours: "hour", days: "day", weeks: "week" };
  var MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
  ];
  var EXAMPLE_TIME = 9 * 60; // 09:00, the examples' "now" and session start

  function amount(count, unit) {
    return count + " " + (count === 1 ? SINGULAR[unit] : unit);
  }

  // value (in base) as the largest of units it is a whole number of.
  function largest(value, base, units) {
    var minutes = value * UNIT_MINUTES[base];
    var ordered = units.slice().sort(function (a, b) {
      return UNIT_MINUTES[a] - UNIT_MINUTES[b];
    });
    if (minutes === 0) {
      return { count: 0, unit: ordered[0] };
    }
    for (var index = ordered.length - 1; index >= 0; index -= 1) {
      if (minutes % UNIT_MINUTES[ordered[index]] === 0) {
        return { count: minutes / UNIT_MINUTES[ordered[index]], unit: ordered[index] };
      }
    }
    return { count: value, unit: base };
  }

  // core.timeformat.format_time_of_day: "17:00" or "5:00 PM".
  function timeOfDay(minutes, clock) {
    var hour = Math.floor(minutes / 60);
    var minute = String(minutes % 60).padStart(2, "0");
    if (clock !== "12") {
      return String(hour).padStart(2, "0") + ":" + minute;
    }
    return (hour % 12 || 12) + ":" + minute + " " + (hour < 12 ? "AM" : "PM");
  }

  // Days after the example's day, and the time of day, offset minutes after 09:00.
  function shifted(offset, clock) {
    var total = EXAMPLE_TIME + offset;
    var days = Math.floor(total / (24 * 60));
    return { days: days, text: timeOfDay(total - days * 24 * 60, clock) };
  }

  function possessive(words) {
    return words.slice(-1) === "s" ? words + "'" : words + "'s";
  }

  function dayMonth(date, withYear) {
    var text = date.getUTCDate() + " " + MONTHS[date.getUTCMonth()];
    return withYear ? text + " " + date.getUTCFullYear() : text;
  }

  var EXAMPLES = {
    buffer: function (minutes, units, settings) {
      if (!minutes) {
        return "With no buffer, a session can start as soon as another one ends.";
      }
      var size = largest(minutes, "minutes", units);
      return "With a " + size.count + "-" + SINGULAR[size.unit] + " buffer, after a session " +
        "that ends at " + shifted(60, settings.clock).text + " the next one can start at " +
        shifted(60 + minutes, settings.clock).text + " at the earliest.";
    },
    notice: function (minutes, units, settings) {
      var now = timeOfDay(EXAMPLE_TIME, settings.clock);
      if (!minutes) {
        return "With no notice, at " + now + " today any free time from " + now +
          " on can be booked.";
      }
      var size = largest(minutes, "minutes", units);
      var first = shifted(minutes, settings.clock);
      var day = first.days === 0 ? "today" : first.days === 1 ? "tomorrow" : "in " + first.days + " days";
      return "With " + possessive(amount(size.count, size.unit)) + " notice, at " + now +
        " today the first bookable time is " + first.text + " " + day + ".";
    },
    horizon: function (days, units, settings) {
      var parts = settings.today.split("-").map(Number);
      var today = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2]));
      var last = new Date(today.getTime() + days * 24 * 60 * 60 * 1000);
      var size = largest(days, "days", units);
      return "With " + amount(size.count, size.unit) + ", on " + dayMonth(today, false) +
        " people can book times until " +
        dayMonth(last, last.getUTCFullYear() !== today.getUTCFullYear()) + ".";
    },
    "daily-cap": function (cap) {
      if (!cap) {
        return "With no limit, every free time of a day can be booked.";
      }
      var sessions = cap === 1 ? "1 session is" : cap + " sessions are";
      return "With a limit of " + cap + ", once " + sessions + " booked on a day, " +
        "that day's other times are no longer offered.";
    },
    cutoff: function (hours, units, settings) {
      var start = timeOfDay(EXAMPLE_TIME, settings.clock);
      if (!hours) {
        return "A mentee can cancel or move a " + start + " session until it starts.";
      }
      var size = largest(hours, "hours", units);
      var until = shifted(-hours * 60, settings.clock);
      var day = until.days === 0 ? "the same day" : until.days === -1 ? "the day before" : -until.days + " days before";
      return "With " + amount(size.count, size.unit) + ", a mentee can cancel or move a " +
        start + " session until " + until.text + (until.days < -1 ? ", " : " ") + day + ".";
    },
  };

  // The rule's value in its stored unit: { value } (undefined for an empty
  // daily cap: no limit), or null when it is not one the form accepts (the
  // server then shows no example either).
  function readValue(rule) {
    var group = rule.querySelector("[data-duration]");
    var number = rule.querySelector("input");
    var text = number.value.trim();
    if (text === "") {
      return group ? null : { value: undefined };
    }
    if (!/^\d+$/.test(text)) {
      return null;
    }
    var value = parseInt(text, 10);
    var least = Number(number.min || 0);
    var most = number.max ? Number(number.max) : Infinity;
    if (group) {
      var unit = group.querySelector("select").value;
      value = (value * UNIT_MINUTES[unit]) / UNIT_MINUTES[group.dataset.baseUnit];
      least = Number(group.dataset.min);
      most = Number(group.dataset.max);
    }
    return value < least || value > most ? null : { value: value };
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-booking-rules]").forEach(function (container) {
      container.querySelectorAll("[data-rule]").forEach(function (rule) {
        var write = EXAMPLES[rule.dataset.rule];
        var example = rule.querySelector("[data-rule-example]");
        var group = rule.querySelector("[data-duration]");
        var units = group ? group.dataset.units.split(" ") : [];
        if (!write || !example) {
          return;
        }
        function update() {
          // Read each time: the clock is the page's, which may change.
          var settings = { clock: container.dataset.clock, today: container.dataset.today };
          var read = readValue(rule);
          example.textContent = read === null ? "" : write(read.value, units, settings);
        }
        rule.addEventListener("input", update);
        rule.addEventListener("change", update);
      });
    });
  });
})();
