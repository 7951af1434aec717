from django.apps import AppConfig


class LocalizationConfig(AppConfig):
    name = "apps.localization"
    label = "localization"
