from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connection, models

from apps.core.models import BaseModel


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_RUN_STATUSES = frozenset({RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR, RunStatus.CANCELLED})


class RunTrigger(models.TextChoices):
    MANUAL = "manual", "Manual"
    API = "api", "API"
    CLI = "cli", "Command line"
    SCHEDULE = "schedule", "Schedule"
    CI = "ci", "CI"


class RunKind(models.TextChoices):
    BROWSER = "browser", "Browser tests"
    COMMAND = "command", "Command (any framework)"
    IMPORT = "import", "Imported JUnit report"


class Run(BaseModel):
    """One request to run tests; fans out into a TestResult per test and device."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="runs")
    # Per-project sequence number users talk about ("run #42"), assigned under a project row lock.
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=RunKind.choices, default=RunKind.BROWSER)
    environment = models.ForeignKey("projects.Environment", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="runs")
    # The base URL the run targeted, kept as it was at the start.
    target_url = models.URLField(max_length=500, blank=True)
    suite = models.ForeignKey("generated_tests.Suite", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="runs")
    schedule = models.ForeignKey("test_runs.Schedule", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="runs")
    browser = models.CharField(max_length=16, default="chromium")
    devices = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices, default=RunTrigger.MANUAL)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True)
    # Retry policy: a failed or errored test is tried again up to this many times.
    retries = models.PositiveSmallIntegerField(default=0)
    # Screenshot policy: "every_step" or "on_failure".
    screenshots = models.CharField(max_length=16, default="every_step")
    total = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errored = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # Who started it: a user (public schema, no constraint) and a label that survives them
    # ("ada@example.com", "API key argus_ab12", "schedule Nightly").
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True,
                                   related_name="+", db_constraint=False)
    started_by_label = models.CharField(max_length=254, blank=True)
    # Why the run as a whole errored (unreachable target, workspace missing, ...).
    error_message = models.TextField(blank=True)
    # Command runs: {"command": "...", "workspace": "...", "junit_path": "...", "timeout_seconds": n}
    # and the variables it got (names only; values live in the environment's variables).
    command = models.JSONField(default=dict, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    # CI metadata (branch, commit, build URL) for imported and CI-triggered runs.
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="run_number_unique_per_project")]

    def __str__(self) -> str:
        return f"{self.project} #{self.number}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_RUN_STATUSES

    @property
    def completed(self) -> int:
        return self.passed + self.failed + self.errored + self.skipped + self.cancelled


class ResultStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_RESULT_STATUSES = frozenset({ResultStatus.PASSED, ResultStatus.FAILED, ResultStatus.ERROR,
                                      ResultStatus.SKIPPED, ResultStatus.CANCELLED})


class TestResult(BaseModel):
    """One test on one device within a run (or one JUnit test case of a command or imported run)."""

    __test__ = False

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="results")
    test = models.ForeignKey("generated_tests.Test", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="results")
    test_version = models.PositiveIntegerField(null=True, blank=True)
    # The definition this result executed, frozen at queue time so later edits don't change its trace.
    definition = models.JSONField(default=dict, blank=True)
    name = models.CharField(max_length=500)
    # JUnit classname / file for results that come from a JUnit report.
    classname = models.CharField(max_length=500, blank=True)
    device = models.CharField(max_length=32, blank=True)
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=ResultStatus.choices, default=ResultStatus.QUEUED,
                              db_index=True)
    attempt = models.PositiveSmallIntegerField(default=0)
    # How often the reaper re-queued it after its worker was lost.
    requeues = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error_type = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    # Captured output (JUnit system-out / system-err), already masked.
    output = models.TextField(blank=True)
    celery_task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    # The worker touches this while it runs the test; the reaper looks for stale ones.
    heartbeat_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["position", "device"]
        indexes = [models.Index(fields=["run", "status"])]

    def __str__(self) -> str:
        return f"{self.name} [{self.device}]" if self.device else self.name

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_RESULT_STATUSES


class StepStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"
    SKIPPED = "skipped", "Skipped"


class StepResult(BaseModel):
    """A trace step: what one action did, where, how long it took and what the page reported."""

    result = models.ForeignKey(TestResult, on_delete=models.CASCADE, related_name="steps")
    attempt = models.PositiveSmallIntegerField(default=0)
    index = models.PositiveIntegerField()
    action = models.CharField(max_length=32)
    # A one-line human description ("Click “Add to cart” button"), masked.
    description = models.CharField(max_length=500, blank=True)
    # The step's target as defined (locators), masked, and the locator that found the element.
    target = models.JSONField(default=dict, blank=True)
    resolved_locator = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.RUNNING)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    page_url = models.CharField(max_length=2000, blank=True)
    error = models.TextField(blank=True)
    screenshot = models.ForeignKey("test_runs.Artifact", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    console_errors = models.JSONField(default=list, blank=True)
    failed_requests = models.JSONField(default=list, blank=True)
    # Extract steps: {"name": ..., "value": ...} (masked when it holds a secret).
    extracted = models.JSONField(default=dict, blank=True)
    # The fingerprint of the element the step acted on (for healing), when it found one.
    fingerprint = models.JSONField(null=True, blank=True)
    # When the step's locators broke: what self-healing did (apps.healing.runtime.StepHealer.record).
    healing = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "index"]
        constraints = [
            models.UniqueConstraint(fields=["result", "attempt", "index"], name="step_unique_per_attempt"),
        ]

    def __str__(self) -> str:
        return f"{self.result} step {self.index} {self.action}"


class ArtifactKind(models.TextChoices):
    SCREENSHOT = "screenshot", "Screenshot"
    DOM_SNAPSHOT = "dom_snapshot", "DOM snapshot"
    LOG = "log", "Log"
    JUNIT = "junit", "JUnit XML"
    WORKSPACE = "workspace", "Workspace archive"
    OTHER = "other", "Other"


def artifact_upload_to(artifact: "Artifact", filename: str) -> str:
    # The schema name keeps every organization's files apart in one bucket or folder.
    return f"{connection.schema_name}/runs/{artifact.run_id}/{artifact.id}/{filename}"


class Artifact(BaseModel):
    """A file a run produced or received, in Django's default storage."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="artifacts")
    result = models.ForeignKey(TestResult, on_delete=models.CASCADE, null=True, blank=True,
                               related_name="artifacts")
    kind = models.CharField(max_length=16, choices=ArtifactKind.choices)
    name = models.CharField(max_length=255)
    file = models.FileField(upload_to=artifact_upload_to, max_length=500)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name


class LogStream(models.TextChoices):
    STDOUT = "stdout", "stdout"
    STDERR = "stderr", "stderr"
    SYSTEM = "system", "Argus"


class RunLogLine(BaseModel):
    """A line of a run's log (command output, engine messages), stored as it arrives so nothing is lost."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="log_lines")
    seq = models.PositiveIntegerField()
    stream = models.CharField(max_length=8, choices=LogStream.choices, default=LogStream.SYSTEM)
    text = models.TextField()

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="log_line_unique_seq")]


class Schedule(BaseModel):
    """Runs a suite on a cron expression; the beat tick enqueues it when `next_run_at` is due."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="schedules")
    suite = models.ForeignKey("generated_tests.Suite", on_delete=models.CASCADE, related_name="schedules")
    environment = models.ForeignKey("projects.Environment", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="schedules")
    name = models.CharField(max_length=200)
    cron = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, default="UTC")
    devices = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True,
                                   related_name="+", db_constraint=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
