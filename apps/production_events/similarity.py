"""Similar errors: the nearest groups by cosine distance of their embeddings (pgvector, HNSW index),
why they are near (shared in-app frames, same exception type, message overlap), and what happens to a
near-duplicate (a proposal, or a merge when the project says so).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least
from django.utils import timezone
from pgvector.django import CosineDistance

from apps.audit.services import audit_record
from apps.core.errors import ApplicationError
from apps.production_events import embeddings
from apps.production_events.models import (
    ErrorGroup,
    ErrorGroupDay,
    ErrorSettings,
    GroupSimilarity,
    ProductionEvent,
    SimilarityStatus,
)

MAX_LIMIT = 50
# Candidates the HNSW scan keeps per query: recall at a few ms, well above any limit asked for.
EF_SEARCH = 100
# A new group is checked against this many neighbours for near-duplicates.
NEAR_DUPLICATE_CANDIDATES = 5
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2, "fatal": 3}


@dataclass(frozen=True)
class SimilarGroup:
    group: ErrorGroup
    score: float
    shared_frames: list[str]
    explanation: str


_WORD = re.compile(r"[a-z0-9_<>]+")


def _message_overlap(first: str, second: str) -> float:
    """Jaccard overlap of the two normalized messages' words (0..1)."""
    words_a, words_b = set(_WORD.findall(first.lower())), set(_WORD.findall(second.lower()))
    if not words_a or not words_b:
        return 0.0
    return len(words_a & words_b) / len(words_a | words_b)


def explain(*, score: float, shared_frames: Sequence[str], same_type: str, message_overlap: float) -> str:
    parts = [f"Similarity {score:.2f}"]
    if same_type:
        parts.append(f"same exception type {same_type}")
    if shared_frames:
        shown = ", ".join(shared_frames[-3:])
        parts.append(f"{len(shared_frames)} shared in-app frame{'s' if len(shared_frames) != 1 else ''} ({shown})")
    if message_overlap:
        parts.append(f"messages {round(message_overlap * 100)}% alike")
    return "; ".join(parts) + "."


def describe_pair(group: ErrorGroup | None, other: ErrorGroup, score: float, *,
                  query_text: str = "") -> SimilarGroup:
    """The explanation of why `other` is near `group` (or near a free-text query)."""
    if group is not None:
        mine = set(group.in_app_frames or [])
        shared = [frame for frame in (other.in_app_frames or []) if frame in mine]
        same_type = other.exception_type if other.exception_type and other.exception_type == group.exception_type \
            else ""
        overlap = _message_overlap(group.normalized_message or group.title, other.normalized_message or other.title)
    else:
        shared, same_type = [], ""
        overlap = _message_overlap(query_text, f"{other.exception_type} {other.normalized_message or other.title}")
    return SimilarGroup(group=other, score=score, shared_frames=shared,
                        explanation=explain(score=score, shared_frames=shared, same_type=same_type,
                                            message_overlap=overlap))


# Up to this many groups in a project, similarity is computed exactly (a few milliseconds); above, the HNSW
# index answers (bench/similar_errors.py: 20,000 groups).
EXACT_SEARCH_MAX_GROUPS = 5_000


def nearest(project_id, vector: list[float], *, exclude_id=None, limit: int = 10) -> list[tuple[ErrorGroup, float]]:
    """(group, score) of the `limit` unmerged groups of the project closest to `vector`, best first."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    queryset = ErrorGroup.objects.filter(project_id=project_id, merged_into__isnull=True, embedding__isnull=False)
    if exclude_id is not None:
        queryset = queryset.exclude(pk=exclude_id)
    exact = queryset.count() <= EXACT_SEARCH_MAX_GROUPS
    queryset = queryset.defer("embedding").annotate(distance=CosineDistance("embedding", vector)).order_by("distance")
    # No savepoint: the SET LOCALs are undone below, or by the end of the transaction.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if exact:
            # A project this size is ranked exactly (its rows through the project index, then sorted): the
            # approximate index can miss neighbours hidden behind other projects' and dead rows.
            cursor.execute("SET LOCAL enable_indexscan = off")
        else:
            # The index walks all projects of the schema: let it keep scanning past other projects' rows.
            cursor.execute("SET LOCAL hnsw.ef_search = %s", [max(EF_SEARCH, limit * 2)])
            cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        rows = list(queryset[:limit])
        if exact:
            cursor.execute("SET LOCAL enable_indexscan = on")
    # relaxed_order may return neighbours slightly out of order; the scores are exact.
    scored = [(row, max(0.0, min(1.0, 1.0 - float(row.distance)))) for row in rows]
    return sorted(scored, key=lambda pair: -pair[1])


def similar_groups(project, *, group: ErrorGroup | None = None, text: str | None = None,
                   limit: int = 10) -> list[SimilarGroup]:
    """The groups of `project` most like `group` (never itself, never a merged one) or like free `text`."""
    if group is not None:
        vector = group.embedding
        if vector is None:
            vector = embeddings.embed_group(group)
        vector = list(vector) if vector is not None else None
        exclude_id = group.pk
    else:
        vector, exclude_id = embeddings.embed_text(text or ""), None
    if vector is None:
        return []
    project_id = getattr(project, "pk", project)
    return [describe_pair(group, other, score, query_text=text or "")
            for other, score in nearest(project_id, vector, exclude_id=exclude_id, limit=limit)]


def error_settings_for(project_id) -> ErrorSettings:
    settings_row = ErrorSettings.objects.filter(project_id=project_id).first()
    return settings_row if settings_row is not None else ErrorSettings(project_id=project_id)


def near_duplicates_check(group: ErrorGroup, *, settings_row: ErrorSettings | None = None) -> list[GroupSimilarity]:
    """After a group is (re)indexed: every neighbour at or above the project's threshold becomes a proposal,
    or, with auto-merge on, the group is merged into the nearest one. Returns the rows made or changed."""
    if group.embedding is None or group.merged_into_id is not None:
        return []
    settings_row = settings_row or error_settings_for(group.project_id)
    matches = [match for match in similar_groups(group.project_id, group=group, limit=NEAR_DUPLICATE_CANDIDATES)
               if match.score >= settings_row.similarity_threshold]
    if not matches:
        return []
    # The pairs already known, in either direction, in one query.
    known = {}
    for row in GroupSimilarity.objects.filter(Q(group=group, similar_group__in=[match.group for match in matches])
                                              | Q(group__in=[match.group for match in matches], similar_group=group)):
        known[row.similar_group_id if row.group_id == group.pk else row.group_id] = row
    made, new_pairs = [], []
    for match in matches:
        pair = known.get(match.group.pk)
        if pair is None:
            pair = GroupSimilarity(project_id=group.project_id, group=group, similar_group=match.group,
                                   score=match.score, shared_frames=match.shared_frames, explanation=match.explanation)
            if not settings_row.auto_merge:
                new_pairs.append(pair)
                made.append(pair)
                continue
            pair.save(force_insert=True)
        elif pair.status == SimilarityStatus.PROPOSED:
            pair.score, pair.shared_frames, pair.explanation = match.score, match.shared_frames, match.explanation
            pair.save(update_fields=["score", "shared_frames", "explanation", "updated_at"])
        else:
            continue  # dismissed stays dismissed; merged is done
        if settings_row.auto_merge:
            return [similarity_merge(similarity=pair, actor=None)]
        made.append(pair)
    GroupSimilarity.objects.bulk_create(new_pairs)
    return made


def _root(group: ErrorGroup) -> ErrorGroup:
    """The group `group` was (transitively) merged into, locked; itself when unmerged."""
    seen = set()
    while group.merged_into_id is not None and group.pk not in seen:
        seen.add(group.pk)
        group = ErrorGroup.objects.select_for_update().get(pk=group.merged_into_id)
    return group


@transaction.atomic
def group_merge(*, source: ErrorGroup, target: ErrorGroup, actor) -> ErrorGroup:
    """Move every event and daily count of `source` into `target`, add up its counts, and keep `source`
    (merged_into = target) so later events with its fingerprint land in the target and the merge stays
    explainable. Returns the target."""
    locked = {row.pk: row for row in ErrorGroup.objects.select_for_update().filter(pk__in=[source.pk, target.pk])}
    if len(locked) != 2 or source.pk == target.pk:
        raise ApplicationError("A group can only be merged into another group of the same project.",
                               code="invalid_merge", status_code=409)
    source, target = locked[source.pk], _root(locked[target.pk])
    if source.merged_into_id is not None:
        raise ApplicationError("This group was already merged.", code="already_merged", status_code=409)
    if source.project_id != target.project_id or source.pk == target.pk:
        raise ApplicationError("A group can only be merged into another group of the same project.",
                               code="invalid_merge", status_code=409)
    ProductionEvent.objects.filter(group=source).update(group=target, fingerprint=target.fingerprint)
    for day in ErrorGroupDay.objects.filter(group=source):
        updated = ErrorGroupDay.objects.filter(group=target, day=day.day).update(
            occurrences=F("occurrences") + day.occurrences)
        if not updated:
            ErrorGroupDay.objects.create(group=target, day=day.day, occurrences=day.occurrences)
    ErrorGroupDay.objects.filter(group=source).delete()
    # Groups merged into the source earlier now point at the target directly.
    ErrorGroup.objects.filter(merged_into=source).update(merged_into=target)
    ErrorGroup.objects.filter(pk=target.pk).update(
        event_count=F("event_count") + source.event_count,
        occurrence_count=F("occurrence_count") + source.occurrence_count,
        affected_users=F("affected_users") + source.affected_users,
        first_seen=Least("first_seen", source.first_seen), last_seen=Greatest("last_seen", source.last_seen),
        updated_at=timezone.now(),
    )
    if SEVERITY_RANK.get(source.severity, 0) > SEVERITY_RANK.get(target.severity, 0):
        ErrorGroup.objects.filter(pk=target.pk).update(severity=source.severity)
    source.merged_into = target
    source.event_count = source.occurrence_count = source.affected_users = 0
    source.save(update_fields=["merged_into", "event_count", "occurrence_count", "affected_users", "updated_at"])
    audit_record(actor=actor, action="error_group.merge", target=source,
                 changes={"merged_into": str(target.pk), "target_title": target.title})
    target.refresh_from_db()
    return target


@transaction.atomic
def similarity_merge(*, similarity: GroupSimilarity, actor) -> GroupSimilarity:
    """Accept a proposal: the newer group (`group`) merges into the one it was found similar to."""
    similarity = GroupSimilarity.objects.select_for_update().get(pk=similarity.pk)
    if similarity.status != SimilarityStatus.PROPOSED:
        raise ApplicationError(f"This proposal is already {similarity.status}.", code="already_decided",
                               status_code=409)
    group_merge(source=similarity.group, target=similarity.similar_group, actor=actor)
    return _decide(similarity, SimilarityStatus.MERGED, actor)


@transaction.atomic
def similarity_dismiss(*, similarity: GroupSimilarity, actor) -> GroupSimilarity:
    """Reject a proposal: the two groups stay apart and the pair is not proposed again."""
    similarity = GroupSimilarity.objects.select_for_update().get(pk=similarity.pk)
    if similarity.status != SimilarityStatus.PROPOSED:
        raise ApplicationError(f"This proposal is already {similarity.status}.", code="already_decided",
                               status_code=409)
    decided = _decide(similarity, SimilarityStatus.DISMISSED, actor)
    audit_record(actor=actor, action="group_similarity.dismiss", target=decided,
                 changes={"group": str(decided.group_id), "similar_group": str(decided.similar_group_id)})
    return decided


def _decide(similarity: GroupSimilarity, status: str, actor) -> GroupSimilarity:
    similarity.status = status
    similarity.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    similarity.decided_at = timezone.now()
    similarity.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return similarity


# -- backfill: re-embed every group of a project ------------------------------------------------------------

BACKFILL_CHUNK = 500
BACKFILL_STATE_TTL = 7 * 24 * 3600
BACKFILL_TASK = "production_events.backfill_index"


@dataclass(frozen=True)
class BackfillJob:
    job: str
    project: str
    status: str  # queued, running, finished, failed
    total: int
    done: int
    requested_at: str
    finished_at: str = ""
    error: str = ""


def _backfill_key(project_id) -> str:
    return f"argus:{connection.schema_name}:backfill-index:{project_id}"


def _save_job(job: BackfillJob) -> None:
    from apps.production_events.processing import _redis

    _redis().set(_backfill_key(job.project), json.dumps(asdict(job)), ex=BACKFILL_STATE_TTL)


def backfill_status(project) -> BackfillJob | None:
    """The project's latest backfill job, or None when none ran recently."""
    from apps.production_events.processing import _redis

    raw = _redis().get(_backfill_key(getattr(project, "pk", project)))
    return BackfillJob(**json.loads(raw)) if raw else None


def backfill_request(*, project, actor) -> BackfillJob:
    """Queue a re-index of the project's groups (after the caller's transaction commits)."""
    total = ErrorGroup.objects.filter(project=project, merged_into__isnull=True).count()
    job = BackfillJob(job=str(uuid.uuid4()), project=str(project.pk), status="queued", total=total, done=0,
                      requested_at=timezone.now().isoformat())
    audit_record(actor=actor, action="error_groups.backfill_index", target=project,
                 changes={"job": job.job, "groups": total})
    schema_name = connection.schema_name

    def enqueue() -> None:
        from argus.celery import app

        _save_job(job)
        app.send_task(BACKFILL_TASK, args=[job.project, job.job], headers={"_schema_name": schema_name},
                      queue="default")

    transaction.on_commit(enqueue)
    return job


def reembed_groups(project_id, *, progress: Callable[[int], None] | None = None) -> int:
    """Re-embed every unmerged group of the project in chunks; `progress(done)` after each. Returns how many."""
    queryset = ErrorGroup.objects.filter(project_id=project_id, merged_into__isnull=True).order_by("pk")
    done, last_pk = 0, None
    while True:
        chunk_query = queryset.defer("embedding")
        if last_pk is not None:
            chunk_query = chunk_query.filter(pk__gt=last_pk)
        chunk = list(chunk_query[:BACKFILL_CHUNK])
        if not chunk:
            return done
        for group in chunk:
            group.embedding = embeddings.embed_group(group)
        ErrorGroup.objects.bulk_update(chunk, ["embedding"])
        done += len(chunk)
        last_pk = chunk[-1].pk
        if progress is not None:
            progress(done)


def backfill_run(project_id, job_id: str) -> int:
    """The backfill task's body: re-embed the project's groups, recording progress in the job."""
    previous = backfill_status(project_id)
    requested_at = previous.requested_at if previous and previous.job == job_id else timezone.now().isoformat()
    total = ErrorGroup.objects.filter(project_id=project_id, merged_into__isnull=True).count()

    def record(status: str, done: int, **extra) -> None:
        _save_job(BackfillJob(job=job_id, project=str(project_id), status=status, total=max(total, done), done=done,
                              requested_at=requested_at, **extra))

    record("running", 0)
    try:
        done = reembed_groups(project_id, progress=lambda done: record("running", done))
    except Exception as exc:
        record("failed", 0, finished_at=timezone.now().isoformat(), error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    record("finished", done, finished_at=timezone.now().isoformat())
    return done
