"""Websocket routes."""

from django.urls import path

from apps.inference.consumers import JobStatusConsumer

websocket_urlpatterns = [
    path("ws/jobs/", JobStatusConsumer.as_asgi()),
]
