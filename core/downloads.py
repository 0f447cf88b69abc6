"""Serving an uploaded file to someone a view has already checked may see it."""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse

OCTET_STREAM = "application/octet-stream"


def private_download(file: FieldFile, *, filename: str, content_type: str) -> FileResponse:
    """Always a download, never rendered inline, with the type as checked at upload."""
    response = FileResponse(
        file.open("rb"),
        as_attachment=True,
        filename=filename or "file",
        content_type=content_type or OCTET_STREAM,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
