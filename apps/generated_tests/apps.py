from django.apps import AppConfig


class GeneratedTestsConfig(AppConfig):
    name = "apps.generated_tests"
    label = "generated_tests"
    verbose_name = "Tests and suites"
