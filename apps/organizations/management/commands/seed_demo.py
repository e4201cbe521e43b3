"""Seeds the demo organization `demo` with an admin, a developer, a viewer and a project.

Idempotent: a second run changes nothing that exists.
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.organizations.models import Membership, Organization, Role
from apps.organizations.services import organization_provision
from apps.projects.models import Project
from apps.projects.services import project_create

DEMO_SLUG = "demo"
DEMO_PASSWORD = "argus-demo-password"  # noqa: S105 - the documented demo login
DEMO_ADMIN = "admin@demo.argus.test"
DEMO_MEMBERS = {"developer@demo.argus.test": Role.DEVELOPER, "viewer@demo.argus.test": Role.VIEWER}


class Command(BaseCommand):
    help = "Create the demo organization and its users (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=DEMO_SLUG).first()
        if organization is None:
            organization, admin = organization_provision(
                name="Demo Shop", slug=DEMO_SLUG, owner_email=DEMO_ADMIN, owner_password=DEMO_PASSWORD,
                owner_full_name="Demo Admin", plan_code="team",
            )
            # The demo admin is also platform staff, so the platform admin can be tried at once.
            admin.is_staff = admin.is_superuser = True
            admin.save(update_fields=["is_staff", "is_superuser"])
            self.stdout.write(f"Created organization {organization.slug}")
        admin = User.objects.get(email=DEMO_ADMIN)
        for email, role in DEMO_MEMBERS.items():
            user = User.objects.filter(email=email).first() or User.objects.create_user(
                email=email, password=DEMO_PASSWORD, full_name=role.label
            )
            Membership.objects.get_or_create(user=user, organization=organization, defaults={"role": role})
        with tenant_context(organization):
            if not Project.objects.exists():
                project_create(
                    actor=admin, name="Demo shop", base_url="http://127.0.0.1:8000/",
                    description="The demo web shop used by the smoke suite.",
                    environments={"dev": "http://127.0.0.1:8000/", "staging": "https://staging.shop.example/"},
                )
        self.stdout.write(self.style.SUCCESS(f"Demo organization ready: {DEMO_ADMIN} / {DEMO_PASSWORD}"))
