"""Serving an uploaded file to someone a view has already checked may see it."""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

OCTET_STREAM = "application/octet-stream"


def private_download(file: FieldFile, *, filename: str, content_type: str) -> FileResponse:
    """Always a download, never rendered inline, with the type as checked at upload. A file that is
    gone (removed by retention, or missing from storage) is a 404."""
    if not file:
        raise Http404
    try:
        handle = file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename or "file",
        content_type=content_type or OCTET_STREAM,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
