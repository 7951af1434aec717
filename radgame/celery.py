"""The web-side Celery app: publishes jobs to the scoring/gpu queues and consumes the ``web`` queue.

Model work runs in ``ml.worker`` (no Django). Results come back by task name to the ``web`` queue,
where ``apps.inference.tasks`` stores them.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "radgame.settings.local")

app = Celery("radgame")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
