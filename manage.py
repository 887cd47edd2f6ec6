#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "Syro.settings")
    if sys.argv[1:2] != ["runserver"]:
        # The statement timeout is for web requests: migrate, seed_catalogue and the imports may
        # rightly run one statement for minutes on a big catalogue.
        os.environ["DATABASE_STATEMENT_TIMEOUT_MS"] = "0"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
