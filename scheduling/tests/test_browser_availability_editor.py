"""The availability editor in Chromium (issue 17, items 1 and 3): a week
edited in place with htmx, counted to load no page at all (add and remove a
range, copy a day to two chosen days, undo, copy again, save and the preview
refreshed); an error beside its field, focused; the same page without
JavaScript as plain forms; the week folded into summary lines on a phone; time
off "until 24 Dec" read as through 24 December, removed in place.

Mondays to Fridays 09:00-12:00 in Berlin, on a clock frozen at Thursday 26
November 2026, 13:00 there (the live server's clock too)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from conftest import axe_violations, new_page, shoot, submit_login, watch_browser_problems
from scheduling.models import Availability
from scheduling.tests.factories import mentor_with_hours

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = NOW.date() - timedelta(days=NOW.weekday())
FRIDAY = MONDAY + timedelta(days=4)
SATURDAY = MONDAY + timedelta(days=5)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
NINE_TO_TWELVE = [(time(9), time(12))]


@pytest.fixture(autouse=True)
def frozen_now(time_machine):
    """Frozen in every thread, the live server's too."""
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def mentor(db):
    return mentor_with_hours(
        zone="Europe/Berlin",
        weekly=dict.fromkeys(range(5), NINE_TO_TWELVE),
        starting=MONDAY,
    )


def open_editor(browser, live_server, mentor, viewport, **options):
    """A page signed in as the mentor, on the editor, at ``viewport``; returns
    (context, page, loads): ``loads`` collects every page the main frame loads
    from then on, which in-place editing must leave empty."""
    context, page = new_page(browser, live_server, "Europe/Berlin", viewport=viewport, **options)
    submit_login(page, mentor.user.email)
    expect(page.get_by_role("status").first).to_contain_text("Successfully signed in")
    page.goto(f"/mentors/{mentor.slug}/availability/")
    expect(page.get_by_role("heading", name="Your availability")).to_be_visible()
    loads: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: loads.append(frame.url) if frame == page.main_frame else None,
    )
    return context, page, loads


def stored_week(mentor) -> dict[int, list[tuple[time, time]]]:
    """The weekly hours in the database: weekday → local (start, end)."""
    codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
    week: dict[int, list] = {}
    for row in Availability.objects.filter(mentor=mentor, recurrence__startswith="RRULE"):
        weekday = codes.index(row.recurrence.split("BYDAY=")[1][:2])
        week.setdefault(weekday, []).append(
            (row.start.astimezone(BERLIN).time(), row.end.astimezone(BERLIN).time())
        )
    return {weekday: sorted(ranges) for weekday, ranges in sorted(week.items())}


def range_select(page, day: str, number: int, end: str):
    return page.get_by_label(f"{day}, range {number}: {end}", exact=True)


def expect_range(page, day: str, number: int, start: str, end: str) -> None:
    expect(range_select(page, day, number, "start")).to_have_value(start)
    expect(range_select(page, day, number, "end")).to_have_value(end)


def copy(page, source: int, targets: list[str], screenshot: str = "") -> None:
    """Open the copy menu of weekday ``source``, check nothing is ticked, tick
    ``targets`` (and take ``screenshot``), copy."""
    menu = page.locator(f"#copy-menu-{source}")
    if not menu.evaluate("menu => menu.open"):
        page.locator(f"#copy-{source}").click()
    boxes = menu.get_by_role("checkbox")
    expect(boxes).to_have_count(6)
    for box in boxes.all():
        expect(box).not_to_be_checked()
    for name in targets:
        menu.get_by_label(name, exact=True).check()
    if screenshot:
        shoot(page, screenshot)
    menu.get_by_role("button", name="Copy", exact=True).click()


def test_a_week_edited_in_place_loads_no_page(browser, live_server, mentor):
    context, page, loads = open_editor(browser, live_server, mentor, DESKTOP)
    problems = watch_browser_problems(page)
    try:
        page.evaluate("window.editorMarker = 'kept'")
        unsaved = page.locator("#weekly-unsaved")
        preview = page.locator("#availability-preview")
        expect(unsaved).to_be_hidden()
        expect(preview.locator(f'[data-day="{FRIDAY:%Y-%m-%d}"]')).to_have_count(1)
        expect(preview.locator(f'[data-day="{SATURDAY:%Y-%m-%d}"]')).to_have_count(0)

        # Add a range to Monday: an hour, an hour after the last one, focused.
        page.get_by_role("button", name="Add a range on Monday").click()
        expect_range(page, "Monday", 2, "13:00", "14:00")
        expect(range_select(page, "Monday", 2, "start")).to_be_focused()
        expect(unsaved).to_be_visible()
        range_select(page, "Monday", 2, "start").select_option("14:00")
        range_select(page, "Monday", 2, "end").select_option("17:00")

        # Remove Friday's only range: Friday is off.
        page.get_by_role("button", name="Remove Friday, range 1").click()
        friday = page.locator("#weekday-4")
        expect(friday).to_contain_text("Unavailable")
        expect(page.get_by_role("switch", name="Friday available")).to_have_attribute(
            "aria-checked", "false"
        )

        # Copy Monday to Wednesday and Saturday, then undo it.
        copy(page, 0, ["Wednesday", "Saturday"], screenshot="availability-editor-copy-menu")
        expect(page.locator("#weekly-hours")).to_contain_text(
            "Copied Monday's hours to Wednesday and Saturday."
        )
        expect_range(page, "Wednesday", 2, "14:00", "17:00")
        expect_range(page, "Saturday", 1, "09:00", "12:00")
        undo = page.get_by_role("button", name="Undo the copy")
        expect(undo).to_be_focused()
        undo.click()
        expect(page.locator("#weekly-hours")).to_contain_text("The copy was undone.")
        expect(range_select(page, "Wednesday", 2, "start")).to_have_count(0)
        expect_range(page, "Wednesday", 1, "09:00", "12:00")
        expect(page.locator("#weekday-5")).to_contain_text("Unavailable")
        expect_range(page, "Monday", 2, "14:00", "17:00")  # kept: not the copy's doing

        # Copy again, to Thursday and Saturday, and save.
        copy(page, 0, ["Thursday", "Saturday"])
        expect_range(page, "Thursday", 2, "14:00", "17:00")
        expect_range(page, "Saturday", 2, "14:00", "17:00")
        expect(unsaved).to_be_visible()
        assert stored_week(mentor) == dict.fromkeys(range(5), NINE_TO_TWELVE)

        page.get_by_role("button", name="Save weekly hours").click()
        expect(page.locator("#weekly-hours")).to_contain_text("Your weekly hours were saved.")
        expect(unsaved).to_be_hidden()
        # The preview followed: Saturday has times now, this Friday none.
        expect(preview.locator(f'[data-day="{SATURDAY:%Y-%m-%d}"]')).to_contain_text("14:00")
        expect(preview.locator(f'[data-day="{FRIDAY:%Y-%m-%d}"]')).to_have_count(0)
        expect(page.locator("#availability-announce")).to_have_text("Your weekly hours were saved.")
        two_ranges = [(time(9), time(12)), (time(14), time(17))]
        assert stored_week(mentor) == {
            0: two_ranges,
            1: NINE_TO_TWELVE,
            2: NINE_TO_TWELVE,
            3: two_ranges,
            5: two_ranges,
        }

        assert loads == []
        assert page.evaluate("window.editorMarker") == "kept"
        shoot(page, "availability-editor-desktop")
        assert problems == []
    finally:
        context.close()


def test_an_error_shows_beside_its_field_and_takes_the_focus(browser, live_server, mentor):
    context, page, loads = open_editor(browser, live_server, mentor, DESKTOP)
    try:
        before = stored_week(mentor)
        range_select(page, "Thursday", 1, "end").select_option("08:00")
        page.get_by_role("button", name="Save weekly hours").click()

        end = range_select(page, "Thursday", 1, "end")
        expect(end).to_be_focused()
        expect(end).to_have_attribute("aria-invalid", "true")
        error = page.locator(f"#{end.get_attribute('aria-describedby')}")
        expect(error).to_have_text("End after the start (09:00).")
        # Right under the field, on the screen, not in a message at the top.
        field_box, error_box = end.bounding_box(), error.bounding_box()
        assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 12
        assert abs(error_box["x"] - field_box["x"]) < 2
        assert error.evaluate("e => e.getBoundingClientRect().bottom <= window.innerHeight")
        expect(page.locator("#weekly-hours")).to_contain_text("Nothing was saved")
        expect(page.locator("#weekly-unsaved")).to_be_visible()
        assert stored_week(mentor) == before
        assert loads == []
        shoot(page, "availability-editor-error")
    finally:
        context.close()


def test_without_javascript_the_same_buttons_are_plain_forms(browser, live_server, mentor):
    context, page, loads = open_editor(
        browser, live_server, mentor, DESKTOP, java_script_enabled=False
    )
    try:
        page.get_by_role("button", name="Add a range on Saturday").click()
        expect_range(page, "Saturday", 1, "09:00", "17:00")
        expect(page.locator("#weekly-unsaved")).to_be_visible()
        copy(page, 5, ["Sunday"])
        expect_range(page, "Sunday", 1, "09:00", "17:00")
        page.get_by_role("button", name="Undo the copy").click()
        expect(page.locator("#weekday-6")).to_contain_text("Unavailable")
        page.get_by_role("button", name="Save weekly hours").click()
        expect(
            page.get_by_role("status").filter(has_text="weekly hours were saved")
        ).to_be_visible()
        assert stored_week(mentor)[5] == [(time(9), time(17))]
        assert 6 not in stored_week(mentor)
        assert len(loads) == 4  # a page for each button (Save: its redirect)
    finally:
        context.close()


def test_on_a_phone_the_week_folds_into_summary_lines(browser, live_server, mentor):
    context, page, loads = open_editor(browser, live_server, mentor, PHONE)
    problems = watch_browser_problems(page)
    try:
        week = page.locator("#weekly-hours")
        lines = week.locator("summary.week-group-summary")
        expect(lines).to_have_text(["Mon–Fri 09:00–12:00", "Sat–Sun Unavailable"])
        expect(page.get_by_role("switch", name="Monday available")).to_be_hidden()
        # The whole page (5,048 px before the week folded), and the week alone.
        height = page.evaluate("document.documentElement.scrollHeight")
        week_height = week.bounding_box()["height"]
        print(f"availability editor on a phone: {height} px, the week {week_height:.0f} px")
        assert height < 2600, height
        assert week_height < 400, week_height
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shoot(page, "availability-editor-phone")

        # Open the weekend, turn Saturday on: it stays open, the rest folds.
        lines.nth(1).click()
        page.get_by_role("switch", name="Saturday available").click()
        expect_range(page, "Saturday", 1, "09:00", "17:00")
        expect(page.get_by_role("switch", name="Saturday available")).to_be_focused()
        expect(lines).to_have_text(["Mon–Fri 09:00–12:00", "Sat 09:00–17:00", "Sun Unavailable"])
        expect(page.get_by_role("switch", name="Monday available")).to_be_hidden()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shoot(page, "availability-editor-phone-saturday")
        page.get_by_role("button", name="Save weekly hours").click()
        expect(week).to_contain_text("Your weekly hours were saved.")
        assert stored_week(mentor)[5] == [(time(9), time(17))]
        assert loads == []
        assert problems == [], "\n".join(problems[:5])
    finally:
        context.close()


def test_time_off_until_a_date_reads_through_that_date_and_goes_in_place(
    browser, live_server, mentor
):
    context, page, loads = open_editor(browser, live_server, mentor, DESKTOP)
    try:
        christmas_eve = date(NOW.year, 12, 24)
        section = page.locator("#time-off")
        section.get_by_label("From").fill(f"{christmas_eve - timedelta(days=3):%Y-%m-%d}")
        section.get_by_label("Until").fill(f"{christmas_eve:%Y-%m-%d}")
        expect(section.locator("#id_end_time")).to_have_value("")  # "End of the day"
        section.get_by_role("button", name="Add time off").click()

        item = section.locator("[data-time-off]")
        expect(item).to_contain_text("Mon 21 Dec – Thu 24 Dec 2026")
        expect(section).not_to_contain_text("25 Dec")
        expect(section).to_contain_text(
            "Time off added: Mon 21 Dec – Thu 24 Dec 2026 (Europe/Berlin)."
        )
        row = Availability.objects.get(mentor=mentor, kind=Availability.Kind.BLOCKED)
        assert row.end == datetime(2026, 12, 25, tzinfo=BERLIN)
        shoot(page, "availability-editor-time-off")

        item.get_by_role("button", name="Remove the time off Mon 21 Dec – Thu 24 Dec 2026").click()
        expect(section).to_contain_text("No time off coming up.")
        expect(page.locator("#time-off-title")).to_be_focused()
        assert not Availability.objects.filter(pk=row.pk).exists()
        assert loads == []
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_editors_states_have_no_axe_violations(browser, live_server, mentor, viewport):
    """What the axe suite cannot reach by loading a page: an error beside its
    field, a copy menu open with its error, the undo offered, the week folded
    and one day opened on a phone. The context bypasses our CSP for axe."""
    context, page, loads = open_editor(browser, live_server, mentor, viewport, bypass_csp=True)
    found: dict[str, list[str]] = {}
    try:
        found["as loaded"] = axe_violations(page)
        if viewport == PHONE:
            page.locator("summary.week-group-summary").first.click()
            found["a group opened"] = axe_violations(page)
        range_select(page, "Thursday", 1, "end").select_option("08:00")
        page.get_by_role("button", name="Save weekly hours").click()
        expect(range_select(page, "Thursday", 1, "end")).to_be_focused()
        found["an error"] = axe_violations(page)
        page.locator("#copy-3").click()  # Thursday's, open beside its error
        page.locator("#copy-menu-3").get_by_role("button", name="Copy", exact=True).click()
        expect(page.locator("#copy-menu-3")).to_contain_text("Choose the days to copy")
        found["a copy menu with its error"] = axe_violations(page)
        copy(page, 3, ["Saturday"])
        expect(page.get_by_role("button", name="Undo the copy")).to_be_focused()
        found["undo offered"] = axe_violations(page)
        assert loads == []
    finally:
        context.close()
    assert not any(found.values()), "axe-core found:\n" + "\n".join(
        f"{name}: {line}" for name, lines in found.items() for line in lines
    )
