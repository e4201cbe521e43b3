"""/api/v1/ operations of production_events; argus/api_urls.py appends these patterns to its flat list."""

from apps.production_events.events_api_urls import urlpatterns as events_patterns
from apps.production_events.intake_api_urls import urlpatterns as intake_patterns
from apps.production_events.quality_api_urls import urlpatterns as quality_patterns

urlpatterns = [*intake_patterns, *events_patterns, *quality_patterns]
