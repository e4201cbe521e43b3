"""Command runs: any test framework, driven as a process on a worker.

A command run executes one shell command (`pytest`, `npx playwright test`, `mvn test`, ...) in a
workspace, streams its output into the run's log (stored and pushed live, secrets masked), stops it
on timeout or cancel (the whole process group), then reads the JUnit report it wrote into results.

Workspaces are either a directory on the worker, allowed by settings.ARGUS_WORKSPACE_PATHS (paths
under ARGUS_WORKSPACE_ROOT only inside the organization's own folder), or an uploaded .zip /
.tar.gz extracted into a fresh folder ARGUS_WORKSPACE_ROOT/<schema>/<run id> that is removed after.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import posixpath
import queue
import re
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.generated_tests.dsl import Masker
from apps.projects.models import EnvironmentVariable, Project
from apps.test_runs import live, services
from apps.test_runs.junit import ParsedCase, parse_junit, result_from_case
from apps.test_runs.models import (
    Artifact,
    ArtifactKind,
    LogStream,
    Run,
    RunKind,
    RunLogLine,
    RunStatus,
    RunTrigger,
    TestResult,
)

logger = logging.getLogger(__name__)

MAX_COMMAND_CHARS = 4000
MAX_ENV_VARS = 100
MAX_ENV_VALUE_CHARS = 32_000
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Given variables whose name looks like a credential are masked in the log like the environment's secrets.
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_?KEY|AUTH", re.IGNORECASE)
ARCHIVE_FORMATS = {".zip": "zip", ".tar.gz": "tar", ".tgz": "tar"}
MAX_ARCHIVE_MEMBERS = 20_000
MAX_LOG_LINES = 50_000  # stored as rows; the log file artifact keeps more
MAX_LOG_FILE_BYTES = 20 * 1024 * 1024
MAX_LINE_BYTES = 16_384
FLUSH_SECONDS = 0.1
DRAIN_BATCH = 2000
LIVE_LINES_PER_FLUSH = 100
CANCEL_POLL_SECONDS = 0.5
KILL_GRACE_SECONDS = 5.0
# After the command exits, its leftover background processes get this long to close their output.
LINGER_SECONDS = 1.0
KEY_TTL_SECONDS = 24 * 3600


def max_extracted_bytes() -> int:
    return 10 * settings.ARGUS_UPLOAD_MAX_BYTES


# ---------------------------------------------------------------------------------------------
# Validation shared by the service (early, a 4xx) and the worker (again, before it acts).


def _real(path: str) -> str:
    return os.path.realpath(path)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def workspace_folder() -> str:
    """This organization's folder under ARGUS_WORKSPACE_ROOT."""
    return os.path.join(_real(settings.ARGUS_WORKSPACE_ROOT), connection.schema_name)


def check_workspace_path(path: str) -> str:
    """The resolved workspace directory when the settings allow it, else ApplicationError."""
    if not path or not os.path.isabs(path):
        raise ApplicationError("The workspace path must be an absolute path on the worker.", code="invalid",
                               details={"workspace_path": ["Use an absolute path, e.g. /srv/checkouts/shop."]})
    real = _real(path)
    allowed = [_real(root) for root in settings.ARGUS_WORKSPACE_PATHS if root]
    if not any(_inside(real, root) for root in allowed):
        raise ApplicationError("The workspace path is not inside a directory allowed for command runs.",
                               code="workspace_not_allowed",
                               details={"workspace_path": ["Ask an administrator to add it to ARGUS_WORKSPACE_PATHS."]})
    # Other organizations' workspaces live under the shared root too: only this one's folder is usable.
    if _inside(real, _real(settings.ARGUS_WORKSPACE_ROOT)) and not _inside(real, workspace_folder()):
        raise ApplicationError("The workspace path belongs to another organization's area.",
                               code="workspace_not_allowed",
                               details={"workspace_path": [f"Use a folder inside {workspace_folder()}."]})
    return real


def _archive_format(filename: str) -> str:
    lowered = filename.lower()
    for suffix, kind in ARCHIVE_FORMATS.items():
        if lowered.endswith(suffix):
            return kind
    raise ApplicationError("Upload the workspace as a .zip or .tar.gz archive.", code="invalid_archive",
                           details={"workspace": ["Use a .zip, .tar.gz or .tgz file."]})


def _unsafe(name: str, reason: str) -> ApplicationError:
    return ApplicationError(f"The archive was refused: “{name[:200]}” {reason}.", code="unsafe_archive",
                            details={"workspace": [f"{name[:200]}: {reason}"]})


def _check_member_name(name: str) -> str:
    normalized = name.replace("\\", "/")
    if "\x00" in normalized:
        raise _unsafe(name, "has a NUL character in its name")
    if normalized.startswith("/") or re.match(r"^[A-Za-z]:", normalized):
        raise _unsafe(name, "is an absolute path")
    if ".." in normalized.split("/"):
        raise _unsafe(name, "points outside the archive (“..”)")
    return normalized


def _check_link_target(member_name: str, target: str, *, relative_to_member: bool) -> None:
    if target.startswith("/"):
        raise _unsafe(member_name, "is a link to an absolute path")
    base = posixpath.dirname(member_name) if relative_to_member else ""
    resolved = posixpath.normpath(posixpath.join(base, target))
    if resolved == ".." or resolved.startswith("../"):
        raise _unsafe(member_name, "is a link pointing outside the archive")


class _Budget:
    """Counts members and bytes while an archive is read, so a bomb is refused before it is unpacked."""

    def __init__(self):
        self.members = 0
        self.bytes = 0

    def add(self, name: str, size: int) -> None:
        self.members += 1
        self.bytes += max(size, 0)
        if self.members > MAX_ARCHIVE_MEMBERS:
            raise ApplicationError(f"The archive holds more than {MAX_ARCHIVE_MEMBERS} files.",
                                   code="archive_too_large", status_code=413)
        if self.bytes > max_extracted_bytes():
            raise ApplicationError(f"The archive unpacks to more than {max_extracted_bytes()} bytes.",
                                   code="archive_too_large", status_code=413)


def _zip_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    budget = _Budget()
    members = archive.infolist()
    for info in members:
        _check_member_name(info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _unsafe(info.filename, "is a symbolic link (not supported in zip archives; use .tar.gz)")
        budget.add(info.filename, info.file_size)
    return members


def _tar_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    budget = _Budget()
    members = []
    # Iterating (not getmembers()) checks each header before the stream is read past its content.
    for member in archive:
        name = _check_member_name(member.name)
        if member.issym():
            _check_link_target(name, member.linkname, relative_to_member=True)
        elif member.islnk():
            _check_link_target(name, member.linkname, relative_to_member=False)
        elif not (member.isfile() or member.isdir()):
            raise _unsafe(member.name, "is a device, FIFO or other special file")
        budget.add(member.name, member.size)
        members.append(member)
    return members


def inspect_archive(fileobj: IO[bytes], kind: str) -> int:
    """Check an archive without unpacking it; returns its member count. Refuses unsafe or huge ones."""
    try:
        if kind == "zip":
            with zipfile.ZipFile(fileobj) as archive:
                return len(_zip_members(archive))
        with tarfile.open(fileobj=fileobj, mode="r:gz") as archive:
            return len(_tar_members(archive))
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise ApplicationError(f"The workspace archive can't be read: {exc}.", code="invalid_archive",
                               details={"workspace": ["Upload a valid .zip or .tar.gz file."]}) from exc
    finally:
        fileobj.seek(0)


def extract_archive(fileobj: IO[bytes], kind: str, destination: str) -> int:
    """Unpack a checked archive into `destination` (which must be empty); returns the member count."""
    root = _real(destination)
    try:
        if kind == "zip":
            with zipfile.ZipFile(fileobj) as archive:
                members = _zip_members(archive)
                for info in members:
                    target = _real(os.path.join(root, _check_member_name(info.filename)))
                    if not _inside(target, root):
                        raise _unsafe(info.filename, "resolves outside the workspace")
                    archive.extract(info, root)
                return len(members)
        with tarfile.open(fileobj=fileobj, mode="r:gz") as archive:
            members = _tar_members(archive)
            # The "data" filter re-checks every path and link against the real destination on disk.
            archive.extractall(root, members=members, filter="data")
            return len(members)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise ApplicationError(f"The workspace archive can't be unpacked: {exc}.", code="invalid_archive") from exc


def _clean_command(command: str) -> str:
    command = (command or "").strip()
    if not command:
        raise ApplicationError("Give the command to run.", code="invalid", details={"command": ["Required."]})
    if len(command) > MAX_COMMAND_CHARS or "\x00" in command:
        raise ApplicationError(f"The command must be at most {MAX_COMMAND_CHARS} characters of text.",
                               code="invalid", details={"command": ["Too long or not text."]})
    return command


def _clean_env(env: dict | None) -> dict[str, str]:
    env = env or {}
    if not isinstance(env, dict):
        raise ApplicationError("Variables must be an object of NAME: value.", code="invalid",
                               details={"env": ["Use {\"NAME\": \"value\"}."]})
    if len(env) > MAX_ENV_VARS:
        raise ApplicationError(f"At most {MAX_ENV_VARS} variables.", code="invalid", details={"env": ["Too many."]})
    problems = {}
    for name, value in env.items():
        if not isinstance(name, str) or not ENV_NAME.match(name):
            problems[str(name)[:64]] = "Use letters, digits and underscores, not starting with a digit."
        elif not isinstance(value, str) or "\x00" in value or len(value) > MAX_ENV_VALUE_CHARS:
            problems[name] = f"The value must be text of at most {MAX_ENV_VALUE_CHARS} characters."
    if problems:
        raise ApplicationError("Some variables are invalid.", code="invalid",
                               details={"env": [f"{name}: {problem}" for name, problem in problems.items()]})
    return dict(env)


def _clean_junit_path(junit_path: str) -> str:
    junit_path = (junit_path or "").strip()
    if junit_path and (junit_path.startswith("/") or ".." in junit_path.replace("\\", "/").split("/")):
        raise ApplicationError("The JUnit path must be relative to the workspace.", code="invalid",
                               details={"junit_path": ["Use a relative path or glob such as reports/*.xml."]})
    return junit_path


def max_timeout_seconds() -> int:
    """The longest timeout a run may ask for: the Celery task's limit minus time to collect results."""
    limit = settings.ARGUS_COMMAND_TIME_LIMIT
    return max(1, limit - min(30, limit // 10))


def _clean_timeout(timeout_seconds: int | None) -> int:
    limit = max_timeout_seconds()
    if timeout_seconds is None:
        return limit
    if isinstance(timeout_seconds, bool) or not isinstance(timeout_seconds, int) or not 1 <= timeout_seconds <= limit:
        raise ApplicationError(f"The timeout must be between 1 and {limit} seconds.", code="invalid",
                               details={"timeout_seconds": [f"1-{limit}"]})
    return timeout_seconds


def _env_key(run_id) -> str:
    return f"command-run:{run_id}:env"


def _cancel_key(run_id) -> str:
    return f"command-run:{run_id}:cancel"


@transaction.atomic
def command_run_create(
    *, project: Project, actor, command: str, env: dict[str, str] | None = None, junit_path: str = "",
    timeout_seconds: int | None = None, workspace_path: str | None = None, workspace_archive=None,
    environment: str | None = None, trigger: str = RunTrigger.MANUAL,
) -> Run:
    """Queue a command run. Without a workspace path or archive the command starts in an empty folder.

    The given variables' values are handed to the worker through the cache (they are not stored with
    the run, which keeps only their names); the environment's own variables are read by the worker.
    """
    if not settings.ARGUS_COMMAND_RUNS_ENABLED:
        raise ApplicationError("Command runs are turned off on this installation (ARGUS_COMMAND_RUNS_ENABLED).",
                               code="command_runs_disabled", status_code=403)
    if project.is_archived:
        raise ApplicationError("Archived projects cannot run tests.", code="archived", status_code=409)
    if trigger not in RunTrigger.values:
        raise ApplicationError("Unknown trigger.", code="invalid", details={"trigger": [f"Use {RunTrigger.values}."]})
    command = _clean_command(command)
    env = _clean_env(env)
    junit_path = _clean_junit_path(junit_path)
    timeout_seconds = _clean_timeout(timeout_seconds)
    if workspace_path and workspace_archive is not None:
        raise ApplicationError("Give a workspace path or an archive, not both.", code="invalid",
                               details={"workspace_path": ["Leave it empty when you upload an archive."]})
    workspace = check_workspace_path(workspace_path) if workspace_path else ""
    archive_name = ""
    if workspace_archive is not None:
        archive_name = os.path.basename(workspace_archive.name or "") or "workspace"
        kind = _archive_format(archive_name)
        if workspace_archive.size > settings.ARGUS_UPLOAD_MAX_BYTES:
            raise ApplicationError(f"The archive is larger than {settings.ARGUS_UPLOAD_MAX_BYTES} bytes.",
                                   code="too_large", status_code=413)
        inspect_archive(workspace_archive, kind)
    environment_row = services.resolve_environment(project, environment)
    run = Run.objects.create(
        project=project, number=services.next_run_number(project), kind=RunKind.COMMAND, environment=environment_row,
        target_url=environment_row.url if environment_row else project.base_url, trigger=trigger, total=0,
        started_by=actor if getattr(actor, "is_authenticated", False) else None,
        started_by_label=services.started_by_label(actor),
        command={"command": command, "workspace": workspace, "archive": archive_name, "junit_path": junit_path,
                 "timeout_seconds": timeout_seconds, "env": sorted(env)},
    )
    if workspace_archive is not None:
        artifact = Artifact(run=run, kind=ArtifactKind.WORKSPACE, name=archive_name, size=workspace_archive.size,
                            content_type="application/zip" if kind == "zip" else "application/gzip")
        artifact.file.save(archive_name, File(workspace_archive), save=True)
    if env:
        cache.set(_env_key(run.pk), env, timeout=KEY_TTL_SECONDS)
    audit_record(actor=actor, action="run.created", target=run,
                 changes={"kind": RunKind.COMMAND, "trigger": trigger, "command": command, "workspace": workspace,
                          "archive": archive_name, "junit_path": junit_path, "timeout_seconds": timeout_seconds,
                          "env": sorted(env), "environment": environment_row.name if environment_row else ""})
    run_id = str(run.pk)
    transaction.on_commit(lambda: _enqueue(run_id))
    transaction.on_commit(lambda: live.publish(run.pk, "run.queued", services.run_summary(run), feed=True))
    return run


def _enqueue(run_id: str) -> None:
    from apps.test_runs.tasks import execute_command  # tasks import this module lazily

    execute_command.delay(run_id)


def signal_cancel(run: Run) -> None:
    """Tell the worker running this command to stop (it polls the key, on whatever host it runs)."""
    cache.set(_cancel_key(run.pk), "1", timeout=KEY_TTL_SECONDS)


# ---------------------------------------------------------------------------------------------
# Execution on the worker.


class _RunLog:
    """Collects output lines: masked, batched into RunLogLine rows and live messages, and copied
    to a log file (which keeps going after the row cap)."""

    def __init__(self, run: Run, masker: Masker, file: IO[bytes]):
        self.run = run
        self.masker = masker
        self.file = file
        self.seq = (RunLogLine.objects.filter(run=run).aggregate(top=Max("seq"))["top"] or 0) + 1
        self.pending: list[RunLogLine] = []
        self.stored = 0
        self.file_bytes = 0
        self.file_truncated = False

    def add(self, stream: str, text: str) -> None:
        # PostgreSQL text can't hold NUL; binary garbage on stdout must not fail the run.
        text = self.masker.text(text).replace("\x00", "\ufffd")
        self._write_file(f"[{stream}] {text}\n" if stream == LogStream.SYSTEM else f"{text}\n")
        if self.stored == MAX_LOG_LINES:
            text, stream = f"The log has more than {MAX_LOG_LINES} lines; the rest is in the log file.", "system"
        elif self.stored > MAX_LOG_LINES:
            return
        self.pending.append(RunLogLine(run=self.run, seq=self.seq, stream=stream, text=text))
        self.seq += 1
        self.stored += 1

    def system(self, text: str) -> None:
        self.add(LogStream.SYSTEM, text)

    def _write_file(self, text: str) -> None:
        data = text.encode("utf-8", "replace")
        if self.file_bytes + len(data) > MAX_LOG_FILE_BYTES:
            if not self.file_truncated:
                self.file.write(b"[system] The log file reached its size limit; later output is not kept.\n")
                self.file_truncated = True
            return
        self.file.write(data)
        self.file_bytes += len(data)

    def flush(self) -> None:
        if not self.pending:
            return
        lines, self.pending = self.pending, []
        RunLogLine.objects.bulk_create(lines)
        # A live delta costs about 1 ms; under a flood only the newest lines of each batch go out live
        # (the page's log has them all on reload), so the loop keeps watching timeout and cancel.
        for line in lines[-LIVE_LINES_PER_FLUSH:]:
            live.publish(self.run.pk, "log", {"seq": line.seq, "stream": line.stream, "text": line.text})


@dataclass
class _Outcome:
    exit_code: int | None = None
    stopped: str = ""  # "", "timeout", "cancel", "worker_limit"
    start_error: str = ""
    duration_s: float = 0.0
    extra: list[str] = field(default_factory=list)


def _pump(pipe: IO[bytes], stream: str, lines: queue.Queue) -> None:
    try:
        for raw in iter(lambda: pipe.readline(MAX_LINE_BYTES), b""):
            lines.put((stream, raw.decode("utf-8", "replace").rstrip("\r\n")))
    except (OSError, ValueError):  # the pipe was closed under us while stopping
        pass
    finally:
        pipe.close()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class _CommandExecution:
    def __init__(self, run: Run, worker: str):
        self.run = run
        self.worker = worker
        self.spec = run.command or {}

    def masker_and_env(self, given: dict[str, str]) -> tuple[Masker, dict[str, str]]:
        variables = list(EnvironmentVariable.objects.filter(environment_id=self.run.environment_id))
        secrets = [variable.value for variable in variables if variable.is_secret]
        secrets += [value for name, value in given.items() if SECRET_NAME.search(name)]
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - only when the worker itself has none
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            # Python tools flush line by line, so their output streams live instead of at exit.
            "PYTHONUNBUFFERED": "1",
        }
        env.update({variable.name: variable.value for variable in variables})
        env.update(given)
        return Masker(secrets), env

    def cancel_requested(self) -> bool:
        if cache.get(_cancel_key(self.run.pk)):
            return True
        return Run.objects.filter(pk=self.run.pk, cancel_requested_at__isnull=False).exists()

    def run_process(self, workspace: str, env: dict[str, str], log: _RunLog, timeout: int) -> _Outcome:
        outcome = _Outcome()
        log.system(f"$ {self.spec.get('command', '')}")
        log.system(f"Workspace: {self.spec.get('workspace') or self.spec.get('archive') or 'empty folder'}"
                   f" on {self.worker or 'worker'}; timeout {timeout} s")
        log.flush()
        started = time.monotonic()
        try:
            process = subprocess.Popen(  # noqa: S602 - running the user's command is this runner's purpose
                ["/bin/sh", "-c", self.spec["command"]], cwd=workspace, env=env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            )
        except OSError as exc:
            outcome.start_error = f"The command could not be started: {exc}."
            return outcome
        lines: queue.Queue = queue.Queue()
        readers = [threading.Thread(target=_pump, args=(process.stdout, LogStream.STDOUT, lines), daemon=True),
                   threading.Thread(target=_pump, args=(process.stderr, LogStream.STDERR, lines), daemon=True)]
        for reader in readers:
            reader.start()
        deadline = started + timeout
        next_flush = next_poll = time.monotonic()
        term_at: float | None = None  # when the group got SIGTERM (timeout or cancel)
        killed_at: float | None = None
        exited_at: float | None = None
        try:
            while True:
                try:
                    log.add(*lines.get(timeout=0.05))
                    for _ in range(DRAIN_BATCH):  # bounded, so a flood of output can't starve the checks
                        log.add(*lines.get_nowait())
                except queue.Empty:
                    pass
                now = time.monotonic()
                if now >= next_flush:
                    log.flush()
                    next_flush = now + FLUSH_SECONDS
                if exited_at is None and process.poll() is not None:
                    exited_at = now
                    outcome.exit_code = process.returncode
                if exited_at is not None and not any(reader.is_alive() for reader in readers) and lines.empty():
                    break
                if killed_at is not None:
                    if now - killed_at > KILL_GRACE_SECONDS:
                        # The group is dead; only a process that left it (setsid) can still hold the pipes.
                        log.system("A process that left the command's process group still holds its output; "
                                   "no longer reading it.")
                        break
                    continue
                if exited_at is None and term_at is None:
                    if now >= deadline:
                        outcome.stopped = "timeout"
                    elif now >= next_poll:
                        next_poll = now + CANCEL_POLL_SECONDS
                        if self.cancel_requested():
                            outcome.stopped = "cancel"
                    if outcome.stopped:
                        log.system(f"Timed out: stopping the command (SIGTERM, then SIGKILL after "
                                   f"{KILL_GRACE_SECONDS:g} s)." if outcome.stopped == "timeout"
                                   else "Cancel requested: stopping the command.")
                        _signal_group(process.pid, signal.SIGTERM)
                        term_at = now
                # A stopped command gets its grace period; what a finished command left running, a moment.
                if term_at is not None:
                    kill_due = term_at + KILL_GRACE_SECONDS
                else:
                    kill_due = exited_at + LINGER_SECONDS if exited_at is not None else None
                if kill_due is not None and now >= kill_due:
                    _signal_group(process.pid, signal.SIGKILL)
                    killed_at = now
        except SoftTimeLimitExceeded:
            outcome.stopped = "worker_limit"
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
            outcome.exit_code = process.returncode
            for reader in readers:
                reader.join(timeout=2)
            while not lines.empty():
                log.add(*lines.get_nowait())
        finally:
            # Nothing the command started outlives the run.
            _signal_group(process.pid, signal.SIGKILL)
        if outcome.exit_code is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                outcome.exit_code = process.wait(timeout=KILL_GRACE_SECONDS)
        outcome.duration_s = time.monotonic() - started
        return outcome


def _collect_junit(workspace: str, pattern: str, log: _RunLog) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The report files matching the pattern inside the workspace: ([(name, bytes)], [problems])."""
    root = _real(workspace)
    files, problems = [], []
    for match in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
        real = _real(match)
        if not _inside(real, root) or not os.path.isfile(real):
            continue  # a symlink out of the workspace is never read
        if os.path.getsize(real) > settings.ARGUS_UPLOAD_MAX_BYTES:
            problems.append(f"{os.path.relpath(match, root)} is larger than {settings.ARGUS_UPLOAD_MAX_BYTES} bytes")
            continue
        files.append((os.path.relpath(match, root), Path(real).read_bytes()))
    if not files and not problems:
        log.system(f"No JUnit report matched “{pattern}” in the workspace.")
    return files, problems


def _parse_reports(files: list[tuple[str, bytes]], log: _RunLog) -> tuple[list[ParsedCase], list[str]]:
    cases: list[ParsedCase] = []
    problems: list[str] = []
    for name, data in files:
        try:
            found = parse_junit(data)
        except ApplicationError as exc:
            problems.append(f"{name}: {exc.message}")
            continue
        cases.extend(found)
        log.system(f"Read {len(found)} test case(s) from {name}.")
    return cases, problems


def _claim(run_id) -> Run | None:
    """Mark the run running; None when there is nothing to do (gone, finished, redelivered, cancelled)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id, kind=RunKind.COMMAND).first()
        if run is None or run.is_finished:
            return None
        lost = run.status == RunStatus.RUNNING
        if not lost and run.cancel_requested_at is None:
            run.status = RunStatus.RUNNING
            run.started_at = timezone.now()
            run.save(update_fields=["status", "started_at", "updated_at"])
    if lost:
        # The broker redelivered the task of a worker that died; a command may not be safe to repeat.
        services.run_finish_command(run=run, status=RunStatus.ERROR, exit_code=None, error_message=(
            "The worker running this command stopped before it finished; start the run again."))
        return None
    if run.cancel_requested_at is not None:
        services.run_finish_command(run=run, status=RunStatus.CANCELLED, exit_code=None,
                                    error_message="Cancelled before it started.")
        return None
    live.publish(run.pk, "run.progress", services.run_summary(run), feed=True)
    return run


def _prepare_workspace(run: Run, log: _RunLog) -> str:
    """The directory to run in: the allowed workspace path, or a fresh folder (with the archive unpacked)."""
    spec = run.command or {}
    if spec.get("workspace"):
        path = check_workspace_path(spec["workspace"])
        if not os.path.isdir(path):
            raise ApplicationError(f"The workspace directory {spec['workspace']} does not exist on this worker.",
                                   code="workspace_missing")
        return path
    folder = os.path.join(workspace_folder(), str(run.pk))
    shutil.rmtree(folder, ignore_errors=True)  # a redelivered task starts from a clean folder
    os.makedirs(folder, mode=0o700)
    archive = run.artifacts.filter(kind=ArtifactKind.WORKSPACE).first()
    if spec.get("archive"):
        if archive is None:
            raise ApplicationError("The uploaded workspace archive is missing.", code="workspace_missing")
        with tempfile.TemporaryFile() as local, archive.file.open("rb") as stored:
            shutil.copyfileobj(stored, local)  # storage may be remote; zip needs a seekable local file
            local.seek(0)
            count = extract_archive(local, _archive_format(archive.name), folder)
        log.system(f"Unpacked {archive.name} ({count} entries).")
    return folder


def _finish_message(outcome: _Outcome, timeout: int, failed: int, errored: int) -> tuple[str, str]:
    """(run status, error message) from how the process ended and what its report said."""
    code = outcome.exit_code
    if outcome.start_error:
        return RunStatus.ERROR, outcome.start_error
    if outcome.stopped == "timeout":
        return RunStatus.ERROR, f"Timed out after {timeout} s; the command was stopped (exit code {code})."
    if outcome.stopped == "worker_limit":
        return RunStatus.ERROR, (f"The worker's time limit ({settings.ARGUS_COMMAND_TIME_LIMIT} s) was reached; "
                                 f"the command was killed (exit code {code}).")
    if outcome.stopped == "cancel":
        return RunStatus.CANCELLED, f"Cancelled; the command was stopped (exit code {code})."
    notes = list(outcome.extra)
    if failed or errored:
        counted = ", ".join(part for part in (f"{failed} failed" if failed else "",
                                              f"{errored} errored" if errored else "") if part)
        return RunStatus.FAILED, " ".join([f"Tests {counted}; the command exited with code {code}.", *notes])
    if code != 0:
        hint = " (command not found)" if code == 127 else ""
        return RunStatus.FAILED, " ".join([f"The command exited with code {code}{hint}.", *notes])
    if notes:
        return RunStatus.ERROR, " ".join(notes)
    return RunStatus.PASSED, ""


def execute_command_run(run_id, *, task_id: str, worker: str) -> None:
    """Run a command run's process and record everything (called by the test_runs.execute_command task)."""
    run = _claim(run_id)
    if run is None:
        return
    logger.info("command run %s started by task %s on %s", run.pk, task_id, worker)
    try:
        _execute(run, worker)
    except Exception as exc:
        # Whatever broke, the run must not stay "running" for ever.
        logger.exception("command run %s failed", run.pk)
        services.run_finish_command(run=run, status=RunStatus.ERROR, exit_code=None,
                                    error_message=f"The command runner failed ({type(exc).__name__}).")
        raise


def _execute(run: Run, worker: str) -> None:
    # Only the run's own folder is ever removed, never a workspace path the project pointed at.
    fresh_folder = os.path.join(workspace_folder(), str(run.pk))
    try:
        status, message, exit_code, masker = _run_and_collect(run, worker)
    finally:
        shutil.rmtree(fresh_folder, ignore_errors=True)
        cache.delete_many([_env_key(run.pk), _cancel_key(run.pk)])
    services.run_refresh(run.pk)
    services.run_finish_command(run=run, status=status, exit_code=exit_code, error_message=masker.text(message))


def _run_and_collect(run: Run, worker: str) -> tuple[str, str, int | None, Masker]:
    """Run the process and store its log, report and results: (status, error message, exit code, masker)."""
    spec = run.command or {}
    execution = _CommandExecution(run, worker)
    given = cache.get(_env_key(run.pk)) or {}
    masker, env = execution.masker_and_env(given)
    timeout = int(spec.get("timeout_seconds") or max_timeout_seconds())
    workspace = ""
    with tempfile.TemporaryFile() as log_file:
        log = _RunLog(run, masker, log_file)
        try:
            missing = [name for name in spec.get("env", []) if name not in given]
            if missing:
                raise ApplicationError("The variables given for this run expired before a worker started it "
                                       f"({', '.join(missing)}); start the run again.", code="env_expired")
            workspace = _prepare_workspace(run, log)
            outcome = execution.run_process(workspace, env, log, timeout)
        except ApplicationError as exc:
            outcome = _Outcome(start_error=exc.message)
        log.system(outcome.start_error or (
            f"Exit code {outcome.exit_code} after {outcome.duration_s:.1f} s."
            if not outcome.stopped else f"Stopped ({outcome.stopped}) after {outcome.duration_s:.1f} s, "
                                        f"exit code {outcome.exit_code}."))
        results: list[TestResult] = []
        if spec.get("junit_path") and workspace and not outcome.start_error:
            files, problems = _collect_junit(workspace, spec["junit_path"], log)
            cases, parse_problems = _parse_reports(files, log)
            problems += parse_problems
            for problem in problems:
                log.system(f"JUnit report problem: {problem}")
            if problems:
                outcome.extra.append("The JUnit report could not be read: " + "; ".join(problems) + ".")
            results = _store_results(run, cases, masker)
            for name, data in files:
                _save_artifact(run, ArtifactKind.JUNIT, os.path.basename(name), masker.text(
                    data.decode("utf-8", "replace")).encode(), "application/xml")
        failed = sum(result.status == "failed" for result in results)
        errored = sum(result.status == "error" for result in results)
        status, message = _finish_message(outcome, timeout, failed, errored)
        log.flush()
        log_file.seek(0)
        _save_artifact(run, ArtifactKind.LOG, "command.log", log_file.read(), "text/plain; charset=utf-8")
    return status, message, outcome.exit_code, masker


def _store_results(run: Run, cases: list[ParsedCase], masker: Masker) -> list[TestResult]:
    now = timezone.now()
    run.finished_at = now
    results = [result_from_case(run, case, position, masker) for position, case in enumerate(cases)]
    with transaction.atomic():
        TestResult.objects.bulk_create(results, batch_size=1000)
        Run.objects.filter(pk=run.pk).update(total=len(results))
    return results


def _save_artifact(run: Run, kind: str, name: str, data: bytes, content_type: str) -> Artifact:
    artifact = Artifact(run=run, kind=kind, name=name[:255], content_type=content_type, size=len(data))
    artifact.file.save(name, ContentFile(data), save=True)
    return artifact
