"""/api/v1/ operations of production_events (quality); api_urls.py joins these lists."""

from django.urls import path

from apps.production_events.quality_apis import (
    BackfillIndexApi,
    ErrorGroupSimilarApi,
    GroupSimilarityDismissApi,
    GroupSimilarityListApi,
    GroupSimilarityMergeApi,
    SimilarErrorsApi,
    WebhookDeliveryDetailApi,
    WebhookDeliveryListApi,
    WebhookDeliveryReprocessApi,
)

urlpatterns = [
    path("quality/similar-errors", SimilarErrorsApi.as_view(), name="api-quality-similar-errors"),
    path("quality/backfill-index", BackfillIndexApi.as_view(), name="api-quality-backfill-index"),
    path("error-groups/<uuid:group_id>/similar", ErrorGroupSimilarApi.as_view(), name="api-error-group-similar"),
    path("group-similarities", GroupSimilarityListApi.as_view(), name="api-group-similarities"),
    path("group-similarities/<uuid:similarity_id>/merge", GroupSimilarityMergeApi.as_view(),
         name="api-group-similarity-merge"),
    path("group-similarities/<uuid:similarity_id>/dismiss", GroupSimilarityDismissApi.as_view(),
         name="api-group-similarity-dismiss"),
    path("webhook-deliveries", WebhookDeliveryListApi.as_view(), name="api-webhook-deliveries"),
    path("webhook-deliveries/<uuid:webhook_delivery_id>", WebhookDeliveryDetailApi.as_view(),
         name="api-webhook-delivery-detail"),
    path("webhook-deliveries/<uuid:webhook_delivery_id>/reprocess", WebhookDeliveryReprocessApi.as_view(),
         name="api-webhook-delivery-reprocess"),
]
