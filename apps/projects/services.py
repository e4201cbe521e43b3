from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.audit.services import audit_record, diff, snapshot
from apps.core.errors import ApplicationError
from apps.projects.models import Environment, EnvironmentName, EnvironmentVariable, Project

PROJECT_AUDITED_FIELDS = ["name", "slug", "base_url", "description"]


def _environments_snapshot(project: Project) -> dict[str, str]:
    return {env.name: env.url for env in project.environments.all()}


def _unique_slug(name: str, requested: str | None) -> str:
    slug = slugify(requested or name)[:60]
    if not slug:
        raise ApplicationError("The project needs a name made of letters or digits.", code="invalid",
                               details={"name": ["Use at least one letter or digit."]})
    if requested:
        if Project.objects.filter(slug=slug).exists():
            raise ApplicationError(f"A project with the slug “{slug}” exists.", code="slug_taken",
                                   details={"slug": ["This slug is taken."]}, status_code=409)
        return slug
    candidate, counter = slug, 2
    while Project.objects.filter(slug=candidate).exists():
        candidate = f"{slug[:55]}-{counter}"
        counter += 1
    return candidate


def _set_environments(project: Project, environments: dict[str, str]) -> None:
    unknown = set(environments) - set(EnvironmentName.values)
    if unknown:
        raise ApplicationError(f"Environments must be among {EnvironmentName.values}.", code="invalid",
                               details={"environments": [f"Unknown environment: {name}" for name in sorted(unknown)]})
    for name, url in environments.items():
        if url:
            Environment.objects.update_or_create(project=project, name=name, defaults={"url": url})
        else:
            Environment.objects.filter(project=project, name=name).delete()


@transaction.atomic
def project_create(
    *, actor, name: str, base_url: str, description: str = "", slug: str | None = None,
    environments: dict[str, str] | None = None,
) -> Project:
    project = Project(name=name.strip(), slug=_unique_slug(name, slug), base_url=base_url, description=description)
    project.full_clean()
    try:
        project.save()
    except IntegrityError as exc:  # a concurrent create took the slug between check and insert
        raise ApplicationError("A project with this slug exists.", code="slug_taken", status_code=409) from exc
    _set_environments(project, environments or {})
    audit_record(actor=actor, action="project.created", target=project,
                 changes={**snapshot(project, PROJECT_AUDITED_FIELDS), "environments": _environments_snapshot(project)})
    return project


@transaction.atomic
def project_update(*, project: Project, actor, environments: dict[str, str] | None = None, **fields) -> Project:
    if project.is_archived:
        raise ApplicationError("Archived projects are read-only. Restore it first.", code="archived", status_code=409)
    before = {**snapshot(project, PROJECT_AUDITED_FIELDS), "environments": _environments_snapshot(project)}
    if "slug" in fields and fields["slug"] != project.slug:
        fields["slug"] = _unique_slug(project.name, fields["slug"])
    for field, value in fields.items():
        if field not in PROJECT_AUDITED_FIELDS:
            raise ApplicationError(f"“{field}” cannot be changed.", code="invalid")
        setattr(project, field, value)
    project.full_clean()
    project.save()
    if environments is not None:
        _set_environments(project, environments)
    after = {**snapshot(project, PROJECT_AUDITED_FIELDS), "environments": _environments_snapshot(project)}
    changes = diff(before, after)
    if changes:
        audit_record(actor=actor, action="project.updated", target=project, changes=changes)
    return project


@transaction.atomic
def project_archive(*, project: Project, actor) -> Project:
    if not project.is_archived:
        project.archived_at = timezone.now()
        project.save(update_fields=["archived_at", "updated_at"])
        audit_record(actor=actor, action="project.archived", target=project)
    return project


@transaction.atomic
def project_restore(*, project: Project, actor) -> Project:
    if project.is_archived:
        project.archived_at = None
        project.save(update_fields=["archived_at", "updated_at"])
        audit_record(actor=actor, action="project.restored", target=project)
    return project


def _check_project_writable(project: Project) -> None:
    if project.is_archived:
        raise ApplicationError("Archived projects are read-only. Restore it first.", code="archived", status_code=409)


@transaction.atomic
def environment_variable_set(
    *, environment: Environment, actor, name: str, value: str, is_secret: bool = False,
) -> EnvironmentVariable:
    """Create or replace a variable. The audit trail records that it changed, never its value."""
    _check_project_writable(environment.project)
    # The environment's row lock serializes two first writes of one name (no unique-constraint race).
    Environment.objects.select_for_update().filter(pk=environment.pk).first()
    variable = EnvironmentVariable.objects.filter(environment=environment, name=name).first()
    created = variable is None
    if created:
        variable = EnvironmentVariable(environment=environment, name=name)
    value_changed = created or variable.value != value
    secrecy_changed = not created and variable.is_secret != is_secret
    variable.value, variable.is_secret = value, is_secret
    variable.full_clean(exclude=["environment"], validate_constraints=False)
    variable.save()
    if created or value_changed or secrecy_changed:
        audit_record(actor=actor, action="variable.created" if created else "variable.updated", target=variable,
                     changes={"environment": environment.name, "name": name, "is_secret": is_secret,
                              "value_changed": value_changed})
    return variable


@transaction.atomic
def environment_variable_delete(*, variable: EnvironmentVariable, actor) -> None:
    _check_project_writable(variable.environment.project)
    audit_record(actor=actor, action="variable.deleted", target=variable,
                 changes={"environment": variable.environment.name, "name": variable.name})
    variable.delete()
