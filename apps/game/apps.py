from django.apps import AppConfig


class GameConfig(AppConfig):
    name = "apps.game"
    label = "game"
