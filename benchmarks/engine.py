"""The slot engine on its own: four weeks of a busy mentor, in memory.

5 weekly rules, 3 date overrides (a day off, a day with other hours, an
afternoon blocked), 40 sessions and 100 busy intervals; ``compute_slots`` for
28 days, timed many times. Target (issue 4): median ≤ 2 ms.

``rules_age_weeks`` starts the weekly rules that many weeks earlier (same
weekdays and hours): a mentor who set their hours years ago. Expanding a rule
must not cost more the older it is.
"""

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.slots import BookingRules, Window, compute_slots

TARGET_MS = 2.0


def scenario(seed: int = 4, rules_age_weeks: int = 0):
    rng = random.Random(seed)
    zone = ZoneInfo("America/New_York")
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    monday = datetime(2026, 3, 2, tzinfo=zone)
    first_monday = monday - timedelta(weeks=rules_age_weeks)
    windows = [
        Window(
            "available",
            "America/New_York",
            first_monday.replace(hour=9) + timedelta(days=day),
            first_monday.replace(hour=17) + timedelta(days=day),
            f"RRULE:FREQ=WEEKLY;BYDAY={code}\nEXDATE:20260311T090000",
        )
        for day, code in enumerate(["MO", "TU", "WE", "TH", "FR"])
    ]
    windows += [
        # The day off above gets other hours; an afternoon is blocked; a
        # Saturday morning is added.
        Window("available", "America/New_York", datetime(2026, 3, 11, 12, tzinfo=zone),
               datetime(2026, 3, 11, 15, tzinfo=zone)),
        Window("blocked", "America/New_York", datetime(2026, 3, 18, 13, tzinfo=zone),
               datetime(2026, 3, 18, 18, tzinfo=zone)),
        Window("available", "America/New_York", datetime(2026, 3, 21, 9, tzinfo=zone),
               datetime(2026, 3, 21, 12, tzinfo=zone)),
    ]  # fmt: skip
    start, end = now, now + timedelta(days=28)

    def random_interval(max_minutes):
        begin = start + timedelta(minutes=rng.randrange(0, 28 * 24 * 60, 15))
        return begin, begin + timedelta(minutes=rng.randrange(15, max_minutes, 15))

    sessions = [random_interval(90) for _ in range(40)]
    busy = [random_interval(180) for _ in range(100)]
    rules = BookingRules(
        duration=timedelta(minutes=30),
        buffer=timedelta(minutes=10),
        minimum_notice=timedelta(hours=12),
        horizon=timedelta(days=60),
        max_sessions_per_day=6,
        mentor_timezone="America/New_York",
    )
    return {
        "windows": windows,
        "sessions": sessions,
        "busy": busy,
        "rules": rules,
        "now": now,
        "start": start,
        "end": end,
    }


def measure(runs: int = 300, rules_age_weeks: int = 0) -> dict:
    data = scenario(rules_age_weeks=rules_age_weeks)
    slots = compute_slots(**data)  # warm-up (and recurrence parsing cache)
    timings = []
    for _ in range(runs):
        began = time.perf_counter()
        compute_slots(**data)
        timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    return {
        "slots": len(slots),
        "median_ms": statistics.median(timings),
        "p95_ms": timings[int(len(timings) * 0.95) - 1],
        "target_ms": TARGET_MS,
        "rules_age_weeks": rules_age_weeks,
    }


def format_result(result: dict) -> str:
    verdict = "meets" if result["median_ms"] <= result["target_ms"] else "MISSES"
    age = result.get("rules_age_weeks", 0)
    rules = f"5 weekly rules begun {age} weeks earlier" if age else "5 weekly rules"
    return (
        f"slot engine, 4 weeks ({rules}, 3 overrides, 40 sessions, 100 busy): "
        f"{result['slots']} slots, median {result['median_ms']:.3f} ms, "
        f"p95 {result['p95_ms']:.3f} ms ({verdict} the {result['target_ms']:.0f} ms target)"
    )
