import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from .factories import UserFactory


@pytest.fixture
def user(db):
    return UserFactory(name="Ada Lovelace", email="ada@example.com")


def image_upload(name="avatar.png", image_format="PNG", size=(64, 64), content_type="image/png"):
    buffer = io.BytesIO()
    Image.new("RGB", size, color=(20, 120, 200)).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)
