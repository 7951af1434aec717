"""The web-side Celery app: publishes jobs to the scoring/gpu queues and consumes the ``web`` queue.

Model work runs in ``ml.worker`` (no Django). Results come back by task name to the ``web`` queue,
where ``apps.inference.tasks`` stores them.
"""

import os
from typing import Any

from celery import Celery
from celery.signals import celeryd_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "radgame.settings.local")

app = Celery("radgame")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Read timeouts that bound a publish in a request (settings: CELERY_BROKER_SOCKET_TIMEOUT).
REQUEST_PATH_OPTIONS = ("socket_timeout", "socket_connect_timeout")


@celeryd_init.connect
def consumers_wait_for_the_broker(conf: Any, **kwargs: Any) -> None:
    """A worker (the web queue's) keeps kombu's default socket timeouts: the half second bounds a
    publish in a request, where the sweeper is the fallback. In a worker busy while the broker
    stops answering, it would drop the connection several times within seconds, and a Celery
    worker that loses it repeatedly may never consume again (celery#8030). The one short chaos run
    with the half second in the workers too left 37 of 56 explanation jobs unfinished after its
    drain (the cause not isolated); the runs before, with workers as here, finished every job."""
    conf.broker_transport_options = {
        key: value
        for key, value in conf.broker_transport_options.items()
        if key not in REQUEST_PATH_OPTIONS
    }
