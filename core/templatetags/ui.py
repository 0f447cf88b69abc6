from django import forms, template

register = template.Library()


@register.filter
def widget(field: forms.BoundField) -> str:
    """Render a field's widget with Bootstrap classes, marking it invalid when it has errors."""
    w = field.field.widget
    if isinstance(w, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
        css = "form-check-input"
    elif isinstance(w, forms.Select):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    attrs: dict[str, str | bool] = {"class": css}
    if field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}_helptext"
    return field.as_widget(attrs=attrs)
