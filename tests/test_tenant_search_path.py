"""With TENANT_LIMIT_SET_CALLS the search_path is set once per tenant switch. PostgreSQL undoes a SET
with the transaction or savepoint that issued it, so after such a rollback the path must be set again:
otherwise the next statement would run in the previous tenant's schema. django-tenants forgets the
path on ROLLBACK and ROLLBACK TO SAVEPOINT; these tests pin that (they fail without it)."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction


def _search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return cursor.fetchone()[0]


@pytest.fixture
def schemas(session_orgs, django_db_blocker) -> Iterator[tuple[str, str]]:
    """Alpha's and bravo's schemas, with real autocommit (outside the test-case transaction)."""
    with django_db_blocker.unblock():
        yield session_orgs["alpha"].organization.schema_name, session_orgs["bravo"].organization.schema_name
        connection.set_schema_to_public()


def test_the_setting_is_on():
    assert settings.TENANT_LIMIT_SET_CALLS is True


def test_a_rolled_back_transaction_that_set_the_path_does_not_leave_the_previous_tenant(schemas):
    alpha, bravo = schemas
    connection.set_schema(alpha)
    assert _search_path().startswith(alpha)  # set in autocommit: it stays
    connection.set_schema(bravo)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert _search_path().startswith(bravo)  # set inside the transaction
        raise RuntimeError("ROLLBACK: PostgreSQL puts alpha's path back")
    assert _search_path().startswith(bravo)


def test_a_rolled_back_savepoint_that_set_the_path_does_not_leave_the_previous_tenant(schemas):
    alpha, bravo = schemas
    connection.set_schema(alpha)
    with transaction.atomic():
        assert _search_path().startswith(alpha)
        with pytest.raises(RuntimeError), transaction.atomic():
            connection.set_schema(bravo)
            assert _search_path().startswith(bravo)  # set inside the savepoint
            raise RuntimeError("ROLLBACK TO SAVEPOINT: alpha's path comes back")
        assert _search_path().startswith(bravo)


def test_a_failed_statement_rolled_back_keeps_the_current_tenant(schemas):
    alpha, bravo = schemas
    connection.set_schema(alpha)
    _search_path()
    connection.set_schema(bravo)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")
    assert _search_path().startswith(bravo)
