"""The supervisors' quality dashboard (DOMAIN.md §5): charts, tables, and de-identified CSV exports."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.policy import is_supervisor
from accounts.typing import AuthedHttpRequest

from .metrics import CACHE_SECONDS, Period, dashboard_metrics_cached

LISTENER_ROWS_SHOWN = 50
CAUSE_ROWS_SHOWN = 10
DEFAULT_DAYS = 365
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# The dashboard counts from the platform's earliest possible records to a year ahead; a date
# outside is a typing slip (and a day past date.max has no following day to count up to).
EARLIEST = date(2000, 1, 1)
AHEAD_DAYS = 366


def latest_date() -> date:
    return timezone.localdate() + timedelta(days=AHEAD_DAYS)


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def _in_range(self, field: str) -> date | None:
        value = self.cleaned_data.get(field)
        latest = latest_date()
        if value and not EARLIEST <= value <= latest:
            raise forms.ValidationError(
                _("日期须在 %(earliest)s 至 %(latest)s 之间。")
                % {"earliest": EARLIEST.isoformat(), "latest": latest.isoformat()}
            )
        return value

    def clean_start(self) -> date | None:
        return self._in_range("start")

    def clean_end(self) -> date | None:
        return self._in_range("end")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("起始日期不能晚于截止日期。"))
        return data


def _default_period() -> Period:
    today = timezone.localdate()
    return Period(start=today - timedelta(days=DEFAULT_DAYS - 1), end=today)


def period_from(request: AuthedHttpRequest) -> tuple[PeriodForm, Period]:
    """The period asked for in the query string; the last 12 months when none (or an invalid one) is
    given, the form then carrying the errors to show."""
    params = {"start": request.GET.get("from", ""), "end": request.GET.get("to", "")}
    if not (params["start"] or params["end"]):
        period = _default_period()
        return PeriodForm(initial={"start": period.start, "end": period.end}), period
    form = PeriodForm(params)
    if form.is_valid():
        return form, Period(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    return form, _default_period()


def _require_supervisor(request: AuthedHttpRequest) -> None:
    """Supervisors, and superusers as on the other supervision pages (supervision/views.py)."""
    if not is_supervisor(request.user):
        raise PermissionDenied(_("只有督导可以使用这个页面。"))


def _chart_data(data: dict[str, Any]) -> dict[str, Any]:
    """What static/js/dashboard.js draws: one entry per chart container on the page."""

    def series(rows, value="count"):
        return {"labels": [str(r["label"]) for r in rows], "values": [r[value] for r in rows]}

    listeners = data["listeners"]
    return {
        "by_month": {"kind": "line", "name": _("投诉数"), **series(data["by_month"])},
        "by_category": {"kind": "pie", "name": _("投诉数"), **series(data["by_category"])},
        "by_state": {"kind": "bar", "name": _("投诉数"), **series(data["by_state"])},
        "by_channel": {"kind": "pie", "name": _("投诉数"), **series(data["by_channel"])},
        "stages": {"kind": "bar", "name": _("中位时长（小时）"), **series(data["stages"], "median_hours")},
        "grades": {"kind": "bar", "name": _("决定数"), **series(data["grades"])},
        "causes": {"kind": "hbar", "name": _("投诉数"), **series(data["causes"]["rows"][:CAUSE_ROWS_SHOWN])},
        "satisfaction": {"kind": "bar", "name": _("评价数"), **series(data["satisfaction"]["distribution"])},
        "funnel": {
            "kind": "funnel",
            "platform_rate": listeners["platform_rate"],
            "points": [[r["sessions"], r["rate"], r["code"], r["flag"]] for r in listeners["listeners"]],
            "warning": [[p["sessions"], p["warning_upper"]] for p in listeners["funnel"]],
            "lower": [[p["sessions"], p["warning_lower"]] for p in listeners["funnel"]],
            "alarm": [[p["sessions"], p["alarm_upper"]] for p in listeners["funnel"]],
            "names": {
                "listeners": _("倾听师"),
                "above": _("超出上限"),
                "below": _("低于下限"),
                "platform": _("平台平均"),
                "warning": _("95% 控制限"),
                "lower": _("95% 下限"),
                "alarm": _("99.8% 控制限"),
                "x": _("倾诉订单数"),
                "y": _("每千单投诉数"),
            },
        },
        "overdue": {
            "kind": "bar",
            "name": _("超时未完成事项"),
            "labels": [r["owner"] or r["team"] or _("未指定") for r in data["overdue"]],
            "values": [r["count"] for r in data["overdue"]],
        },
    }


@never_cache
@login_required
@require_GET
def dashboard(request: AuthedHttpRequest) -> HttpResponse:
    _require_supervisor(request)
    form, period = period_from(request)
    data = dashboard_metrics_cached(period)
    computed_at = datetime.fromisoformat(data["computed_at"])
    context = {
        "form": form,
        "period_fallback": form.is_bound and not form.is_valid(),
        "period": period,
        "data": data,
        "charts": _chart_data(data),
        "computed_at": computed_at,
        "cache_minutes": CACHE_SECONDS // 60,
        "listener_rows": data["listeners"]["listeners"][:LISTENER_ROWS_SHOWN],
        "listener_rows_hidden": max(0, len(data["listeners"]["listeners"]) - LISTENER_ROWS_SHOWN),
        "cause_rows": data["causes"]["rows"][:CAUSE_ROWS_SHOWN],
        "cause_rows_hidden": max(0, len(data["causes"]["rows"]) - CAUSE_ROWS_SHOWN),
        "not_evaluated": max(0, data["total"] - data["causes"]["evaluated"]),
        "reports": [(name, label) for name, (label, _cols, _rows) in _reports(data).items()],
        "query": {
            "from": period.start.isoformat() if period.start else "",
            "to": period.end.isoformat() if period.end else "",
        },
    }
    return render(request, "supervision/dashboard.html", context)


# --- CSV export --------------------------------------------------------------------------------


def flag_label(flag: str) -> str:
    return {"alarm": _("警报"), "warning": _("预警"), "below": _("低于下限")}.get(flag, "")


def neutralise(value: Any) -> str:
    """The cell as text, with a leading quote when a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _reports(data: dict[str, Any]) -> dict[str, tuple[str, list[str], list[list[Any]]]]:
    """Each report: (title, header, rows). De-identified: listeners by code, staff by team and id, no complainant."""
    simple = [_("项目"), _("代码"), _("数量")]
    fr = data["first_response"]
    sat = data["satisfaction"]
    return {
        "by_month": (_("按月投诉量"), [_("月份"), _("数量")], [[r["label"], r["count"]] for r in data["by_month"]]),
        "by_category": (_("按类别"), simple, [[r["label"], r["key"], r["count"]] for r in data["by_category"]]),
        "by_state": (_("按状态"), simple, [[r["label"], r["key"], r["count"]] for r in data["by_state"]]),
        "by_channel": (_("按投诉渠道"), simple, [[r["label"], r["key"], r["count"]] for r in data["by_channel"]]),
        "first_response": (
            _("首次回应及时率"),
            [_("应回应数"), _("按时回应"), _("超时回应"), _("超时未回应"), _("及时率（%）")],
            [[fr["counted"], fr["on_time"], fr["late"], fr["unanswered"], fr["rate"]]],
        ),
        "stages": (
            _("各阶段中位时长"),
            [_("阶段"), _("中位时长（小时）"), _("案件数")],
            [[r["label"], r["median_hours"], r["count"]] for r in data["stages"]],
        ),
        "grades": (_("处理等级分布"), [_("等级"), _("数量")], [[r["label"], r["count"]] for r in data["grades"]]),
        "causes": (
            _("主要投诉原因"),
            [_("排名"), _("投诉类别"), _("类别代码"), _("评估认定"), _("认定代码"), _("数量"), _("占已评估投诉（%）")],
            [
                [
                    r["rank"],
                    r["category_label"],
                    r["category"],
                    r["finding_label"],
                    r["finding"],
                    r["count"],
                    r["share"],
                ]
                for r in data["causes"]["rows"]
            ],
        ),
        "satisfaction": (
            _("满意度分布"),
            [_("评分"), _("数量")],
            [[r["label"], r["count"]] for r in sat["distribution"]] + [[_("平均"), sat["average"]]],
        ),
        "listeners": (
            _("倾听师投诉率"),
            [
                _("倾听师编号"),
                _("倾诉订单数"),
                _("投诉数"),
                _("每千单投诉数"),
                _("期望投诉数"),
                _("95% 下限"),
                _("95% 上限"),
                _("99.8% 上限"),
                _("标记"),
            ],
            [
                [
                    r["code"],
                    r["sessions"],
                    r["complaints"],
                    r["rate"],
                    r["expected"],
                    r["warning_lower"],
                    r["warning_upper"],
                    r["alarm_upper"],
                    flag_label(r["flag"]),
                ]
                for r in data["listeners"]["listeners"]
            ],
        ),
        "overdue": (
            _("超时未完成事项"),
            [_("负责人编号"), _("负责团队"), _("数量")],
            [[r["owner_id"] or "", r["team"], r["count"]] for r in data["overdue"]],
        ),
    }


@never_cache
@login_required
@require_GET
def export_csv(request: AuthedHttpRequest) -> HttpResponse:
    _require_supervisor(request)
    form, period = period_from(request)
    if form.is_bound and not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return HttpResponseBadRequest(" ".join(errors), content_type="text/plain; charset=utf-8")
    reports = _reports(dashboard_metrics_cached(period))
    name = request.GET.get("report", "")
    if name not in reports:
        raise Http404
    _title, header, rows = reports[name]
    stamp = f"{period.start or 'all'}_{period.end or date.today()}"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="hearken-{name}-{stamp}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 with a BOM correctly
    writer = csv.writer(response)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return response
