"""Validators for Chinese identity data, with messages a person can act on."""

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_id_number(value: str) -> str:
    return value.strip().replace(" ", "").upper()


def validate_id_number(value: str) -> None:
    """18-character resident ID (GB 11643) with its check character; 15-digit IDs are refused."""
    value = normalize_id_number(value)
    if re.fullmatch(r"\d{15}", value):
        raise ValidationError(
            _("这是 15 位的旧版身份证号，已停止使用。请填写 18 位的第二代身份证号。"), code="legacy_id"
        )
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise ValidationError(_("身份证号应为 18 位：前 17 位是数字，最后一位是数字或 X。"), code="id_format")
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as exc:
        raise ValidationError(_("身份证号中的出生日期不正确，请核对。"), code="id_birthdate") from exc
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise ValidationError(_("身份证号校验位不正确，请逐位核对后再提交。"), code="id_checksum")


def normalize_phone(value: str) -> str:
    value = re.sub(r"[\s-]", "", value.strip())
    return value[3:] if value.startswith("+86") else value


def validate_mobile_phone(value: str) -> None:
    if not _MOBILE.match(normalize_phone(value)):
        raise ValidationError(_("请填写 11 位中国大陆手机号，例如 13812345678。"), code="phone")
