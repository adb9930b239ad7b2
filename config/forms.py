"""The site's form renderer: Django's templates, with each field wrapped in one element."""

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    field_template_name = "forms/field.html"
