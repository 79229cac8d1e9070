from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "annotations"
    verbose_name = "Annotations"

    def ready(self) -> None:
        # Before any URL module is imported: their patterns use <id:...>.
        from . import converters

        converters.register()
