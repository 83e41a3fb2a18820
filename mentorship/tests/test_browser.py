"""End-to-end tests of profiles and the directory, driven through Chromium.

The ``page`` fixture (conftest.py) opens a browser context on the live server
with the time zone Europe/Berlin. The live server runs in a thread of this
process, so the test shares the database and the locmem email outbox.
"""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from conftest import confirmation_link, log_in, new_page, shoot, submit_signup
from mentorship.models import ExpertiseTag, MentorProfile, SocialLink
from scheduling.tests.factories import mentor_without_hours

PASSWORD = "correct-Horse-battery-42"
DEMO_PASSWORD = "mentorship-demo"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


# --- Helpers ---------------------------------------------------------------------------


def navbar(page):
    return page.get_by_role("navigation", name="Main")


def results(page):
    return page.locator("#directory-results")


def cards(page):
    return results(page).locator("article.mentor-card")


def card_names(page) -> list[str]:
    return [name.strip() for name in cards(page).locator("h3").all_inner_texts()]


def small_directory() -> dict[str, ExpertiseTag]:
    tags = {
        slug: ExpertiseTag.objects.create(name=name, slug=slug)
        for name, slug in [("Python", "python"), ("Go", "go"), ("UX design", "ux-design")]
    }
    for name, headline, tag in [
        ("Maya Mentor", "Staff engineer for payment systems", "python"),
        ("Kwame Asante", "Engineering manager in fintech", "go"),
        ("Sofia Rossi", "Product designer, design systems", "ux-design"),
    ]:
        mentor_without_hours(zone="UTC", name=name, headline=headline, tags=[tags[tag]])
    return tags


# --- 1. Sign up, become a mentor, be found ----------------------------------------------


@pytest.mark.browser
def test_sign_up_become_a_mentor_and_be_found_in_the_directory(page, mailoutbox):
    kubernetes = ExpertiseTag.objects.create(name="Kubernetes", slug="kubernetes")
    go = ExpertiseTag.objects.create(name="Go", slug="go")
    ExpertiseTag.objects.create(name="Public speaking", slug="public-speaking")
    ExpertiseTag.objects.create(name="Python", slug="python")
    mentor_without_hours(zone="UTC", name="Someone Else", headline="Not matching the filter")

    # Sign up through the form and confirm the address from the email.
    page.goto("/")
    navbar(page).get_by_role("link", name="Sign up", exact=True).click()
    submit_signup(page, name="Ada Lovelace", email="ada@example.com", password=PASSWORD)
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    page.goto(confirmation_link(mailoutbox, "ada@example.com"))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    if page.url.rstrip("/").endswith("/accounts/login"):
        log_in(page, "ada@example.com", PASSWORD)
    expect(navbar(page).locator("#account-menu")).to_contain_text("Ada")

    # Become a mentor.
    navbar(page).get_by_role("link", name="Become a mentor").click()
    expect(page.get_by_role("heading", name="Become a mentor")).to_be_visible()
    page.get_by_role("button", name="Create my mentor profile").click()
    expect(page).to_have_url(re.compile(r"/mentors/ada-lovelace/edit/$"))
    expect(page.get_by_role("status").first).to_contain_text("You are now a mentor.")
    expect(navbar(page).get_by_role("link", name="My mentor profile")).to_be_visible()

    # Fill the editor.
    page.get_by_label("Headline").fill("Platform engineer · calm on-call")
    page.get_by_label("Biography").fill(
        "I run the platform team at a logistics company.\n\n"
        "Bring me your flaky deploys and your noisy alerts."
    )
    tag_search = page.get_by_label("Filter the list")
    options = page.locator("#expertise-options")
    tag_search.fill("kub")
    expect(options.get_by_label("Kubernetes")).to_be_visible()
    expect(options.get_by_label("Python")).to_be_hidden()
    expect(options.get_by_label("Public speaking")).to_be_hidden()
    options.get_by_label("Kubernetes").check()
    tag_search.fill("go")
    expect(options.get_by_label("Go", exact=True)).to_be_visible()
    # A ticked tag stays visible while filtering for another one.
    expect(options.get_by_label("Kubernetes")).to_be_visible()
    expect(options.get_by_label("Python")).to_be_hidden()
    options.get_by_label("Go", exact=True).check()
    tag_search.fill("")
    expect(options.get_by_label("Python")).to_be_visible()
    page.locator("#id_links-0-platform").select_option(label="GitHub")
    page.locator("#id_links-0-url").fill("https://github.com/ada-demo")
    page.get_by_role("button", name="Save profile").last.click()

    expect(page.get_by_role("status").first).to_contain_text("Your mentor profile was saved.")
    mentor = MentorProfile.objects.get(user__email="ada@example.com")
    assert mentor.slug == "ada-lovelace"
    assert mentor.headline == "Platform engineer · calm on-call"
    assert set(mentor.expertise.all()) == {kubernetes, go}
    assert list(mentor.social_links.values_list("platform", "url")) == [
        (SocialLink.Platform.GITHUB, "https://github.com/ada-demo")
    ]

    # Find yourself in the directory with a tag filter; htmx swaps the results.
    page.goto("/mentors/")
    expect(cards(page)).to_have_count(2)
    page.evaluate("window.__sameDocument = true")
    page.locator("#tag-kubernetes").check()
    expect(cards(page)).to_have_count(1)
    card = cards(page).first
    expect(card).to_contain_text("Ada Lovelace")
    expect(card).to_contain_text("Platform engineer · calm on-call")
    expect(page).to_have_url(re.compile(r"[?&]tag=kubernetes(&|$)"))
    assert page.evaluate("window.__sameDocument") is True

    card.get_by_role("link", name="Ada Lovelace").click()
    expect(page).to_have_url(re.compile(r"/mentors/ada-lovelace/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    expect(page.get_by_text("Platform engineer · calm on-call")).to_be_visible()
    paragraphs = page.locator(".biography p")
    expect(paragraphs).to_have_count(2)
    expect(paragraphs.nth(0)).to_have_text("I run the platform team at a logistics company.")
    expect(paragraphs.nth(1)).to_have_text("Bring me your flaky deploys and your noisy alerts.")
    expect(page.get_by_role("link", name="GitHub")).to_have_attribute(
        "href", "https://github.com/ada-demo"
    )

    # The filtered URL is shareable: opening it afresh shows the same result.
    page.goto("/mentors/?tag=kubernetes")
    expect(page.locator("#tag-kubernetes")).to_be_checked()
    assert card_names(page) == ["Ada Lovelace"]


@pytest.mark.browser
def test_back_from_a_mentor_page_restores_the_filtered_directory(page):
    """htmx pushed ``/mentors/?tag=go`` after fetching only the results fragment
    there; going back must show the whole page, not that cached fragment."""
    small_directory()
    page.goto("/mentors/")
    page.locator("#tag-go").check()
    expect(page).to_have_url(re.compile(r"[?&]tag=go(&|$)"))
    expect(cards(page)).to_have_count(1)
    cards(page).first.get_by_role("link", name="Kwame Asante").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kwame Asante")

    page.go_back()
    expect(page).to_have_url(re.compile(r"/mentors/\?.*tag=go(&|$)"))
    expect(page.get_by_role("heading", name="Find a mentor")).to_be_visible()
    expect(navbar(page)).to_be_visible()
    expect(page.locator("#tag-go")).to_be_checked()
    assert card_names(page) == ["Kwame Asante"]


# --- 2. Without JavaScript ----------------------------------------------------------------


@pytest.mark.browser
def test_directory_filters_without_javascript(browser, live_server):
    small_directory()
    context, page = new_page(
        browser, live_server, "Europe/Berlin", java_script_enabled=False, **DESKTOP
    )
    try:
        page.goto("/mentors/")
        assert sorted(card_names(page)) == ["Kwame Asante", "Maya Mentor", "Sofia Rossi"]

        page.get_by_label("Search", exact=True).fill("maya")
        page.get_by_role("button", name="Apply").click()
        expect(page).to_have_url(re.compile(r"/mentors/\?q=maya"))
        assert card_names(page) == ["Maya Mentor"]
        expect(results(page)).to_contain_text("1 mentor matching “maya”")

        page.get_by_label("Search", exact=True).fill("")
        # Without JavaScript the tag list starts folded: unfold it.
        page.locator("summary", has_text="Expertise").click()
        page.get_by_label("UX design", exact=True).check()
        page.get_by_role("button", name="Apply").click()
        expect(page).to_have_url(re.compile(r"[?&]tag=ux-design(&|$)"))
        assert card_names(page) == ["Sofia Rossi"]
        expect(page.get_by_label("UX design", exact=True)).to_be_checked()

        page.get_by_label("Search", exact=True).fill("maya")
        page.get_by_role("button", name="Apply").click()
        assert card_names(page) == []
        expect(results(page)).to_contain_text("No mentors match “maya” with those tags")
        page.get_by_role("link", name="Show all mentors").click()
        assert len(card_names(page)) == 3
    finally:
        context.close()


# --- 3. Search in place -----------------------------------------------------------------


@pytest.mark.browser
def test_directory_search_updates_results_in_place(page):
    small_directory()
    page.goto("/mentors/")
    expect(cards(page)).to_have_count(3)
    page.evaluate("window.__sameDocument = 'still here'")

    page.get_by_label("Search", exact=True).press_sequentially("design", delay=30)

    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_contain_text("Sofia Rossi")
    expect(page).to_have_url(re.compile(r"/mentors/\?(.*&)?q=design(&|$)"))
    assert page.evaluate("window.__sameDocument") == "still here"
    # Only the results were swapped: the search box keeps its focus and text.
    expect(page.get_by_label("Search", exact=True)).to_be_focused()
    expect(page.get_by_label("Search", exact=True)).to_have_value("design")

    page.get_by_label("Sort by").select_option("name")
    expect(page).to_have_url(re.compile(r"sort=name"))
    page.get_by_label("Search", exact=True).fill("")
    expect(cards(page)).to_have_count(3)
    assert card_names(page) == ["Kwame Asante", "Maya Mentor", "Sofia Rossi"]
    assert page.evaluate("window.__sameDocument") == "still here"


# --- 4. Screenshots -------------------------------------------------------------------------


@pytest.mark.browser
def test_screenshots_of_directory_and_mentor_page(page, screenshot, browser, live_server):
    call_command("seed_demo")

    page.goto("/mentors/")
    expect(cards(page).first).to_be_visible()
    screenshot("directory-desktop")

    page.goto("/mentors/maya-mentor/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Maya Mentor")
    screenshot("mentor-page")

    page.goto("/mentors/")
    page.get_by_label("Search", exact=True).fill("zzzz")
    expect(results(page)).to_contain_text("No mentors match “zzzz”")
    expect(page.get_by_role("link", name="Show all mentors")).to_be_visible()
    screenshot("directory-empty")

    phone_context, phone = new_page(browser, live_server, "Europe/Berlin", **PHONE)
    try:
        phone.goto("/mentors/")
        expect(cards(phone).first).to_be_visible()
        no_overflow = phone.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        shoot(phone, "directory-phone")
        assert no_overflow, "the directory scrolls sideways on a phone"
    finally:
        phone_context.close()


@pytest.mark.browser
def test_screenshots_of_the_editors(page, screenshot, browser, live_server):
    call_command("seed_demo")

    log_in(page, "mentor@example.com", DEMO_PASSWORD)
    page.goto("/mentors/maya-mentor/edit/")
    expect(page.get_by_label("Headline")).to_have_value(re.compile("Staff engineer"))
    screenshot("mentor-edit")

    mentee_context, mentee = new_page(browser, live_server, "Europe/Berlin", **DESKTOP)
    try:
        log_in(mentee, "mentee@example.com", DEMO_PASSWORD)
        mentee.goto("/me/mentee/")
        expect(mentee.get_by_role("heading", name="Your mentee profile")).to_be_visible()
        shoot(mentee, "mentee-edit")
    finally:
        mentee_context.close()

    UserFactory(name="Fresh Person", email="fresh@example.com")
    fresh_context, fresh = new_page(browser, live_server, "Europe/Berlin", **DESKTOP)
    try:
        log_in(fresh, "fresh@example.com")
        navbar(fresh).get_by_role("link", name="Become a mentor").click()
        expect(fresh.get_by_role("heading", name="Become a mentor")).to_be_visible()
        shoot(fresh, "become-mentor")
    finally:
        fresh_context.close()


# --- 5. No console errors under the CSP ---------------------------------------------------


@pytest.mark.browser
def test_directory_and_mentor_pages_log_no_console_errors(page, browser_problems):
    call_command("seed_demo")
    problems = browser_problems

    response = page.goto("/mentors/")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("[typeof window.bootstrap, typeof window.htmx]") == ["object", "object"]
    # Exercise htmx: a search, a tag filter and a sort, each swapping the results.
    page.get_by_label("Search", exact=True).fill("engineer")
    expect(page).to_have_url(re.compile(r"q=engineer"))
    page.locator("#tag-python").check()
    expect(page).to_have_url(re.compile(r"tag=python"))
    page.get_by_label("Sort by").select_option("newest")
    expect(page).to_have_url(re.compile(r"sort=newest"))
    page.wait_for_load_state("networkidle")

    response = page.goto("/mentors/maya-mentor/")
    assert response is not None and response.status == 200
    page.wait_for_load_state("networkidle")

    log_in(page, "mentor@example.com", DEMO_PASSWORD)
    page.goto("/mentors/maya-mentor/edit/")
    page.get_by_label("Filter the list").fill("data")
    expect(page.locator("#expertise-options").get_by_label("PostgreSQL")).to_be_hidden()
    page.wait_for_load_state("networkidle")

    assert problems == []
