"""The triage changelist: rows rendered by cell makers set up once per page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any

from django.contrib.admin import helpers
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import display_for_value, quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

_PK_MARK = "0ROWPK0"
Cell = Callable[[Any], str]


class TriageChangeList(ChangeList):
    """The admin's changelist with its rows rendered by cell makers set up once per page.

    Django's ``items_for_result`` looks up each cell's field, display and empty value again for
    every cell (1,100 cells on a page of 100, most of the page's CPU). The makers below give the
    same HTML (tests/complaints/test_admin.py compares them with Django's); a column they do not
    know, a popup or an editable list falls back to Django's own rendering.
    """

    @cached_property
    def triage_table(self) -> dict[str, Any]:
        headers = list(admin_list.result_headers(self))
        makers = self.cell_makers()
        # Every cell is already HTML: Django's format_html, or a maker that escapes each value.
        if makers is None:
            rows = [mark_safe("".join(row)) for row in admin_list.results(self)]  # noqa: S308
        else:
            rows = [mark_safe("".join([make(obj) for make in makers])) for obj in self.result_list]  # noqa: S308
        return {
            "result_hidden_fields": list(admin_list.result_hidden_fields(self)),
            "result_headers": headers,
            "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
            "results": rows,
        }

    def cell_makers(self) -> list[Cell] | None:
        if getattr(self, "formset", None) is not None or self.is_popup or self.to_field or not self.list_display_links:
            return None
        makers: list[Cell] = []
        first_link = True
        for name in self.list_display:
            if name == "action_checkbox":
                makers.append(self._checkbox_cell())
                continue
            value_and_classes = self._value_maker(name)
            if value_and_classes is None:
                return None
            value, classes = value_and_classes
            if name in self.list_display_links:
                makers.append(self._link_cell(value, classes, "th" if first_link else "td"))
                first_link = False
            else:
                makers.append(self._plain_cell(value, classes))
        return makers

    def _checkbox_cell(self) -> Cell:
        label = escape(_("Select this object for an action - {}")).replace("{}", "{1}")
        cell = (
            f'<td class="action-checkbox"><input type="checkbox" name="{helpers.ACTION_CHECKBOX_NAME}" '
            f'value="{{0}}" class="action-select" aria-label="{label}"></td>'
        )
        return lambda obj: cell.format(escape(obj.pk), escape(obj))

    def _plain_cell(self, value: Callable[[Any], tuple[str, str]], classes: str) -> Cell:
        def make(obj: Any) -> str:
            html, extra = value(obj)
            return f'<td class="{classes}{extra}">{html}</td>'

        return make

    def _link_cell(self, value: Callable[[Any], tuple[str, str]], classes: str, tag: str) -> Cell:
        url = self.url_for_result(self.model(**{self.pk_attname: _PK_MARK}))
        url = escape(add_preserved_filters({"preserved_filters": self.preserved_filters, "opts": self.opts}, url))

        def make(obj: Any) -> str:
            html, extra = value(obj)
            href = url.replace(_PK_MARK, escape(quote(getattr(obj, self.pk_attname))), 1)
            return f'<{tag} class="{classes}{extra}"><a href="{href}">{html}</a></{tag}>'

        return make

    def _value_maker(self, name: Any) -> tuple[Callable[[Any], tuple[str, str]], str] | None:
        """(obj -> (escaped HTML, extra classes), the column's classes), as items_for_result makes them."""
        empty = self.model_admin.get_empty_value_display()
        if not isinstance(name, str):
            return None
        try:
            field = self.lookup_opts.get_field(name)
        except FieldDoesNotExist:
            method = getattr(self.model_admin, name, None)
            if not callable(method):
                return None
            empty = getattr(method, "empty_value_display", empty)
            boolean = getattr(method, "boolean", False)

            def from_method(obj: Any) -> tuple[str, str]:
                result = method(obj)
                if isinstance(result, str) and result.strip() == "":
                    result = ""
                extra = " nowrap" if isinstance(result, (date, time)) else ""
                return conditional_escape(display_for_value(result, empty, boolean)), extra

            return from_method, f"field-{name}"
        if not isinstance(field, models.Field) or field.auto_created or field.many_to_many:
            return None
        attname = field.attname
        classes = f"field-{name}"
        if isinstance(field, (models.DateField, models.TimeField, models.ForeignKey)):
            classes += " nowrap"
        if field.flatchoices:
            labels = {value: conditional_escape(label) for value, label in field.flatchoices}
            return (lambda obj: (labels.get(_blank_to_empty(getattr(obj, attname)), empty), "")), classes
        if isinstance(field, models.BooleanField):
            icons = {value: display_for_value(value, empty, boolean=True) for value in (True, False, None)}
            return (lambda obj: (icons[getattr(obj, attname)], "")), classes
        if isinstance(field, models.ForeignKey):
            return (lambda obj: (empty if getattr(obj, attname) is None else escape(getattr(obj, name)), "")), classes
        if type(field) in (models.CharField, models.TextField):

            def text(obj: Any) -> tuple[str, str]:
                value = _blank_to_empty(getattr(obj, attname))
                return (empty if value in field.empty_values else escape(value)), ""

            return text, classes
        return None


def _blank_to_empty(value: Any) -> Any:
    return "" if isinstance(value, str) and value.strip() == "" else value
