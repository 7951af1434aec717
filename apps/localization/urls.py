app_name = "localization"

urlpatterns: list = []
