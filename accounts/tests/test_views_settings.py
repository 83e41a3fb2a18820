"""The account settings page: every field validated, nothing saved unless all valid."""

import datetime
import io
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from .conftest import image_upload
from .factories import SETTINGS_URL, UserFactory, settings_form_data


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    response = client.get(SETTINGS_URL)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={SETTINGS_URL}"


@pytest.mark.django_db
def test_page_shows_own_details_only(client, user):
    other = UserFactory(name="Someone Else")
    client.force_login(user)
    response = client.get(SETTINGS_URL)
    assert response.status_code == 200
    assert user.email in response.text
    assert other.email not in response.text
    assert 'list="timezone-options"' in response.text
    assert '<option value="Europe/Berlin">' in response.text


@pytest.mark.django_db
def test_valid_edit_saves_everything_and_confirms(client, user):
    client.force_login(user)
    response = client.post(SETTINGS_URL, settings_form_data(avatar=image_upload()), follow=True)
    assert "Your settings were saved." in response.text
    user.refresh_from_db()
    assert user.name == "Ada King"
    assert user.date_of_birth == datetime.date(1990, 12, 10)
    assert user.linkedin_url == "https://www.linkedin.com/in/ada"
    assert user.timezone == "Asia/Kolkata"
    assert user.avatar.name.startswith("avatars/")
    # Stored re-encoded, whatever was uploaded (accounts/tests/test_avatars.py).
    assert user.avatar.name.endswith(".webp")
    # Pages now render in the new zone.
    assert "Times are shown in <strong>Asia/Kolkata</strong>" in response.text


@pytest.mark.django_db
def test_avatar_can_be_removed(client, user, django_capture_on_commit_callbacks):
    client.force_login(user)
    client.post(SETTINGS_URL, settings_form_data(avatar=image_upload()))
    user.refresh_from_db()
    stored = Path(user.avatar.path)
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SETTINGS_URL, settings_form_data(**{"avatar-clear": "on"}))
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.avatar
    assert not stored.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus_Mons", "is not a known time zone"),
        ("timezone", "", "This field is required."),
        ("name", "  ", "This field is required."),
        ("linkedin_url", "http://www.linkedin.com/in/ada", "must start with https://"),
        ("linkedin_url", "https://linkedin.com.evil.example/in/ada", "must point to linkedin.com"),
        ("linkedin_url", "https://example.com/in/ada", "must point to linkedin.com"),
        ("linkedin_url", "not a url", "Enter a valid URL."),
        ("date_of_birth", "31/31/1990", "Enter a valid date."),
    ],
)
def test_invalid_field_is_explained_and_nothing_saved(client, user, field, value, message):
    client.force_login(user)
    before = (user.name, user.timezone, user.date_of_birth, user.linkedin_url)
    response = client.post(SETTINGS_URL, settings_form_data(**{field: value}))
    assert response.status_code == 200
    assert message in response.text
    assert "Nothing was saved" in response.text
    user.refresh_from_db()
    assert (user.name, user.timezone, user.date_of_birth, user.linkedin_url) == before


@pytest.mark.django_db
def test_rejected_form_page_shows_the_saved_name_elsewhere(client, user):
    client.force_login(user)
    response = client.post(
        SETTINGS_URL, settings_form_data(name="Rejected Name", timezone="Bad/Zone")
    )
    assert response.status_code == 200
    # The field keeps what was typed; the navbar and header show what is saved.
    assert 'value="Rejected Name"' in response.text
    assert '<div class="fw-semibold">Ada Lovelace</div>' in response.text
    assert "<span>Ada</span>" in response.text


@pytest.mark.django_db
def test_future_birth_date_is_refused(client, user, time_machine):
    # Frozen, so that no midnight passes between this line and the request.
    time_machine.move_to(timezone.now(), tick=False)
    client.force_login(user)
    # "Today" is the viewer's (the middleware activates their zone): from
    # 22:00 or 23:00 UTC, UTC's tomorrow is already today in Berlin.
    tomorrow = timezone.localdate(timezone=ZoneInfo(user.timezone)) + datetime.timedelta(days=1)
    response = client.post(SETTINGS_URL, settings_form_data(date_of_birth=tomorrow.isoformat()))
    assert response.status_code == 200
    assert "The date of birth cannot be in the future." in response.text
    user.refresh_from_db()
    assert user.date_of_birth is None
    assert user.name == "Ada Lovelace"


@pytest.mark.django_db
def test_non_image_avatar_is_refused(client, user):
    client.force_login(user)
    fake = SimpleUploadedFile("avatar.png", b"<?php echo 'not an image'; ?>", "image/png")
    response = client.post(SETTINGS_URL, settings_form_data(avatar=fake))
    assert response.status_code == 200
    assert "Upload a valid image" in response.text or "not a picture we can read" in response.text
    user.refresh_from_db()
    assert not user.avatar
    assert user.name == "Ada Lovelace"


@pytest.mark.django_db
def test_gif_avatar_is_refused(client, user):
    client.force_login(user)
    gif = image_upload(name="avatar.gif", image_format="GIF", content_type="image/gif")
    response = client.post(SETTINGS_URL, settings_form_data(avatar=gif))
    assert response.status_code == 200
    assert "Pictures must be JPEG, PNG or WebP" in response.text
    user.refresh_from_db()
    assert not user.avatar


@pytest.mark.django_db
def test_oversized_avatar_is_refused(client, user):
    client.force_login(user)
    # A real, valid PNG of noise that is larger than 2 MB.
    buffer = io.BytesIO()
    Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)).save(buffer, format="PNG")
    assert buffer.tell() > 2 * 1024 * 1024
    big = SimpleUploadedFile("big.png", buffer.getvalue(), content_type="image/png")
    response = client.post(SETTINGS_URL, settings_form_data(avatar=big))
    assert response.status_code == 200
    assert "the limit is 2 MB" in response.text
    user.refresh_from_db()
    assert not user.avatar


@pytest.mark.django_db
@pytest.mark.parametrize(("image_format", "suffix"), [("JPEG", "jpg"), ("WEBP", "webp")])
def test_jpeg_and_webp_avatars_are_accepted(client, user, image_format, suffix):
    client.force_login(user)
    upload = image_upload(name=f"me.{suffix}", image_format=image_format, content_type="image/x")
    response = client.post(SETTINGS_URL, settings_form_data(avatar=upload))
    assert response.status_code == 302
    user.refresh_from_db()
    # Every format is stored as WebP (accounts/avatars.py says why).
    assert user.avatar.name.endswith(".webp")
    with Image.open(user.avatar.path) as stored:
        assert stored.format == "WEBP"


@pytest.mark.django_db
def test_settings_cannot_touch_other_columns(client, user):
    client.force_login(user)
    client.post(
        SETTINGS_URL, settings_form_data(is_staff="on", is_superuser="on", email="x@example.com")
    )
    user.refresh_from_db()
    assert not user.is_staff
    assert not user.is_superuser
    assert user.email == "ada@example.com"
