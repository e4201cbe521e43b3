"""Invitations: e-mailed link with a one-time token (stored hashed), accepted once, for 7 days."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.audit.models import AuditEntry
from apps.core.errors import ApplicationError
from apps.organizations.models import Invitation, Membership, Role
from apps.organizations.services import invitation_accept
from tests.conftest import PASSWORD, error_of
from tests.factories import UserFactory

ACCEPT_LINK = re.compile(r"https?://alpha\.localhost(?::\d+)?/invitations/accept/([\w-]+)/")


@pytest.fixture
def invite(alpha, api_client, django_capture_on_commit_callbacks):
    """Invites by the API as alpha's admin, sends the e-mail, returns (invitation, raw token)."""
    client = api_client(alpha, user=alpha.admin)

    def send(email: str, role: str = Role.DEVELOPER) -> tuple[Invitation, str]:
        outbox_before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/v1/invitations", {"email": email, "role": role}, format="json")
        assert response.status_code == 201, response.content
        assert len(mail.outbox) == outbox_before + 1
        token = ACCEPT_LINK.search(mail.outbox[-1].body).group(1)
        return Invitation.objects.get(pk=response.json()["id"]), token

    return send


def accept(alpha, token: str, **kwargs) -> Membership:
    with tenant_context(alpha.organization):
        return invitation_accept(organization=alpha.organization, token=token, **kwargs)


def refusal(alpha, token: str, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        accept(alpha, token, **kwargs)
    return caught.value


def test_invite_emails_the_link_and_stores_only_the_token_hash(alpha, invite):
    invitation, token = invite("New.Person@Example.test", Role.VIEWER)

    message = mail.outbox[-1]
    assert message.to == ["new.person@example.test"]
    assert alpha.organization.name in message.subject
    assert invitation.email == "new.person@example.test"
    assert invitation.role == Role.VIEWER and invitation.invited_by_id == alpha.admin.pk
    assert invitation.status == "pending"
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert not any(token in str(value) for value in row.values())
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)
    with tenant_context(alpha.organization):
        entry = AuditEntry.objects.get(action="invitation.created", object_id=str(invitation.pk))
    assert token not in str(entry.changes)


def test_api_answers_no_token(alpha, api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(alpha, user=alpha.admin).post(
            "/api/v1/invitations", {"email": "x@example.test"}, format="json")

    token = ACCEPT_LINK.search(mail.outbox[-1].body).group(1)
    assert response.status_code == 201
    assert response.json()["role"] == Role.DEVELOPER  # the default
    assert token not in response.content.decode()


def test_new_person_accepts_and_gets_an_account_with_the_invited_role(alpha, invite):
    invitation, token = invite("fresh@example.test", Role.VIEWER)

    membership = accept(alpha, token, password=PASSWORD, full_name="Fresh Person")

    user = User.objects.get(email="fresh@example.test")
    assert user.check_password(PASSWORD) and user.full_name == "Fresh Person"
    assert (membership.user, membership.organization, membership.role) == (user, alpha.organization, Role.VIEWER)
    invitation.refresh_from_db()
    assert invitation.status == "accepted" and invitation.accepted_by == user
    # The link works once.
    assert refusal(alpha, token, password=PASSWORD).code == "invitation_accepted"


def test_new_person_with_a_weak_password_gets_nothing(alpha, invite):
    _invitation, token = invite("weak@example.test")

    assert refusal(alpha, token, password="123").code == "weak_password"

    assert not User.objects.filter(email="weak@example.test").exists()
    assert accept(alpha, token, password=PASSWORD).role == Role.DEVELOPER


def test_existing_user_accepts_when_signed_in_with_the_same_address(alpha, bravo, invite):
    _invitation, token = invite(bravo.developer.email.upper(), Role.ADMIN)

    membership = accept(alpha, token, user=bravo.developer)

    assert (membership.user, membership.role) == (bravo.developer, Role.ADMIN)
    # Membership elsewhere is untouched.
    assert bravo.membership(bravo.developer).role == Role.DEVELOPER


def test_existing_user_must_sign_in_to_accept(alpha, bravo, invite):
    _invitation, token = invite(bravo.viewer.email)

    error = refusal(alpha, token, password="Another-password-123")

    assert (error.code, error.status_code) == ("login_required", 401)
    assert not Membership.objects.filter(organization=alpha.organization, user=bravo.viewer).exists()
    assert bravo.viewer.__class__.objects.get(pk=bravo.viewer.pk).check_password(PASSWORD)


def test_signed_in_user_with_another_address_is_refused(alpha, invite):
    invitation, token = invite("intended@example.test")
    someone_else = UserFactory(email="someone.else@example.test")

    error = refusal(alpha, token, user=someone_else)

    assert (error.code, error.status_code) == ("invitation_email_mismatch", 403)
    assert not Membership.objects.filter(organization=alpha.organization, user=someone_else).exists()
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_expired_invitation_is_refused(alpha, invite):
    invitation, token = invite("late@example.test")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    error = refusal(alpha, token, password=PASSWORD)

    assert (error.code, error.status_code) == ("invitation_expired", 410)
    assert not User.objects.filter(email="late@example.test").exists()


def test_revoked_invitation_is_refused(alpha, api_client, invite):
    invitation, token = invite("revoked@example.test")

    response = api_client(alpha, user=alpha.admin).delete(f"/api/v1/invitations/{invitation.pk}")

    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert refusal(alpha, token, password=PASSWORD).code == "invitation_revoked"
    assert not User.objects.filter(email="revoked@example.test").exists()


def test_unknown_token_and_other_orgs_token_are_invalid(alpha, bravo, invite):
    _invitation, token = invite("someone@example.test")

    assert refusal(alpha, "made-up-token", password=PASSWORD).code == "invitation_invalid"
    with tenant_context(bravo.organization), pytest.raises(ApplicationError) as caught:
        invitation_accept(organization=bravo.organization, token=token, password=PASSWORD)
    assert caught.value.code == "invitation_invalid"


def test_reinvite_replaces_the_pending_invitation(alpha, invite, api_client):
    first, first_token = invite("twice@example.test", Role.VIEWER)
    second, second_token = invite("twice@example.test", Role.DEVELOPER)

    first.refresh_from_db()
    assert first.status == "revoked" and second.status == "pending"
    assert refusal(alpha, first_token, password=PASSWORD).code == "invitation_revoked"
    assert accept(alpha, second_token, password=PASSWORD).role == Role.DEVELOPER
    pending = [row for row in api_client(alpha, user=alpha.admin).get("/api/v1/invitations").json()["results"]
               if row["email"] == "twice@example.test" and row["status"] == "pending"]
    assert pending == []


def test_inviting_an_existing_member_conflicts(alpha, api_client):
    response = api_client(alpha, user=alpha.admin).post(
        "/api/v1/invitations", {"email": alpha.viewer.email.upper(), "role": "admin"}, format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "already_member"
    assert not Invitation.objects.filter(organization=alpha.organization, email=alpha.viewer.email).exists()
    assert len(mail.outbox) == 0


# The accept page on the organization's host.


def accept_path(token: str) -> str:
    return f"/invitations/accept/{token}/"


def test_accept_page_creates_the_account_and_signs_in(alpha, invite):
    _invitation, token = invite("page@example.test", Role.VIEWER)
    client = Client(HTTP_HOST=alpha.host)
    assert client.get(accept_path(token)).status_code == 200

    response = client.post(accept_path(token), {"full_name": "Page Person", "password": PASSWORD})

    assert (response.status_code, response["Location"]) == (302, "/")
    assert client.get("/api/v1/me").json() | {"id": None} == {
        "id": None, "email": "page@example.test", "full_name": "Page Person", "role": "viewer",
        "organization": "alpha", "authenticated_with": "session"}


def test_accept_page_for_an_existing_account_asks_to_sign_in_first(alpha, bravo, invite):
    _invitation, token = invite(bravo.viewer.email)
    client = Client(HTTP_HOST=alpha.host)

    page = client.get(accept_path(token))
    refused = client.post(accept_path(token), {"full_name": "Impostor", "password": PASSWORD})

    assert "Sign in to accept" in page.content.decode()
    assert refused.status_code == 200 and "Sign in to accept" in refused.content.decode()
    assert not Membership.objects.filter(organization=alpha.organization, user=bravo.viewer).exists()

    # Signing in on alpha's host is allowed for the invited address, then accepting works.
    login = client.post(f"/login/?next={accept_path(token)}",
                        {"email": bravo.viewer.email, "password": PASSWORD, "next": accept_path(token)})
    assert (login.status_code, login["Location"]) == (302, accept_path(token))
    assert client.post(accept_path(token))["Location"] == "/"
    assert alpha.membership(bravo.viewer).role == Role.DEVELOPER


def test_accept_page_refuses_another_signed_in_address(alpha, invite):
    _invitation, token = invite("intended@example.test")
    client = Client(HTTP_HOST=alpha.host)
    client.force_login(alpha.viewer)

    page = client.get(accept_path(token))
    post = client.post(accept_path(token))

    assert page.status_code == post.status_code == 403
    assert Invitation.objects.get(email="intended@example.test", revoked_at__isnull=True).status == "pending"


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_accept_page_refuses_dead_invitations(state, alpha, invite):
    invitation, token = invite("dead@example.test")
    field = {"revoked": "revoked_at", "expired": "expires_at"}[state]
    Invitation.objects.filter(pk=invitation.pk).update(**{field: timezone.now() - timedelta(seconds=1)})

    response = Client(HTTP_HOST=alpha.host).post(accept_path(token), {"full_name": "X", "password": PASSWORD})

    assert response.status_code == 410
    assert not User.objects.filter(email="dead@example.test").exists()


def test_accept_page_with_an_unknown_token_is_not_found(alpha):
    assert Client(HTTP_HOST=alpha.host).get(accept_path("nope")).status_code == 404
