from benchmarks.engine import format_result, measure, scenario
from scheduling.slots import compute_slots


def test_scenario_has_the_promised_shape():
    data = scenario()
    weekly = [window for window in data["windows"] if window.recurrence]
    one_off = [window for window in data["windows"] if not window.recurrence]
    assert len(weekly) == 5
    assert len(one_off) == 3
    assert len(data["sessions"]) == 40
    assert len(data["busy"]) == 100
    assert (data["end"] - data["start"]).days == 28
    assert compute_slots(**data)


def test_measure_reports_a_line():
    result = measure(runs=3)
    assert result["slots"] > 100
    assert result["median_ms"] > 0
    assert "slot engine, 4 weeks" in format_result(result)


def test_old_rules_give_the_same_slots_and_say_their_age():
    # Rules begun ten years earlier (same weekdays and hours) offer the same times.
    assert compute_slots(**scenario(rules_age_weeks=520)) == compute_slots(**scenario())
    result = measure(runs=3, rules_age_weeks=520)
    assert "5 weekly rules begun 520 weeks earlier" in format_result(result)
