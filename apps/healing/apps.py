from django.apps import AppConfig


class HealingConfig(AppConfig):
    name = "apps.healing"
    label = "healing"
    verbose_name = "Healing"
