from rest_framework.pagination import CursorPagination


class CreatedCursorPagination(CursorPagination):
    """Stable pages under concurrent writes; `?ordering=` may pick another indexed field."""

    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200
