from django.apps import AppConfig


class TestRunsConfig(AppConfig):
    name = "apps.test_runs"
    label = "test_runs"
    verbose_name = "Runs"
