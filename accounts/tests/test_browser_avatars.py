"""An avatar uploaded on the settings page, driven through Chromium: the pages
show its renditions, and the browser decodes them. Screenshots at 1280 and
390 px land in test-artifacts/screenshots/avatar-*.png."""

import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from accounts.models import User
from conftest import log_in, new_page, shoot, watch_browser_problems
from mentorship.tests.factories import MentorProfileFactory

from .factories import UserFactory

PHONE = {"width": 390, "height": 844}


def portrait(path) -> None:
    """A 900 × 600 picture (landscape, so the square renditions crop it) with
    a face-like shape in the middle, so the screenshots show what was kept."""
    image = Image.new("RGB", (900, 600), (40, 90, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 420, 900, 600), fill=(230, 200, 120))
    draw.ellipse((330, 110, 570, 380), fill=(245, 205, 170))  # face
    draw.ellipse((390, 200, 420, 230), fill=(30, 30, 30))  # eyes
    draw.ellipse((480, 200, 510, 230), fill=(30, 30, 30))
    draw.arc((400, 250, 500, 330), start=20, end=160, fill=(160, 40, 40), width=8)  # smile
    image.save(path, format="PNG")


def loaded_width(page, locator) -> int:
    """The picture's natural width once the browser has decoded it (0 if it failed)."""
    expect(locator).to_be_visible()
    page.wait_for_function("el => el.complete", arg=locator.element_handle())
    return locator.evaluate("el => el.naturalWidth")


@pytest.mark.browser
def test_upload_an_avatar_and_see_its_renditions(browser, live_server, tmp_path):
    grace = UserFactory(name="Grace Hopper", email="grace@example.com")
    MentorProfileFactory(user=grace, slug="grace-hopper", headline="Compilers and COBOL")
    MentorProfileFactory(user=UserFactory(name="Alan Turing"), headline="Computability")
    picture = tmp_path / "portrait.pdf"  # a PNG; the name must not matter
    portrait(picture)

    context, page = new_page(
        browser, live_server, zone="Europe/Berlin", viewport={"width": 1280, "height": 900}
    )
    problems = watch_browser_problems(page)
    try:
        log_in(page, "grace@example.com")
        page.goto("/accounts/settings/")
        page.get_by_label("Avatar").set_input_files(str(picture))
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("status")).to_contain_text("Your settings were saved.")

        grace.refresh_from_db()
        assert re.fullmatch(r"avatars/[0-9a-f]{32}\.webp", grace.avatar.name)
        stem = grace.avatar.name.removesuffix(".webp")
        header = page.locator("main img.avatar-lg")
        navbar = page.locator("#account-menu img.avatar-sm")
        expect(header).to_have_attribute("src", f"/media/{stem}-320.webp")
        expect(navbar).to_have_attribute("src", f"/media/{stem}-64.webp")
        assert loaded_width(page, header) == 320
        assert loaded_width(page, navbar) == 64
        shoot(page, "avatar-settings-1280")

        # The live server answers /media/ itself, before any middleware
        # (Django's LiveServerThread); the headers of the app's own media
        # route are checked over the test client in test_avatars.py.

        page.goto("/mentors/")
        card = page.locator("article.mentor-card", has_text="Grace Hopper").locator("img")
        expect(card).to_have_attribute("src", f"/media/{stem}-160.webp")
        assert loaded_width(page, card) == 160
        # The other mentor has no picture: initials instead.
        other = page.locator("article.mentor-card", has_text="Alan Turing")
        expect(other.locator(".avatar-initials")).to_have_text("AT")
        shoot(page, "avatar-directory-1280")

        page.goto("/mentors/grace-hopper/")
        mentor_picture = page.locator("main img.avatar-lg")
        expect(mentor_picture).to_have_attribute("src", f"/media/{stem}-320.webp")
        assert loaded_width(page, mentor_picture) == 320

        page.set_viewport_size(PHONE)
        page.goto("/accounts/settings/")
        assert loaded_width(page, page.locator("main img.avatar-lg")) == 320
        shoot(page, "avatar-settings-390")
        page.goto("/mentors/")
        assert loaded_width(page, card) == 160
        fits = page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        shoot(page, "avatar-directory-390")
        assert fits, "the directory scrolls sideways on a phone"

        # Clearing it brings the initials back everywhere.
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto("/accounts/settings/")
        page.get_by_label("Clear").check()
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_role("status")).to_contain_text("Your settings were saved.")
        expect(page.locator("main .avatar-initials")).to_have_text("GH")
        assert not User.objects.get(pk=grace.pk).avatar
        assert problems == []
    finally:
        context.close()
