"""Seeds the demo organization `demo`: an admin, a developer, a viewer, and the "Demo shop" project
pointed at the demo shop (settings.ARGUS_DEMO_SHOP_URL) with its login variables, the Smoke suite
(demo_shop/suite.json, approved) and a nightly schedule.

Idempotent: a second run creates nothing twice and leaves what users changed alone. It only moves
the project's base URL and `dev` environment to the demo shop's URL when they point elsewhere.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.accounts.models import User
from apps.generated_tests.models import Suite, Test, TestStatus
from apps.generated_tests.services import suite_create, tests_import
from apps.organizations.models import Membership, Organization, Role
from apps.organizations.services import organization_provision
from apps.projects.models import Environment, EnvironmentName, Project
from apps.projects.services import environment_variable_set, project_create, project_update
from apps.test_runs.models import Schedule
from apps.test_runs.schedules import schedule_create
from demo_shop.state import DEMO_EMAIL as SHOP_EMAIL
from demo_shop.state import DEMO_PASSWORD as SHOP_PASSWORD
from demo_shop.suite import SUITE_NAME, load_suite

DEMO_SLUG = "demo"
DEMO_PASSWORD = "argus-demo-password"  # noqa: S105 - the documented demo login
DEMO_ADMIN = "admin@demo.argus.test"
DEMO_MEMBERS = {"developer@demo.argus.test": Role.DEVELOPER, "viewer@demo.argus.test": Role.VIEWER}
DEMO_PROJECT_SLUG = "demo-shop"
SCHEDULE_NAME = "Nightly smoke"
SCHEDULE_CRON = "0 3 * * *"


class Command(BaseCommand):
    help = "Create the demo organization, its users and the demo shop project with its Smoke suite (idempotent)."

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
            project = seed_project(admin)
            if project.is_archived:
                self.stdout.write(f"The project {project.slug} is archived; its tests and suite were left alone.")
            else:
                seed_variables(project, admin)
                suite = seed_suite(project, admin)
                seed_schedule(project, suite, admin)
        self.stdout.write(f"Demo project tests {settings.ARGUS_DEMO_SHOP_URL} (suite “{SUITE_NAME}”).")
        self.stdout.write(self.style.SUCCESS(f"Demo organization ready: {DEMO_ADMIN} / {DEMO_PASSWORD}"))


def seed_project(admin: User) -> Project:
    """The demo project, its base URL and `dev` environment on the demo shop."""
    shop_url = settings.ARGUS_DEMO_SHOP_URL
    project = Project.objects.filter(slug=DEMO_PROJECT_SLUG).first()
    if project is None:
        return project_create(
            actor=admin, name="Demo shop", slug=DEMO_PROJECT_SLUG, base_url=shop_url,
            description="The demo web shop (python -m demo_shop) that the Smoke suite tests.",
            environments={EnvironmentName.DEVELOPMENT: shop_url},
        )
    dev = Environment.objects.filter(project=project, name=EnvironmentName.DEVELOPMENT).first()
    if not project.is_archived and (project.base_url != shop_url or dev is None or dev.url != shop_url):
        project = project_update(project=project, actor=admin, base_url=shop_url,
                                 environments={EnvironmentName.DEVELOPMENT: shop_url})
    return project


def seed_variables(project: Project, admin: User) -> None:
    """SHOP_EMAIL and SHOP_PASSWORD (secret) on `dev`, the login the suite reads; kept if present."""
    dev = Environment.objects.get(project=project, name=EnvironmentName.DEVELOPMENT)
    existing = set(dev.variables.values_list("name", flat=True))
    for name, value, is_secret in (("SHOP_EMAIL", SHOP_EMAIL, False), ("SHOP_PASSWORD", SHOP_PASSWORD, True)):
        if name not in existing:
            environment_variable_set(environment=dev, actor=admin, name=name, value=value, is_secret=is_secret)


def seed_suite(project: Project, admin: User) -> Suite:
    """Imports the suite file's tests that the project lacks (approved), and the Smoke suite if missing."""
    document = load_suite()
    existing = set(Test.objects.filter(project=project).values_list("name", flat=True))
    missing = [entry for entry in document if entry["name"] not in existing]
    if missing:
        tests_import(project=project, actor=admin, document=missing, status=TestStatus.APPROVED)
    suite = Suite.objects.filter(project=project, name=SUITE_NAME).first()
    if suite is None:
        ids = dict(Test.objects.filter(project=project).values_list("name", "pk"))
        suite = suite_create(
            project=project, actor=admin, name=SUITE_NAME,
            description="Every page of the demo shop: search, cart, login, checkout.",
            tests=[ids[entry["name"]] for entry in document if entry["name"] in ids],
            default_environment=EnvironmentName.DEVELOPMENT, default_devices=["desktop"],
        )
    return suite


def seed_schedule(project: Project, suite: Suite, admin: User) -> None:
    if not Schedule.objects.filter(project=project).exists():
        schedule_create(project=project, actor=admin, suite=suite, name=SCHEDULE_NAME, cron=SCHEDULE_CRON,
                        environment=EnvironmentName.DEVELOPMENT, devices=["desktop"], enabled=True)
