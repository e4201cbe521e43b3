from django.apps import AppConfig


class ProductionEventsConfig(AppConfig):
    name = "apps.production_events"
    label = "production_events"
    verbose_name = "Production errors"
