"""WSGI entry point (gunicorn serves this in `loudou serve` and `loudou demo`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loudou.settings")
application = get_wsgi_application()
