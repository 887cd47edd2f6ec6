"""WSGI entry point: `gunicorn Syro.wsgi`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "Syro.settings")

application = get_wsgi_application()
