"""The any-framework command runner: real processes, a real Celery worker, real JUnit reports.

The first tests go through a worker process (rows committed with `committed_project`). The
validation and workspace tests call the runner in this process inside the test's transaction:
same code, no worker start-up.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tarfile
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import tenant_context

from apps.core.errors import ApplicationError
from apps.projects.models import Environment, EnvironmentVariable
from apps.projects.services import project_create
from apps.test_runs import live
from apps.test_runs.models import Artifact, Run, RunLogLine, RunStatus
from apps.test_runs.runners.command import command_run_create, execute_command_run
from apps.test_runs.services import run_cancel

SECRET = "s3cr3t-shop-token-42"
GIVEN_SECRET = "given-api-token-99"
MASK = "••••••"
FINISH_SECONDS = 90

SHOP_TESTS = textwrap.dedent("""
    import os


    def test_passes():
        print("token is", os.environ["SHOP_TOKEN"], "api", os.environ["API_TOKEN"])
        assert os.environ["GREETING"] == "hello"


    def test_fails():
        assert 1 + 1 == 3, "math is broken " + os.environ["SHOP_TOKEN"]
""")


@pytest.fixture
def dirs(tmp_path, settings) -> dict[str, Path]:
    """An allowed directory for workspace paths and the workspace root, in this process's settings and
    (through `worker_env`) in the worker's."""
    allowed, root = tmp_path / "allowed", tmp_path / "workspaces"
    allowed.mkdir()
    root.mkdir()
    settings.ARGUS_WORKSPACE_PATHS = [str(allowed)]
    settings.ARGUS_WORKSPACE_ROOT = str(root)
    return {"allowed": allowed, "root": root}


def worker_env(dirs) -> dict[str, str]:
    return {"ARGUS_WORKSPACE_PATHS": str(dirs["allowed"]), "ARGUS_WORKSPACE_ROOT": str(dirs["root"])}


def wait_finished(run: Run, worker, seconds: float = FINISH_SECONDS) -> Run:
    deadline = time.monotonic() + seconds
    while True:
        run.refresh_from_db()
        if run.is_finished:
            return run
        assert worker.process.poll() is None, worker.log()[-4000:]
        assert time.monotonic() < deadline, f"run still {run.status}:\n{worker.stuck_report()}"
        time.sleep(0.2)


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def logged(run: Run) -> list[tuple[int, str, str]]:
    return list(RunLogLine.objects.filter(run=run).order_by("seq").values_list("seq", "stream", "text"))


def artifact_text(run: Run, kind: str) -> str:
    artifact = Artifact.objects.get(run=run, kind=kind)
    with artifact.file.open("rb") as handle:
        return handle.read().decode()


class LiveListener:
    """Subscribes to a run's channel group from this process, as the WebSocket consumer does."""

    def __init__(self, schema: str):
        self.layer = get_channel_layer()
        self.schema = schema
        self.channel = async_to_sync(self.layer.new_channel)()

    def follow(self, run_id) -> None:
        async_to_sync(self.layer.group_add)(live.run_group(run_id, self.schema), self.channel)

    def drain(self, seconds: float = 1.0) -> list[dict]:
        async def receive_all():
            messages = []
            while True:
                try:
                    messages.append(await asyncio.wait_for(self.layer.receive(self.channel), seconds))
                except TimeoutError:
                    return messages
        return async_to_sync(receive_all)()


def test_a_pytest_suite_runs_through_a_worker(session_orgs, committed_project, celery_worker, django_db_blocker,
                                              dirs):
    alpha = session_orgs["alpha"]
    workspace = dirs["allowed"] / "shop"
    (workspace / "tests").mkdir(parents=True)
    (workspace / "tests" / "test_shop.py").write_text(SHOP_TESTS)
    project = committed_project(alpha, name="Command shop")
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        environment = Environment.objects.create(project=project, name="staging", url="https://staging.shop.test/")
        EnvironmentVariable.objects.create(environment=environment, name="SHOP_TOKEN", value=SECRET, is_secret=True)
    listener = LiveListener(alpha.organization.schema_name)
    worker = celery_worker(**worker_env(dirs))
    command = (f"echo start-$GREETING; echo to-stderr >&2; "
               f"{sys.executable} -m pytest -q -s -p no:cacheprovider --junitxml=reports/junit.xml tests")
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        run = command_run_create(project=project, actor=alpha.developer, command=command,
                                 env={"GREETING": "hello", "API_TOKEN": GIVEN_SECRET}, junit_path="reports/*.xml",
                                 timeout_seconds=120, workspace_path=str(workspace), environment="staging")
        listener.follow(run.pk)
        assert run.kind == "command" and run.status == RunStatus.QUEUED and run.total == 0
        assert run.command["env"] == ["API_TOKEN", "GREETING"]  # names only: values never reach the database
        run = wait_finished(run, worker)

        assert run.status == RunStatus.FAILED, run.error_message
        assert run.exit_code == 1
        assert (run.total, run.passed, run.failed) == (2, 1, 1)
        assert run.error_message == "Tests 1 failed; the command exited with code 1."
        results = {result.name: result for result in run.results.all()}
        assert set(results) == {"test_passes", "test_fails"}
        assert results["test_fails"].classname == "tests.test_shop"
        assert results["test_fails"].status == "failed"
        assert f"math is broken {MASK}" in results["test_fails"].error_message
        assert SECRET not in results["test_fails"].error_message

        lines = logged(run)
        assert [seq for seq, _, _ in lines] == list(range(1, len(lines) + 1))
        assert ("stdout", "start-hello") in [(stream, text) for _, stream, text in lines]
        assert ("stderr", "to-stderr") in [(stream, text) for _, stream, text in lines]
        assert any(stream == "stdout" and text.startswith(f"token is {MASK} api {MASK}") for _, stream, text in lines)
        assert any(stream == "system" and "Exit code 1" in text for _, stream, text in lines)
        assert any("Read 2 test case(s) from reports/junit.xml" in text for _, _, text in lines)
        everything = " ".join(text for _, _, text in lines)
        assert SECRET not in everything and GIVEN_SECRET not in everything

        log_file = artifact_text(run, "log")
        assert "start-hello" in log_file and MASK in log_file
        assert SECRET not in log_file and GIVEN_SECRET not in log_file
        junit_file = artifact_text(run, "junit")
        assert "test_fails" in junit_file and SECRET not in junit_file
        assert cache.get(f"command-run:{run.pk}:env") is None  # the given values are gone with the run

    events = listener.drain()
    log_events = [message["data"] for message in events if message["event"] == "log"]
    assert log_events, [message["event"] for message in events]
    stored = {seq: (stream, text) for seq, stream, text in lines}
    for data in log_events:
        assert stored[data["seq"]] == (data["stream"], data["text"])
    assert all(SECRET not in data["text"] for data in log_events)
    assert events[-1]["event"] == "run.finished" and events[-1]["data"]["status"] == "failed"


def test_a_timeout_kills_the_whole_process_group(session_orgs, committed_project, celery_worker, django_db_blocker,
                                                 dirs):
    alpha = session_orgs["alpha"]
    project = committed_project(alpha, name="Timeout shop")
    worker = celery_worker(**worker_env(dirs))
    # The child ignores SIGTERM, so only the SIGKILL that follows stops it.
    command = "(trap '' TERM; sleep 300) & echo group=$$ child=$!; wait"
    started = time.monotonic()
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        run = command_run_create(project=project, actor=alpha.developer, command=command, timeout_seconds=2)
        run = wait_finished(run, worker)
        elapsed = time.monotonic() - started
        assert run.status == RunStatus.ERROR
        assert run.error_message.startswith("Timed out after 2 s; the command was stopped"), run.error_message
        texts = [text for _, _, text in logged(run)]
    line = next(text for text in texts if text.startswith("group="))
    group, child = (int(part.split("=")[1]) for part in line.split())
    assert not alive(child)
    assert group_members(group) == []
    assert any("Timed out: stopping the command" in text for text in texts)
    assert elapsed < 30


def test_cancel_stops_a_running_command(session_orgs, committed_project, celery_worker, django_db_blocker, dirs):
    alpha = session_orgs["alpha"]
    project = committed_project(alpha, name="Cancel shop")
    worker = celery_worker(**worker_env(dirs))
    with django_db_blocker.unblock(), tenant_context(alpha.organization):
        run = command_run_create(project=project, actor=alpha.developer, command="echo group=$$; sleep 300")
        deadline = time.monotonic() + FINISH_SECONDS
        while not RunLogLine.objects.filter(run=run, text__startswith="group=").exists():
            assert time.monotonic() < deadline, worker.stuck_report()
            time.sleep(0.1)
        group = int(RunLogLine.objects.get(run=run, text__startswith="group=").text.split("=")[1])
        assert group_members(group)  # it really is running
        cancelled_at = time.monotonic()
        run_cancel(run=run, actor=alpha.developer)
        run = wait_finished(run, worker, seconds=20)
        assert time.monotonic() - cancelled_at < 10
        assert run.status == RunStatus.CANCELLED
        assert "Cancelled" in run.error_message
        assert any("Cancel requested" in text for _, _, text in logged(run))
    assert group_members(group) == []


# ---------------------------------------------------------------------------------------------
# Validation and workspaces (in this process).


@pytest.fixture
def project(alpha):
    with tenant_context(alpha.organization):
        yield project_create(actor=alpha.admin, name="Local shop", base_url="https://shop.example/")


def create(alpha, project, **kwargs):
    return command_run_create(project=project, actor=alpha.developer, **{"command": "true", **kwargs})


def execute(run: Run) -> Run:
    execute_command_run(run.pk, task_id="in-process", worker="test")
    run.refresh_from_db()
    return run


@pytest.mark.parametrize(("path", "code"), [
    ("/etc", "workspace_not_allowed"),
    ("relative/path", "invalid"),
    ("{allowed}/../../etc", "workspace_not_allowed"),
    ("{root}/other_org_schema/checkout", "workspace_not_allowed"),
])
def test_workspace_paths_outside_the_allowed_directories_are_refused(alpha, project, dirs, path, code):
    path = path.format(allowed=dirs["allowed"], root=dirs["root"])
    with tenant_context(alpha.organization):
        with pytest.raises(ApplicationError) as raised:
            create(alpha, project, workspace_path=path)
        assert raised.value.code == code and "workspace_path" in raised.value.details
        assert not Run.objects.exists()


def test_a_symlink_out_of_the_allowed_directory_is_refused(alpha, project, dirs):
    link = dirs["allowed"] / "sneaky"
    link.symlink_to("/etc")
    with tenant_context(alpha.organization):
        with pytest.raises(ApplicationError) as raised:
            create(alpha, project, workspace_path=str(link))
        assert raised.value.code == "workspace_not_allowed"


def test_the_own_organization_folder_under_the_root_is_allowed(alpha, project, dirs, settings):
    settings.ARGUS_WORKSPACE_PATHS = [str(dirs["root"])]
    with tenant_context(alpha.organization):
        own = dirs["root"] / connection.schema_name / "checkout"
        own.mkdir(parents=True)
        run = execute(create(alpha, project, workspace_path=str(own), command="pwd"))
        assert run.status == RunStatus.PASSED
        assert ("stdout", str(own)) in [(stream, text) for _, stream, text in logged(run)]


def test_a_missing_workspace_directory_is_an_error_with_the_reason(alpha, project, dirs):
    missing = dirs["allowed"] / "not-checked-out"
    with tenant_context(alpha.organization):
        run = execute(create(alpha, project, workspace_path=str(missing)))
        assert run.status == RunStatus.ERROR
        assert run.error_message == f"The workspace directory {missing} does not exist on this worker."
        assert run.exit_code is None and run.finished_at is not None


def test_command_runs_can_be_turned_off_for_the_installation(alpha, project, dirs, settings):
    settings.ARGUS_COMMAND_RUNS_ENABLED = False
    with tenant_context(alpha.organization):
        with pytest.raises(ApplicationError) as raised:
            create(alpha, project)
        assert (raised.value.code, raised.value.status_code) == ("command_runs_disabled", 403)
        assert not Run.objects.exists()


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"command": "   "}, "command"),
    ({"command": "x" * 5000}, "command"),
    ({"env": {"1BAD": "x"}}, "env"),
    ({"env": {"GOOD": 3}}, "env"),
    ({"junit_path": "/srv/junit.xml"}, "junit_path"),
    ({"junit_path": "../junit.xml"}, "junit_path"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
    ({"timeout_seconds": 10**6}, "timeout_seconds"),
    ({"environment": "production"}, "environment"),
])
def test_bad_requests_create_nothing(alpha, project, dirs, kwargs, field):
    with tenant_context(alpha.organization):
        with pytest.raises(ApplicationError) as raised:
            create(alpha, project, **kwargs)
        assert field in raised.value.details
        assert not Run.objects.exists()


def zip_upload(members: dict[str, bytes], name: str = "workspace.zip") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/zip")


def tar_upload(add) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        add(archive)
    return SimpleUploadedFile("workspace.tar.gz", buffer.getvalue(), content_type="application/gzip")


def tar_member(archive: tarfile.TarFile, name: str, data: bytes = b"", **fields) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    archive.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(("upload", "reason"), [
    (lambda: zip_upload({"ok.txt": b"1", "../escape.txt": b"x"}), "points outside the archive"),
    (lambda: zip_upload({"/etc/cron.d/evil": b"x"}), "is an absolute path"),
    (lambda: tar_upload(lambda a: tar_member(a, "src/../../escape.sh", b"x")), "points outside the archive"),
    (lambda: tar_upload(lambda a: tar_member(a, "link", type=tarfile.SYMTYPE, linkname="../../etc")),
     "link pointing outside"),
    (lambda: tar_upload(lambda a: tar_member(a, "abs", type=tarfile.SYMTYPE, linkname="/etc/passwd")),
     "link to an absolute path"),
    (lambda: tar_upload(lambda a: tar_member(a, "dev", type=tarfile.CHRTYPE)), "special file"),
])
def test_unsafe_archives_are_refused(alpha, project, dirs, upload, reason):
    with tenant_context(alpha.organization):
        with pytest.raises(ApplicationError) as raised:
            create(alpha, project, workspace_archive=upload())
        assert raised.value.code == "unsafe_archive"
        assert reason in raised.value.message
        assert not Run.objects.exists()
    assert not (dirs["root"].parent / "escape.txt").exists()


def test_archive_format_and_size_limits(alpha, project, dirs, settings):
    with tenant_context(alpha.organization):
        with pytest.raises(ApplicationError) as raised:
            create(alpha, project, workspace_archive=SimpleUploadedFile("code.rar", b"Rar!"))
        assert raised.value.code == "invalid_archive"
        with pytest.raises(ApplicationError) as raised:
            create(alpha, project, workspace_archive=SimpleUploadedFile("code.zip", b"not a zip"))
        assert raised.value.code == "invalid_archive"
        settings.ARGUS_UPLOAD_MAX_BYTES = 2000
        with pytest.raises(ApplicationError) as raised:
            create(alpha, project, workspace_archive=zip_upload({"big.bin": os.urandom(5000)}))
        assert raised.value.code == "too_large" and raised.value.status_code == 413
        # A small archive that unpacks to far more than allowed (a zip bomb) is refused before unpacking.
        with pytest.raises(ApplicationError) as raised:
            create(alpha, project, workspace_archive=zip_upload({"zeros.bin": b"\0" * 100_000}))
        assert raised.value.code == "archive_too_large"
        with pytest.raises(ApplicationError) as raised:
            create(alpha, project, workspace_path=str(dirs["allowed"]), workspace_archive=zip_upload({"a": b"1"}))
        assert "workspace_path" in raised.value.details
        assert not Run.objects.exists()


def test_an_uploaded_archive_runs_in_a_fresh_folder_that_is_removed_after(alpha, project, dirs):
    script = b"#!/bin/sh\necho \"<testsuite><testcase classname='t' name='ok'/></testsuite>\" > out/junit.xml\n"

    def add(archive):
        tar_member(archive, "project/run.sh", script, mode=0o755)
        tar_member(archive, "project/out", type=tarfile.DIRTYPE, mode=0o755)
        tar_member(archive, "project/latest", type=tarfile.SYMTYPE, linkname="out")

    with tenant_context(alpha.organization):
        run = create(alpha, project, workspace_archive=tar_upload(add), junit_path="project/out/*.xml",
                     command="cd project && ./run.sh && ls latest && pwd")
        assert Artifact.objects.get(run=run, kind="workspace").name == "workspace.tar.gz"
        run = execute(run)
        assert run.status == RunStatus.PASSED, run.error_message
        assert (run.total, run.passed) == (1, 1)
        texts = [text for _, _, text in logged(run)]
        folder = dirs["root"] / connection.schema_name / str(run.pk)
        assert "Unpacked workspace.tar.gz (3 entries)." in texts
        assert "junit.xml" in texts and f"{folder}/project" in texts
        assert not folder.exists()


def test_a_zip_workspace_runs(alpha, project, dirs):
    with tenant_context(alpha.organization):
        run = execute(create(alpha, project, workspace_archive=zip_upload({"data/hello.txt": b"hi from zip\n"}),
                             command="cat data/hello.txt"))
        assert run.status == RunStatus.PASSED
        assert ("stdout", "hi from zip") in [(stream, text) for _, stream, text in logged(run)]


def test_a_missing_junit_report_is_not_an_error_when_the_command_passed(alpha, project, dirs):
    with tenant_context(alpha.organization):
        run = execute(create(alpha, project, command="echo fine", junit_path="reports/*.xml"))
        assert run.status == RunStatus.PASSED and run.exit_code == 0 and run.total == 0
        assert any("No JUnit report matched “reports/*.xml”" in text for _, _, text in logged(run))


def test_an_unreadable_junit_report_is_reported(alpha, project, dirs):
    with tenant_context(alpha.organization):
        run = execute(create(alpha, project, command="mkdir r && echo '<testsuite><oops' > r/j.xml",
                             junit_path="r/j.xml"))
        assert run.status == RunStatus.ERROR
        assert run.error_message.startswith("The JUnit report could not be read: r/j.xml: The JUnit report is not")


def test_a_junit_glob_never_reads_outside_the_workspace(alpha, project, dirs):
    outside = dirs["allowed"].parent / "outside.xml"
    outside.write_text("<testsuite><testcase name='stolen'/></testsuite>")
    with tenant_context(alpha.organization):
        run = execute(create(alpha, project, command=f"ln -s {outside} report.xml", junit_path="*.xml"))
        assert run.total == 0 and not run.results.exists()


def test_exit_codes_without_a_report(alpha, project, dirs):
    with tenant_context(alpha.organization):
        run = execute(create(alpha, project, command="no-such-tool --run"))
        assert run.status == RunStatus.FAILED and run.exit_code == 127
        assert run.error_message == "The command exited with code 127 (command not found)."
        assert any(stream == "stderr" and "not found" in text for _, stream, text in logged(run))


def test_given_variables_that_expired_are_an_error(alpha, project, dirs):
    with tenant_context(alpha.organization):
        run = create(alpha, project, env={"TOKEN": "x"}, command="echo $TOKEN")
        cache.delete(f"command-run:{run.pk}:env")
        run = execute(run)
        assert run.status == RunStatus.ERROR and "expired" in run.error_message and "TOKEN" in run.error_message
        assert not RunLogLine.objects.filter(run=run, stream="stdout").exists()


def test_a_redelivered_task_does_not_run_the_command_twice(alpha, project, dirs):
    with tenant_context(alpha.organization):
        run = create(alpha, project, command="echo once")
        Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)  # as left by a worker that died
        run = execute(run)
        assert run.status == RunStatus.ERROR and "stopped before it finished" in run.error_message
        assert not RunLogLine.objects.filter(run=run, stream="stdout").exists()
        execute_command_run(run.pk, task_id="again", worker="test")  # finished: nothing happens
        assert Run.objects.get(pk=run.pk).status == RunStatus.ERROR


def test_a_run_cancelled_before_it_started_never_starts(alpha, project, dirs):
    with tenant_context(alpha.organization):
        run = create(alpha, project, command="echo never")
        run_cancel(run=run, actor=alpha.developer)
        run = execute(run)
        assert run.status == RunStatus.CANCELLED and run.error_message == "Cancelled before it started."
        assert not RunLogLine.objects.filter(run=run).exists()


def test_binary_output_and_long_lines_are_stored(alpha, project, dirs):
    with tenant_context(alpha.organization):
        run = execute(create(alpha, project, command="printf 'a\\000b\\377c\\n'; head -c 40000 /dev/zero | tr '\\0' x"))
        assert run.status == RunStatus.PASSED
        texts = [text for _, stream, text in logged(run) if stream == "stdout"]
        assert texts[0] == "a\ufffdb\ufffdc"
        assert "".join(texts[1:]) == "x" * 40000  # chunked, nothing lost


def test_background_processes_do_not_outlive_a_finished_command(alpha, project, dirs):
    with tenant_context(alpha.organization):
        started = time.monotonic()
        run = execute(create(alpha, project, command="sleep 300 & echo background=$!; echo done"))
        assert time.monotonic() - started < 10
        assert run.status == RunStatus.PASSED and run.exit_code == 0
        line = RunLogLine.objects.get(run=run, text__startswith="background=")
    assert not alive(int(line.text.split("=")[1]))
