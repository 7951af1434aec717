from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .sessions import record_login_time

        user_logged_in.connect(record_login_time, dispatch_uid="accounts.record_login_time")
