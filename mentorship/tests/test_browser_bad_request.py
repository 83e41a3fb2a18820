"""The page a request we cannot read gets (``templates/400.html``), in Chromium."""

import pytest
from playwright.sync_api import expect

from conftest import new_page, shoot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height"), [(1280, 900), (390, 844)])
def test_an_address_with_a_nul_gets_a_clear_page_with_a_way_back(
    browser, live_server, width, height
):
    context, page = new_page(browser, live_server, viewport={"width": width, "height": height})
    response = page.goto("/calendar/abc%00.ics")
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("We could not read that request")
    expect(page.get_by_text("The address holds a character that is not allowed.")).to_be_visible()
    shoot(page, f"bad-request-{width}")
    page.get_by_role("link", name="Back to the home page").click()
    expect(page).to_have_url(f"{live_server.url}/")
    context.close()
