"""The Celery application.

With no `CELERY_BROKER_URL` set, settings turn on `task_always_eager`, so tasks run in-process
and a new user needs no broker. With one set, a real worker runs them:

    celery -A registry worker -l info
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
