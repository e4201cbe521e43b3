"""Every /api/v1/ path of the tenant hosts."""

from django.urls import path

from apps.accounts.apis import ApiKeyDetailApi, ApiKeyListCreateApi, MeApi
from apps.audit.apis import AuditEntryListApi
from apps.generated_tests.apis import (
    SuiteDetailApi,
    SuiteListCreateApi,
    TestDetailApi,
    TestExportApi,
    TestImportApi,
    TestListCreateApi,
    TestValidateApi,
    TestVersionListApi,
    TestVersionRestoreApi,
)
from apps.healing.api_urls import urlpatterns as healing_patterns
from apps.integrations.api_urls import urlpatterns as integrations_patterns
from apps.organizations.apis import (
    InvitationDetailApi,
    InvitationListCreateApi,
    MemberDetailApi,
    MemberListApi,
    OrganizationApi,
)
from apps.production_events.api_urls import urlpatterns as production_events_patterns
from apps.projects.apis import (
    EnvironmentVariableDetailApi,
    EnvironmentVariableListSetApi,
    ProjectArchiveApi,
    ProjectDetailApi,
    ProjectListCreateApi,
    ProjectRestoreApi,
)
from apps.risk_scores.api_urls import urlpatterns as risk_scores_patterns
from apps.test_runs.apis import (
    ArtifactContentApi,
    CommandRunCreateApi,
    DeviceListApi,
    JobDetailApi,
    JunitImportApi,
    LegacyTestRunApi,
    ResultDetailApi,
    ResultStepListApi,
    RunArtifactListApi,
    RunCancelApi,
    RunDetailApi,
    RunHtmlReportApi,
    RunJunitXmlApi,
    RunListCreateApi,
    RunLogApi,
    RunMarkdownReportApi,
    RunRerunFailedApi,
    RunResultListApi,
    ScheduleDetailApi,
    ScheduleListCreateApi,
)

urlpatterns = [
    path("me", MeApi.as_view(), name="api-me"),
    path("organization", OrganizationApi.as_view(), name="api-organization"),
    path("members", MemberListApi.as_view(), name="api-members"),
    path("members/<uuid:member_id>", MemberDetailApi.as_view(), name="api-member-detail"),
    path("invitations", InvitationListCreateApi.as_view(), name="api-invitations"),
    path("invitations/<uuid:invitation_id>", InvitationDetailApi.as_view(), name="api-invitation-detail"),
    path("api-keys", ApiKeyListCreateApi.as_view(), name="api-api-keys"),
    path("api-keys/<uuid:key_id>", ApiKeyDetailApi.as_view(), name="api-api-key-detail"),
    path("projects", ProjectListCreateApi.as_view(), name="api-projects"),
    path("projects/<uuid:project_id>", ProjectDetailApi.as_view(), name="api-project-detail"),
    path("projects/<uuid:project_id>/archive", ProjectArchiveApi.as_view(), name="api-project-archive"),
    path("projects/<uuid:project_id>/restore", ProjectRestoreApi.as_view(), name="api-project-restore"),
    path("projects/<uuid:project_id>/environments/<str:environment_name>/variables",
         EnvironmentVariableListSetApi.as_view(), name="api-project-variables"),
    path("projects/<uuid:project_id>/environments/<str:environment_name>/variables/<str:variable_name>",
         EnvironmentVariableDetailApi.as_view(), name="api-project-variable-detail"),
    path("audit-log", AuditEntryListApi.as_view(), name="api-audit-log"),
    # Tests and suites
    path("tests", TestListCreateApi.as_view(), name="api-tests"),
    path("tests/import", TestImportApi.as_view(), name="api-tests-import"),
    path("tests/validate", TestValidateApi.as_view(), name="api-tests-validate"),
    path("tests/run", LegacyTestRunApi.as_view(), name="api-tests-run"),
    path("tests/<uuid:test_id>", TestDetailApi.as_view(), name="api-test-detail"),
    path("tests/<uuid:test_id>/versions", TestVersionListApi.as_view(), name="api-test-versions"),
    path("tests/<uuid:test_id>/versions/<int:number>/restore", TestVersionRestoreApi.as_view(),
         name="api-test-version-restore"),
    path("tests/<uuid:test_id>/export", TestExportApi.as_view(), name="api-test-export"),
    path("suites", SuiteListCreateApi.as_view(), name="api-suites"),
    path("suites/<uuid:suite_id>", SuiteDetailApi.as_view(), name="api-suite-detail"),
    # Runs, results, artifacts, reports
    path("devices", DeviceListApi.as_view(), name="api-devices"),
    path("runs", RunListCreateApi.as_view(), name="api-runs"),
    path("runs/command", CommandRunCreateApi.as_view(), name="api-runs-command"),
    path("runs/junit", JunitImportApi.as_view(), name="api-runs-junit"),
    path("runs/<uuid:run_id>", RunDetailApi.as_view(), name="api-run-detail"),
    path("runs/<uuid:run_id>/cancel", RunCancelApi.as_view(), name="api-run-cancel"),
    path("runs/<uuid:run_id>/rerun-failed", RunRerunFailedApi.as_view(), name="api-run-rerun-failed"),
    path("runs/<uuid:run_id>/results", RunResultListApi.as_view(), name="api-run-results"),
    path("runs/<uuid:run_id>/artifacts", RunArtifactListApi.as_view(), name="api-run-artifacts"),
    path("runs/<uuid:run_id>/logs", RunLogApi.as_view(), name="api-run-logs"),
    path("runs/<uuid:run_id>/report.html", RunHtmlReportApi.as_view(), name="api-run-report-html"),
    path("runs/<uuid:run_id>/report.md", RunMarkdownReportApi.as_view(), name="api-run-report-md"),
    path("runs/<uuid:run_id>/junit.xml", RunJunitXmlApi.as_view(), name="api-run-junit-xml"),
    path("results/<uuid:result_id>", ResultDetailApi.as_view(), name="api-result-detail"),
    path("results/<uuid:result_id>/steps", ResultStepListApi.as_view(), name="api-result-steps"),
    path("artifacts/<uuid:artifact_id>/content", ArtifactContentApi.as_view(), name="api-artifact-content"),
    path("schedules", ScheduleListCreateApi.as_view(), name="api-schedules"),
    path("schedules/<uuid:schedule_id>", ScheduleDetailApi.as_view(), name="api-schedule-detail"),
    # Task-style paths users of the original Argus know (ARCHITECTURE.md, "Public API contract")
    path("jobs/<uuid:run_id>", JobDetailApi.as_view(), name="api-job-detail"),
]
# Later apps keep their operations in apps/<app>/api_urls.py; the list stays flat for the isolation tests.
urlpatterns += [*production_events_patterns, *risk_scores_patterns, *healing_patterns, *integrations_patterns]
