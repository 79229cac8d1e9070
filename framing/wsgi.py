import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "framing.settings")
application = get_wsgi_application()

# Load the views now, then move everything that lives as long as the process out of the
# garbage collector's sight: each collection then scans what requests made, not Django's
# hundred thousand start-up objects (which made full collections dominate heavy pages).
get_resolver().url_patterns  # noqa: B018 - imports every view module
gc.freeze()
