"""factory_boy factories. Tenant models (Project, ...) must be built inside `tenant_context`."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory, Password

from apps.accounts.models import User
from apps.organizations.models import Membership, Role
from apps.projects.models import Environment, Project


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name")
    # Unusable unless a test passes password=...: hashing with Argon2 costs ~0.1 s per user.
    password = Password(None)


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n:03d}")
    slug = factory.Sequence(lambda n: f"project-{n:03d}")
    base_url = factory.Sequence(lambda n: f"https://app{n}.example.com/")
    description = ""


class EnvironmentFactory(DjangoModelFactory):
    class Meta:
        model = Environment

    project = factory.SubFactory(ProjectFactory)
    name = "staging"
    url = factory.Sequence(lambda n: f"https://staging{n}.example.com/")
