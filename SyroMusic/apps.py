from django.apps import AppConfig


class SyroMusicConfig(AppConfig):
    name = "SyroMusic"
    verbose_name = "SyroMusic catalogue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.backends.signals import connection_created

        from . import signals
        from .api import tokens

        signals.connect()
        tokens.connect()
        connection_created.connect(add_sqlite_functions)


def add_sqlite_functions(sender, connection, **kwargs):
    """SQLite has no unaccent: give it syro_fold() (PostgreSQL's is created by migration 0004) in Python."""
    if connection.vendor == "sqlite":
        from .text import fold

        connection.connection.create_function("syro_fold", 1, fold, deterministic=True)
