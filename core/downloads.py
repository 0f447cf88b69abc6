"""Serving an uploaded file to someone a view has already checked may see it."""

import os

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

OCTET_STREAM = "application/octet-stream"

# Evidence types accepted at upload (read from the file's bytes) and the extensions a file of that
# type is saved with; the first is the one a download is renamed to.
EVIDENCE_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("jpg", "jpeg"),
    "image/png": ("png",),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/heic": ("heic",),
    "application/pdf": ("pdf",),
    "audio/mpeg": ("mp3",),
    "audio/mp4": ("m4a", "mp4"),
    "audio/x-m4a": ("m4a",),
    "audio/x-wav": ("wav",),
    "audio/wav": ("wav",),
    "audio/ogg": ("ogg", "oga"),
    "audio/amr": ("amr",),
    "audio/aac": ("aac",),
}


def download_name(filename: str, content_type: str) -> str:
    """The name a file is saved under: its extension says what its bytes are, whatever it was called
    on upload (a PNG uploaded as ``poly.html`` downloads as ``poly.png``, never opens as a page).
    A type outside the evidence table is ``.bin``."""
    stem, extension = os.path.splitext(filename or "file")
    allowed = EVIDENCE_EXTENSIONS.get(content_type, ("bin",))
    if extension[1:].lower() in allowed:
        return filename
    return f"{stem or 'file'}.{allowed[0]}"


def private_download(file: FieldFile, *, filename: str, content_type: str) -> FileResponse:
    """Always a download, never rendered inline, with the type as checked at upload and a name that
    matches it. A file that is gone (removed by retention, or missing from storage) is a 404."""
    if not file:
        raise Http404
    try:
        handle = file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=download_name(filename, content_type),
        content_type=content_type or OCTET_STREAM,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
