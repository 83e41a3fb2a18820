"""The reader's clock in Chromium (issue 17, item 2): a visitor whose browser
writes 12-hour times (American English) gets them on the picker once the
first page has told the site; a British one keeps 24-hour times."""

import pytest
from playwright.sync_api import expect

from conftest import new_page

from .factories import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NINE = 'time[datetime="2026-06-01T13:00:00Z"]'  # Monday 09:00 in New York


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.mark.parametrize(("locale", "shown"), [("en-US", "9:00 AM"), ("en-GB", "09:00")])
def test_the_picker_reads_the_browsers_clock(browser, live_server, mentor, locale, shown):
    context, page = new_page(browser, live_server, "America/New_York", locale=locale)
    try:
        page.goto("/")  # timezone.js tells the site the zone and the clock
        page.goto(f"/mentors/{mentor.slug}/book/?type=intro-call&week=2026-06-01")
        expect(page.locator(NINE)).to_have_text(shown)
    finally:
        context.close()
