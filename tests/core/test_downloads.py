"""Every evidence download (complaint attachments, contact records, task evidence, interview
materials and plan items) is served by private_download, which names the file for its bytes."""

import pytest

from core.downloads import download_name


@pytest.mark.parametrize(
    ("uploaded_as", "detected", "downloads_as"),
    [
        ("poly.html", "image/png", "poly.png"),
        ("截图.PNG", "image/png", "截图.PNG"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("report.pdf.exe", "application/pdf", "report.pdf.pdf"),
        ("录音", "audio/mpeg", "录音.mp3"),
        (".htaccess", "image/gif", ".htaccess.gif"),
        ("", "application/pdf", "file.pdf"),
        ("old.svg", "", "old.bin"),
    ],
)
def test_a_download_is_named_with_the_extension_of_its_detected_type(uploaded_as, detected, downloads_as):
    assert download_name(uploaded_as, detected) == downloads_as
