from django.apps import AppConfig


class SyroMusicConfig(AppConfig):
    name = "SyroMusic"
    verbose_name = "SyroMusic catalogue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals

        signals.connect()
