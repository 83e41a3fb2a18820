"""Avatars: which uploads are accepted, and the files stored for one.

An upload is never stored as sent. Its bytes are decoded with Pillow (only the
JPEG, PNG and WebP decoders may look at them), turned upright by its EXIF
orientation, converted to sRGB, and re-encoded as WebP with no metadata at
all (EXIF with GPS, XMP, ICC profiles and text chunks are dropped): the stored
picture is at most ``STORED_BOX`` pixels on its longer side, under a random
name ending in ``.webp`` whatever the upload was called. Beside it are square
renditions, one per size pages use (``RENDITION_SIZES``), named by
``rendition_name``; pages embed those, never the stored picture.

Why WebP for everything: one format means one extension and one content type
to serve and check; it keeps transparency (JPEG cannot), is smaller than JPEG
for photos and far smaller than PNG, and every browser in use reads it.

This module knows no models; ``accounts.services`` stores and deletes through it.
"""

import io
import struct
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

AVATAR_MAX_BYTES = 2 * 1024 * 1024
# Checked from the header before any pixel is decoded: a small PNG can
# declare 12000 by 12000 pixels (576 MB once decoded as RGBA).
AVATAR_MAX_PIXELS = 40_000_000
# Pillow format names, and how people know them.
AVATAR_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}

AVATAR_FOLDER = "avatars"
STORED_EXTENSION = ".webp"
# The stored picture: large enough to make new rendition sizes from later.
STORED_BOX = 1024
# Square renditions by the size names templates use: the navbar (2rem), the
# directory cards (3rem), the mentor page and the settings page (5rem), each
# with room for high-density screens.
RENDITION_SIZES = {"sm": 64, "md": 160, "lg": 320}
WEBP_QUALITY = 85

# Pillow's decoders fail on hostile or damaged input in many ways; each means
# that this file cannot be used, never a server error.
DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    TypeError,
    EOFError,
    IndexError,
    KeyError,
    struct.error,
)
SIXTEEN_BIT_GREY = ("I;16", "I;16B", "I;16L", "I;16N")


@dataclass(frozen=True)
class PreparedAvatar:
    """An avatar ready to store: the WebP picture and a WebP per rendition size."""

    picture: bytes
    renditions: dict[int, bytes]


def new_avatar_name() -> str:
    # Random: the uploaded file's name is not ours to publish, and its
    # extension says nothing about what the bytes are.
    return f"{AVATAR_FOLDER}/{uuid.uuid4().hex}{STORED_EXTENSION}"


def rendition_name(name: str, pixels: int) -> str:
    """Where the ``pixels``-square rendition of the stored picture ``name`` lives:
    ``avatars/<id>.webp`` → ``avatars/<id>-64.webp``."""
    path = PurePosixPath(name)
    return str(path.with_name(f"{path.stem}-{pixels}{STORED_EXTENSION}"))


def avatar_file_names(name: str) -> list[str]:
    """The stored picture ``name`` and all of its renditions."""
    return [name, *(rendition_name(name, pixels) for pixels in RENDITION_SIZES.values())]


def is_current(*, storage, name: str) -> bool:
    """Whether ``name`` is a picture stored by this module with every rendition."""
    return name.endswith(STORED_EXTENSION) and all(
        storage.exists(rendition_name(name, pixels)) for pixels in RENDITION_SIZES.values()
    )


def _too_many_pixels(width: int | None = None, height: int | None = None) -> ValidationError:
    limit = AVATAR_MAX_PIXELS // 1_000_000
    if width is None or height is None:
        return ValidationError(
            "This picture has too many pixels; the limit is %(limit)s megapixels. "
            "Make it smaller and upload it again.",
            code="too_many_pixels",
            params={"limit": limit},
        )
    return ValidationError(
        "This picture is %(width)s × %(height)s pixels; the limit is %(limit)s megapixels "
        "(for example 6000 × 6000). Make it smaller and upload it again.",
        code="too_many_pixels",
        params={"width": width, "height": height, "limit": limit},
    )


def _unreadable() -> ValidationError:
    return ValidationError(
        "This file is not a picture we can read. Pictures must be JPEG, PNG or WebP.",
        code="invalid_image",
    )


def open_avatar(file) -> Image.Image:
    """The picture in ``file`` (any file object with ``size``, ``seek`` and
    ``read``), decoded: upright, RGB or RGBA, sRGB, at most ``STORED_BOX``
    pixels on the longer side, with no metadata.

    Raises ``ValidationError`` with a message for the person uploading when
    the file is over 2 MB, is not a JPEG, PNG or WebP that decodes completely,
    or has more than ``AVATAR_MAX_PIXELS`` pixels; the size and the pixel count
    are checked before anything is decoded.
    """
    if file.size > AVATAR_MAX_BYTES:
        raise ValidationError(
            "The picture is %(size)s MB; the limit is 2 MB.",
            code="file_too_large",
            params={"size": f"{file.size / (1024 * 1024):.1f}"},
        )
    file.seek(0)
    try:
        # Reads the header only. Pillow refuses (or, set to warn, warns of)
        # sizes above its own decompression-bomb limit here already.
        image = Image.open(file, formats=list(AVATAR_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels() from error
    except DECODE_ERRORS as error:
        raise _unreadable() from error
    width, height = image.size
    if width * height > AVATAR_MAX_PIXELS:
        raise _too_many_pixels(width, height)
    try:
        # A JPEG is decoded at a reduced scale straight away (no-op for the
        # other formats): a large photo never fills memory at full size.
        image.draft("RGB", (STORED_BOX, STORED_BOX))
        image.load()
        icc_profile = image.info.get("icc_profile")
        # Converted before resizing: Pillow resizes palette images by the
        # nearest pixel only. Conversions and resizing keep ``info``, so the
        # EXIF orientation is still there to apply afterwards.
        image = _as_rgb(image)
        image.thumbnail((STORED_BOX, STORED_BOX), Image.Resampling.LANCZOS)
        # Before the metadata goes: a phone photo's pixels are often stored
        # sideways, with EXIF saying how to turn them. Turned once small,
        # rather than copying the full-size picture.
        ImageOps.exif_transpose(image, in_place=True)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels(width, height) from error
    except DECODE_ERRORS as error:
        raise _unreadable() from error
    image = _to_srgb(image, icc_profile)
    # A new image with the pixels only: nothing of the upload's metadata can
    # reach an encoder.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    return clean


def _as_rgb(image: Image.Image) -> Image.Image:
    if image.mode in SIXTEEN_BIT_GREY:
        # 16-bit greyscale PNG: scale to 8 bits (a plain conversion clips to white).
        image = image.point(lambda value: value / 256, "L")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    target = "RGBA" if has_alpha else "RGB"
    return image if image.mode == target else image.convert(target)


SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """The pixels converted from the upload's colour profile to sRGB, so the
    picture looks the same once the profile is dropped (a Display P3 photo
    would otherwise look washed out). A profile that cannot be used (damaged,
    or for another colour space) leaves the pixels as they are."""
    if not icc_profile:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(image.convert("RGB"), source, SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, *DECODE_ERRORS):
        return image
    if converted is None:
        return image
    if image.mode == "RGBA":
        converted.putalpha(image.getchannel("A"))
    return converted


def _encode(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=WEBP_QUALITY)
    return buffer.getvalue()


def prepare_avatar(file) -> PreparedAvatar:
    """The files to store for the upload ``file``; raises ``ValidationError``
    as ``open_avatar`` does."""
    image = open_avatar(file)
    renditions = {
        pixels: _encode(ImageOps.fit(image, (pixels, pixels), Image.Resampling.LANCZOS))
        for pixels in RENDITION_SIZES.values()
    }
    return PreparedAvatar(picture=_encode(image), renditions=renditions)


def save_renditions(*, storage, name: str, prepared: PreparedAvatar) -> None:
    """Store ``prepared``'s renditions beside the stored picture ``name``."""
    for pixels, data in prepared.renditions.items():
        target = rendition_name(name, pixels)
        saved = storage.save(target, ContentFile(data))
        if saved != target:
            # The name was taken (a storage renames rather than overwrite):
            # pages would show the other file. Names are random, so this
            # means something else wrote into the avatars folder.
            storage.delete(saved)
            raise FileExistsError(f"avatar rendition {target} already exists")


def store_prepared_avatar(*, storage, prepared: PreparedAvatar) -> str:
    """Store ``prepared`` under a new random name; returns the picture's name."""
    name = storage.save(new_avatar_name(), ContentFile(prepared.picture))
    save_renditions(storage=storage, name=name, prepared=prepared)
    return name


def delete_avatar_files(*, storage, name: str) -> None:
    """Delete the stored picture ``name`` and its renditions (missing ones are fine)."""
    for file_name in avatar_file_names(name):
        storage.delete(file_name)
