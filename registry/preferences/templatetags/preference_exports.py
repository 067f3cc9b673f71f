"""`{% preference_export work %}` / `{% preference_export user=request.user %}`: the "Export"
section of the work page and the defaults page (formats in registry/preferences/exports.py)."""

from django import template

from registry.preferences import exports

register = template.Library()


@register.inclusion_tag("preferences/_export.html")
def preference_export(work=None, user=None):
    export = exports.work_export(work) if work is not None else exports.author_export(user)
    return {"export": export, "work": work}
