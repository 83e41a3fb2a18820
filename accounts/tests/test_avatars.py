"""Avatars are stored as what they are: decoded, re-encoded as WebP without
metadata, with renditions that pages embed (accounts/avatars.py).

Uploads go through the settings page (and once through the admin) over the
test client; the stored files are read back from the test's own MEDIA_ROOT
(the ``_media_root`` fixture in conftest.py).
"""

import importlib
import io
import re
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from PIL import Image, ImageCms

from accounts import services
from accounts.avatars import RENDITION_SIZES, STORED_BOX, avatar_file_names, rendition_name
from accounts.models import User
from mentorship.tests.factories import MentorProfileFactory

from .conftest import image_upload
from .factories import SETTINGS_URL, UserFactory, settings_form_data

STORED_NAME = re.compile(r"^avatars/[0-9a-f]{32}\.webp$")


# --- Helpers ---------------------------------------------------------------------------


def picture_bytes(image_format="PNG", size=(300, 200), mode="RGB", color=(20, 120, 200), **save):
    buffer = io.BytesIO()
    Image.new(mode, size, color=color).save(buffer, format=image_format, **save)
    return buffer.getvalue()


def upload(data: bytes, name: str, content_type: str = "image/png"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png(width: int, height: int) -> bytes:
    """A valid greyscale PNG of ``width`` × ``height`` black pixels, built row
    by row so that the test itself never holds the pixels (12000 × 12000
    compresses to about 140 KB)."""
    compressor = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte 0, then the row's pixels
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def stored_paths(user: User) -> list[Path]:
    """The stored picture and its renditions, as files in MEDIA_ROOT."""
    return [Path(default_storage.path(name)) for name in avatar_file_names(user.avatar.name)]


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


def post_avatar(client, file):
    return client.post(SETTINGS_URL, settings_form_data(avatar=file))


def refused(response, message: str, user: User) -> None:
    assert response.status_code == 200
    assert message in response.text
    assert "Nothing was saved" in response.text
    user.refresh_from_db()
    assert not user.avatar


# --- Stored as what it is --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("portrait.pdf", "application/pdf"),
        ("portrait.ps", "application/postscript"),
        ("portrait.xbm", "image/x-xbitmap"),
    ],
)
def test_png_named_otherwise_is_stored_and_served_as_a_webp_image(
    client, user, settings, name, content_type
):
    client.force_login(user)
    # A real PNG that is also a PDF: PDF readers find "%PDF" anywhere in the
    # first kilobyte and the trailer at the end; Pillow reads the PNG.
    polyglot = picture_bytes() + b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = post_avatar(client, upload(polyglot, name, content_type))
    assert response.status_code == 302
    user.refresh_from_db()
    assert STORED_NAME.match(user.avatar.name), user.avatar.name
    for path in stored_paths(user):
        data = path.read_bytes()
        assert b"%PDF" not in data
        with Image.open(path) as stored:
            assert stored.format == "WEBP"
    # Nothing else was written: no copy of the upload under any name.
    assert media_files(settings) == sorted(stored_paths(user))

    for url in [user.avatar.url, default_storage.url(rendition_name(user.avatar.name, 64))]:
        served = client.get(url)
        assert served.status_code == 200
        assert served["Content-Type"] == "image/webp"
        assert served["X-Content-Type-Options"] == "nosniff"
        body = b"".join(served.streaming_content)
        assert body[:4] == b"RIFF"
        assert body[8:12] == b"WEBP"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("image_format", "name"),
    [("JPEG", "me.jpg"), ("PNG", "me.png"), ("WEBP", "me.webp")],
)
def test_each_accepted_format_is_stored_as_webp(client, user, image_format, name):
    client.force_login(user)
    response = post_avatar(client, upload(picture_bytes(image_format), name, "image/x"))
    assert response.status_code == 302
    user.refresh_from_db()
    assert STORED_NAME.match(user.avatar.name)
    with Image.open(user.avatar.path) as stored:
        assert stored.format == "WEBP"


# --- Refused, with a clear message -----------------------------------------------------


@pytest.mark.django_db
def test_html_named_png_is_refused(client, user, settings):
    client.force_login(user)
    page = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
    response = post_avatar(client, upload(page, "avatar.png"))
    refused(
        response,
        "This file is not a picture we can read. Pictures must be JPEG, PNG or WebP.",
        user,
    )
    assert media_files(settings) == []


@pytest.mark.django_db
def test_truncated_jpeg_is_refused(client, user):
    # Its header is fine; only decoding the whole picture finds the damage.
    whole = picture_bytes("JPEG", size=(400, 400), color=(200, 30, 30), quality=95)
    client.force_login(user)
    response = post_avatar(client, upload(whole[: len(whole) // 2], "me.jpg", "image/jpeg"))
    refused(response, "This file is not a picture we can read.", user)


@pytest.mark.django_db
def test_three_megabyte_file_is_refused(client, user, settings):
    client.force_login(user)
    # A valid PNG padded to 3 MB: the size is refused before anything is read.
    data = picture_bytes()
    data += bytes(3 * 1024 * 1024 - len(data))
    response = post_avatar(client, upload(data, "big.png"))
    refused(response, "The picture is 3.0 MB; the limit is 2 MB.", user)
    assert media_files(settings) == []


@pytest.mark.django_db
def test_12000_by_12000_png_is_refused_from_its_header(client, user, settings):
    data = huge_png(12000, 12000)
    assert len(data) < 2 * 1024 * 1024
    client.force_login(user)
    created = Image.core.get_stats()["new_count"]
    # Pillow only warns at this size (its own limit is about 89 megapixels, and
    # it refuses from twice that); our budget of 40 refuses it.
    with pytest.warns(Image.DecompressionBombWarning):
        response = post_avatar(client, upload(data, "huge.png"))
    refused(
        response,
        "This picture is 12000 × 12000 pixels; the limit is 40 megapixels",
        user,
    )
    # Refused from the header: Pillow never created an image to decode into
    # (a decode would have made one of 144 million pixels).
    assert Image.core.get_stats()["new_count"] == created
    assert media_files(settings) == []


@pytest.mark.django_db
def test_picture_above_pillows_bomb_limit_is_refused_not_an_error(client, user):
    # 225 megapixels: Image.open itself raises DecompressionBombError.
    client.force_login(user)
    response = post_avatar(client, upload(huge_png(15000, 15000), "bomb.png"))
    refused(response, "This picture has too many pixels; the limit is 40 megapixels.", user)


@pytest.mark.django_db
@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("size", [(1500, 1000), (2500, 1000)])
def test_pillows_bomb_guard_becomes_a_form_error(client, user, monkeypatch, size):
    # A process may lower Pillow's limit below ours, and run with its warning
    # turned into an error: 1.5 megapixels is then past the warning (an
    # exception here) and 2.5 past the error. Either is a message, not a 500.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    client.force_login(user)
    response = post_avatar(client, upload(picture_bytes(size=size), "me.png"))
    refused(response, "This picture has too many pixels; the limit is 40 megapixels.", user)


@pytest.mark.django_db
def test_gif_is_refused_by_its_format(client, user):
    client.force_login(user)
    response = post_avatar(client, upload(picture_bytes("GIF"), "avatar.png"))
    refused(response, "Pictures must be JPEG, PNG or WebP.", user)


# --- What is kept of the picture -------------------------------------------------------


def jpeg_with_metadata() -> bytes:
    """A 40 × 20 JPEG, red on the left and blue on the right, whose EXIF says
    to turn it 90° clockwise (orientation 6) and where it was taken (GPS),
    with XMP and an ICC profile as well."""
    image = Image.new("RGB", (40, 20), (220, 20, 20))
    image.paste((20, 20, 220), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 0.0)}  # GPS
    buffer = io.BytesIO()
    image.save(
        buffer,
        format="JPEG",
        quality=95,
        exif=exif,
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">exif:GPSLatitude 52,31.2N</x:xmpmeta>',
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    with Image.open(io.BytesIO(buffer.getvalue())) as check:
        assert check.getexif().get_ifd(0x8825)[1] == "N"
    return buffer.getvalue()


@pytest.mark.django_db
def test_metadata_is_stripped_after_turning_the_picture_upright(client, user):
    client.force_login(user)
    response = post_avatar(client, upload(jpeg_with_metadata(), "holiday.jpg", "image/jpeg"))
    assert response.status_code == 302
    user.refresh_from_db()
    for path in stored_paths(user):
        data = path.read_bytes()
        # WebP chunks that would carry metadata, and the EXIF header itself.
        for marker in (b"EXIF", b"Exif", b"XMP ", b"ICCP", b"GPS", b"PhoneMaker"):
            assert marker not in data, (path.name, marker)
        with Image.open(path) as stored:
            assert len(stored.getexif()) == 0
            assert not {"exif", "xmp", "icc_profile"} & set(stored.info)
    with Image.open(user.avatar.path) as picture:
        picture = picture.convert("RGB")
        # Turned clockwise: 20 wide, 40 high, the red (left) half now on top.
        assert picture.size == (20, 40)
        red, _, blue = picture.getpixel((10, 8))
        assert red > 150 > blue
        red, _, blue = picture.getpixel((10, 32))
        assert blue > 150 > red


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("size", "stored_size"),
    [((300, 200), (300, 200)), ((3000, 1500), (STORED_BOX, STORED_BOX // 2)), ((40, 40), (40, 40))],
)
def test_renditions_are_squares_of_the_stated_sizes(client, user, size, stored_size):
    client.force_login(user)
    response = post_avatar(client, upload(picture_bytes(size=size), "me.png"))
    assert response.status_code == 302
    user.refresh_from_db()
    assert RENDITION_SIZES == {"sm": 64, "md": 160, "lg": 320}
    with Image.open(user.avatar.path) as picture:
        assert picture.size == stored_size
    for pixels in (64, 160, 320):
        with Image.open(default_storage.path(rendition_name(user.avatar.name, pixels))) as small:
            assert small.format == "WEBP"
            assert small.size == (pixels, pixels)


@pytest.mark.django_db
def test_transparency_is_kept(client, user):
    client.force_login(user)
    data = picture_bytes(mode="RGBA", color=(20, 120, 200, 0))
    assert post_avatar(client, upload(data, "me.png")).status_code == 302
    user.refresh_from_db()
    with Image.open(default_storage.path(rendition_name(user.avatar.name, 160))) as small:
        assert small.mode == "RGBA"
        assert small.getpixel((80, 80))[3] == 0


@pytest.mark.django_db
def test_sixteen_bit_greyscale_keeps_its_shade(client, user):
    client.force_login(user)
    data = picture_bytes(mode="I;16", color=32768)  # mid grey in 16 bits
    assert post_avatar(client, upload(data, "scan.png")).status_code == 302
    user.refresh_from_db()
    with Image.open(user.avatar.path) as picture:
        red, green, blue = picture.convert("RGB").getpixel((5, 5))
        assert 118 <= red <= 138
        assert red == green == blue


# --- Pages embed renditions ------------------------------------------------------------


@pytest.mark.django_db
def test_pages_embed_the_rendition_of_their_size_never_the_stored_picture(client, user):
    mentor = MentorProfileFactory(user=user)
    client.force_login(user)
    assert post_avatar(client, image_upload()).status_code == 302
    user.refresh_from_db()
    stored_url = user.avatar.url
    small, medium, large = (
        default_storage.url(rendition_name(user.avatar.name, pixels)) for pixels in (64, 160, 320)
    )

    signed_in = {
        "/mentors/": [small, medium],  # navbar, directory card
        f"/mentors/{mentor.slug}/": [small, large],  # navbar, mentor page
        SETTINGS_URL: [small, large],  # navbar, settings header
    }
    for path, expected in signed_in.items():
        text = client.get(path).text
        for url in expected:
            assert f'src="{url}"' in text, (path, url)
        assert f'src="{stored_url}"' not in text, path
        # The settings form links to the stored picture ("Currently: …", the
        # file input's own link); no other page names it at all.
        assert text.count(stored_url) == (1 if path == SETTINGS_URL else 0), path

    client.logout()
    directory = client.get("/mentors/").text
    assert f'src="{medium}"' in directory
    assert stored_url not in directory
    mentor_page = client.get(f"/mentors/{mentor.slug}/").text
    assert f'src="{large}"' in mentor_page
    assert stored_url not in mentor_page


# --- Replacing and clearing ------------------------------------------------------------


@pytest.mark.django_db
def test_replacing_and_clearing_delete_the_old_files(
    client, user, settings, django_capture_on_commit_callbacks
):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        post_avatar(client, image_upload())
    user.refresh_from_db()
    first = stored_paths(user)
    assert len(first) == 4
    assert all(path.exists() for path in first)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_avatar(client, image_upload(name="other.jpg", image_format="JPEG"))
    assert response.status_code == 302
    user.refresh_from_db()
    second = stored_paths(user)
    assert not any(path.exists() for path in first)
    assert media_files(settings) == sorted(second)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SETTINGS_URL, settings_form_data(**{"avatar-clear": "on"}))
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.avatar
    assert media_files(settings) == []


@pytest.mark.django_db
def test_a_refused_replacement_keeps_the_current_avatar(
    client, user, settings, django_capture_on_commit_callbacks
):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        post_avatar(client, image_upload())
    user.refresh_from_db()
    current = user.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        response = post_avatar(client, upload(b"not a picture", "me.png"))
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.avatar.name == current
    assert media_files(settings) == sorted(stored_paths(user))


@pytest.mark.django_db
def test_staff_upload_in_the_admin_is_stored_the_same_way(
    client, settings, django_capture_on_commit_callbacks
):
    staff = UserFactory(is_staff=True, is_superuser=True)
    person = UserFactory(name="Grace Hopper", timezone="UTC")
    client.force_login(staff)
    change_url = f"/admin/accounts/user/{person.pk}/change/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            change_url,
            {
                "email": person.email,
                "name": person.name,
                "timezone": "UTC",
                "avatar": upload(picture_bytes(), "portrait.pdf", "application/pdf"),
            },
        )
    assert response.status_code == 302, response.text[:3000]
    person.refresh_from_db()
    assert STORED_NAME.match(person.avatar.name)
    assert media_files(settings) == sorted(stored_paths(person))

    response = client.post(
        change_url,
        {
            "email": person.email,
            "name": person.name,
            "timezone": "UTC",
            "avatar": upload(huge_png(9000, 9000), "huge.png"),
        },
    )
    assert response.status_code == 200
    assert "This picture is 9000 × 9000 pixels; the limit is 40 megapixels" in response.text


# --- Avatars stored before this (the data migration and rebuild_avatars) -------------------


def store_legacy(user: User, data: bytes | None, suffix: str) -> str:
    """Point ``user`` at a file stored as uploads used to be: as sent."""
    name = f"avatars/{user.pk.hex}{suffix}"
    if data is not None:
        name = default_storage.save(name, ContentFile(data))
    User.objects.filter(pk=user.pk).update(avatar=name)
    return name


@pytest.fixture
def legacy_avatars(client, db, django_capture_on_commit_callbacks):
    """Four users: a PNG stored as ``.pdf``, a 12000 × 12000 PNG, a file
    missing from storage, and an avatar stored the current way."""
    polyglot, huge, missing, current = UserFactory.create_batch(4)
    names = {
        "polyglot": store_legacy(polyglot, picture_bytes() + b"%PDF-1.4\n%%EOF\n", ".pdf"),
        "huge": store_legacy(huge, huge_png(12000, 12000), ".png"),
        "missing": store_legacy(missing, None, ".png"),
    }
    client.force_login(current)
    with django_capture_on_commit_callbacks(execute=True):
        post_avatar(client, image_upload())
    current.refresh_from_db()
    names["current"] = current.avatar.name
    users = {"polyglot": polyglot, "huge": huge, "missing": missing, "current": current}
    return users, names


def assert_rebuilt(users, names) -> None:
    for user in users.values():
        user.refresh_from_db()
    rebuilt = users["polyglot"].avatar.name
    assert STORED_NAME.match(rebuilt)
    assert all(path.exists() for path in stored_paths(users["polyglot"]))
    assert not default_storage.exists(names["polyglot"])
    assert not users["huge"].avatar
    assert not default_storage.exists(names["huge"])
    assert users["missing"].avatar.name == names["missing"]
    assert users["current"].avatar.name == names["current"]


@pytest.mark.django_db
def test_rebuild_avatars_brings_old_uploads_to_the_current_form(
    legacy_avatars, django_capture_on_commit_callbacks
):
    users, names = legacy_avatars
    out = io.StringIO()
    with (
        pytest.warns(Image.DecompressionBombWarning),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("rebuild_avatars", stdout=out)
    assert out.getvalue().strip() == (
        "Avatars: 1 rebuilt, 1 cleared (not an acceptable picture), "
        "1 missing from storage (left as they are), 1 already current."
    )
    assert_rebuilt(users, names)

    # Idempotent: a second run finds nothing to do.
    out = io.StringIO()
    call_command("rebuild_avatars", stdout=out)
    assert "0 rebuilt, 0 cleared" in out.getvalue()
    assert "2 already current" in out.getvalue()


@pytest.mark.django_db
def test_data_migration_rebuilds_with_the_historical_model(
    legacy_avatars, django_capture_on_commit_callbacks
):
    users, names = legacy_avatars
    migration = importlib.import_module("accounts.migrations.0002_rebuild_stored_avatars")
    state = MigrationLoader(connection).project_state(("accounts", "0002_rebuild_stored_avatars"))

    # RunPython hands its function a schema editor; this one reads only its
    # connection.
    editor = SimpleNamespace(connection=connection)
    with (
        pytest.warns(Image.DecompressionBombWarning),
        django_capture_on_commit_callbacks(execute=True),
    ):
        migration.rebuild_stored_avatars(state.apps, editor)
    assert_rebuilt(users, names)


@pytest.mark.django_db
def test_rebuild_leaves_a_row_changed_meanwhile_to_that_change(
    monkeypatch, django_capture_on_commit_callbacks
):
    # The user uploads a new picture while the command reads the old one:
    # the command's files are thrown away, the user's upload stays.
    user = UserFactory()
    old = store_legacy(user, picture_bytes(), ".png")
    prepare = services.avatars.prepare_avatar

    def prepare_then_user_uploads(file):
        prepared = prepare(file)
        User.objects.filter(pk=user.pk).update(avatar="avatars/theirs.webp")
        return prepared

    monkeypatch.setattr(services.avatars, "prepare_avatar", prepare_then_user_uploads)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.rebuild_avatars(users=User.objects.all())
    assert outcome["rebuilt"] == 0
    user.refresh_from_db()
    assert user.avatar.name == "avatars/theirs.webp"
    assert default_storage.listdir("avatars")[1] == [Path(old).name]
