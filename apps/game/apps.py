from django.apps import AppConfig


class GameConfig(AppConfig):
    name = "apps.game"
    label = "game"

    def ready(self) -> None:
        from apps.exercises.hooks import on_attempt_credited

        from .services import GAME_FACTS, game_attempt_credited

        on_attempt_credited(game_attempt_credited, GAME_FACTS)
