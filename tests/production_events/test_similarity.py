"""Similar errors: near-duplicates proposed or merged per project setting, ranking through the API and
semantic search, explainable merges, re-indexing, and lists that show only the host's organization."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from apps.audit.models import AuditEntry
from apps.production_events.models import (
    ErrorGroup,
    ErrorGroupDay,
    ErrorSettings,
    GroupSimilarity,
    ProductionEvent,
    SimilarityStatus,
    WebhookLog,
)
from apps.production_events.processing import process_pending_deliveries
from apps.production_events.similarity import backfill_run, backfill_status
from tests.conftest import error_of
from tests.production_events.processing_deliveries import frame, generic_error, make_project, stored_delivery

CART = [frame("src/cart/CartDrawer.jsx", "addItem"), frame("src/cart/CartDrawer.jsx", "renderLines")]
CART_OTHER_CALLER = [frame("src/cart/CartDrawer.jsx", "addItem"), frame("src/cart/CartDrawer.jsx", "updateQuantity")]
PROFILE = [frame("src/profile/Avatar.jsx", "loadAvatar"), frame("src/profile/Avatar.jsx", "render")]
CHECKOUT = [frame("shop/checkout/totals.py", "discount_ratio"), frame("shop/checkout/views.py", "summary")]
UNDEFINED = "Cannot read properties of undefined (reading 'items')"


def _errors(project) -> dict[str, ErrorGroup]:
    """Four groups: cart (twice, by two callers: near-duplicates), profile (same message, other code), and a
    checkout division by zero."""
    stored_delivery(project, "generic", generic_error("CART-1", message=UNDEFINED, frames=CART,
                                                      component="CartDrawer"))
    stored_delivery(project, "generic", generic_error("PROFILE-1", message=UNDEFINED, frames=PROFILE,
                                                      component="Avatar"))
    stored_delivery(project, "generic", generic_error("CHECKOUT-1", message="division by zero",
                                                      exception_type="ZeroDivisionError", frames=CHECKOUT))
    process_pending_deliveries()
    stored_delivery(project, "generic", generic_error("CART-2", message=UNDEFINED, frames=CART_OTHER_CALLER,
                                                      component="CartDrawer"))
    process_pending_deliveries()

    def group_of(frames: list[dict]) -> ErrorGroup:
        # By its frames, not through its event: a merge moves the events away.
        names = [f"{item['filename'].rsplit('.', 1)[0] if item['filename'].endswith('.py') else item['filename']}:"
                 f"{item['function']}" for item in frames]
        return ErrorGroup.objects.get(project=project, in_app_frames=names)

    return {"cart": group_of(CART), "cart_other": group_of(CART_OTHER_CALLER), "profile": group_of(PROFILE),
            "checkout": group_of(CHECKOUT)}


def test_a_near_duplicate_is_proposed_with_its_explanation(alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        ErrorSettings.objects.create(project=project, similarity_threshold=0.8, auto_merge=False)
        groups = _errors(project)

        proposal = GroupSimilarity.objects.get(project=project)
        assert (proposal.group, proposal.similar_group) == (groups["cart_other"], groups["cart"])
        assert proposal.status == SimilarityStatus.PROPOSED and proposal.score >= 0.8
        assert proposal.shared_frames == ["src/cart/CartDrawer.jsx:addItem"]
        assert "same exception type TypeError" in proposal.explanation
        assert "CartDrawer.jsx:addItem" in proposal.explanation
        # Nothing merged without the setting.
        assert ErrorGroup.objects.filter(project=project, merged_into__isnull=False).count() == 0


def test_the_default_threshold_proposes_nothing_for_different_errors(alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        groups = _errors(project)
        pairs = set(GroupSimilarity.objects.filter(project=project).values_list("group", "similar_group"))
        assert (groups["profile"].pk, groups["cart"].pk) not in pairs
        assert not {groups["checkout"].pk} & {pk for pair in pairs for pk in pair}


def test_auto_merge_moves_the_events_and_later_ones_follow(alpha):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        ErrorSettings.objects.create(project=project, similarity_threshold=0.8, auto_merge=True)
        groups = _errors(project)
        cart, cart_other = ErrorGroup.objects.get(pk=groups["cart"].pk), ErrorGroup.objects.get(
            pk=groups["cart_other"].pk)

        assert cart_other.merged_into_id == cart.pk and cart_other.event_count == 0
        assert ProductionEvent.objects.get(external_id__contains="CART-2").group_id == cart.pk
        assert (cart.event_count, cart.occurrence_count) == (2, 2)
        assert GroupSimilarity.objects.get(project=project).status == SimilarityStatus.MERGED

        # Another occurrence with the merged group's fingerprint lands in the target.
        stored_delivery(project, "generic", generic_error("CART-3", message=UNDEFINED, frames=CART_OTHER_CALLER,
                                                          component="CartDrawer"))
        process_pending_deliveries()
        cart.refresh_from_db()
        assert ProductionEvent.objects.get(external_id__contains="CART-3").group_id == cart.pk
        assert (cart.event_count, cart.occurrence_count) == (3, 3)
        assert sum(ErrorGroupDay.objects.filter(group=cart).values_list("occurrences", flat=True)) == 3


def test_similar_errors_api_ranks_the_near_duplicate_first(alpha, api_client):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        groups = _errors(project)
    client = api_client(alpha, user=alpha.viewer)

    response = client.get("/api/v1/quality/similar-errors",
                          {"project": str(project.pk), "group": str(groups["cart"].pk), "limit": 3})

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    ranked = [row["group"]["id"] for row in results]
    assert ranked[:2] == [str(groups["cart_other"].pk), str(groups["profile"].pk)]
    assert str(groups["cart"].pk) not in ranked
    scores = [row["score"] for row in results]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0.8 > scores[-1]
    assert results[0]["shared_frames"] == ["src/cart/CartDrawer.jsx:addItem"]

    same = client.get(f"/api/v1/error-groups/{groups['cart'].pk}/similar", {"limit": 3}).json()
    assert [row["group"]["id"] for row in same["results"]] == ranked


def test_semantic_search_finds_errors_by_words(alpha, api_client):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        groups = _errors(project)
    client = api_client(alpha, user=alpha.viewer)

    response = client.post("/api/semantic-search", {"project": str(project.pk), "query": "ZeroDivisionError in "
                                                    "discount ratio at checkout", "limit": 2}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["group"]["id"] == str(groups["checkout"].pk)
    avatar = client.post("/api/semantic-search", {"project": str(project.pk), "query": "avatar loadAvatar"},
                         format="json").json()
    assert avatar["results"][0]["group"]["id"] == str(groups["profile"].pk)


def test_similar_errors_input_is_checked(alpha, api_client):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        other = make_project(alpha, "Other")
        groups = _errors(project)
    client = api_client(alpha, user=alpha.viewer)
    cases = [
        {"project": str(project.pk)},  # neither group nor q
        {"project": str(project.pk), "group": str(groups["cart"].pk), "q": "both"},
        {"project": str(other.pk), "group": str(groups["cart"].pk)},  # a group of another project
        {"project": str(project.pk), "q": "x", "limit": 0},
        {"project": "not-a-uuid", "q": "x"},
    ]
    for query in cases:
        response = client.get("/api/v1/quality/similar-errors", query)
        assert response.status_code == 400, (query, response.content)
        assert error_of(response)["code"] == "validation_error"


def test_merge_and_dismiss_through_the_api(alpha, api_client):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        ErrorSettings.objects.create(project=project, similarity_threshold=0.3, auto_merge=False)
        groups = _errors(project)
        proposals = {(pair.group_id, pair.similar_group_id): pair for pair in GroupSimilarity.objects.all()}
    merge = proposals[groups["cart_other"].pk, groups["cart"].pk]
    dismiss = proposals[groups["profile"].pk, groups["cart"].pk]
    developer = api_client(alpha, user=alpha.developer)

    listed = developer.get("/api/v1/group-similarities", {"project": str(project.pk), "status": "proposed"})
    assert {row["id"] for row in listed.json()["results"]} >= {str(merge.pk), str(dismiss.pk)}

    response = developer.post(f"/api/v1/group-similarities/{merge.pk}/merge")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "merged"
    with tenant_context(alpha.organization):
        source = ErrorGroup.objects.get(pk=groups["cart_other"].pk)
        target = ErrorGroup.objects.get(pk=groups["cart"].pk)
        assert source.merged_into_id == target.pk and target.event_count == 2
        assert not ProductionEvent.objects.filter(group=source).exists()
        assert AuditEntry.objects.filter(action="error_group.merge", object_id=str(source.pk)).exists()

    again = developer.post(f"/api/v1/group-similarities/{merge.pk}/merge")
    assert again.status_code == 409 and error_of(again)["code"] == "already_decided"

    response = developer.post(f"/api/v1/group-similarities/{dismiss.pk}/dismiss")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    assert response.json()["decided_by"] == alpha.developer.pk or response.json()["decided_by"] == str(
        alpha.developer.pk)

    # A merged group no longer shows up as similar to anything.
    similar = developer.get(f"/api/v1/error-groups/{groups['profile'].pk}/similar").json()
    assert str(groups["cart_other"].pk) not in {row["group"]["id"] for row in similar["results"]}


def test_backfill_reembeds_every_group_and_reports_progress(alpha, api_client):
    with tenant_context(alpha.organization):
        project = make_project(alpha)
        _errors(project)
        ErrorGroup.objects.filter(project=project).update(embedding=None)

    response = api_client(alpha, user=alpha.developer).post("/api/v1/quality/backfill-index",
                                                             {"project": str(project.pk)}, format="json")
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "queued" and job["total"] == 4 and job["done"] == 0

    with tenant_context(alpha.organization):
        assert backfill_run(project.pk, job["job"]) == 4
        assert not ErrorGroup.objects.filter(project=project, embedding__isnull=True).exists()
        assert backfill_status(project).status == "finished"
    status = api_client(alpha, user=alpha.viewer).get("/api/v1/quality/backfill-index", {"project": str(project.pk)})
    assert status.json()["job"] == job["job"] and (status.json()["status"], status.json()["done"]) == ("finished", 4)


def test_quality_lists_show_only_the_hosts_organization(alpha, bravo, api_client):
    made = {}
    for org in (alpha, bravo):
        with tenant_context(org.organization):
            project = make_project(org)
            ErrorSettings.objects.create(project=project, similarity_threshold=0.3)
            _errors(project)
            made[org.slug] = {
                "group-similarities": {str(pk) for pk in GroupSimilarity.objects.values_list("pk", flat=True)},
                "webhook-deliveries": {str(pk) for pk in WebhookLog.objects.values_list("pk", flat=True)},
            }
    for path in ("group-similarities", "webhook-deliveries"):
        rows = api_client(bravo, user=bravo.admin).get(f"/api/v1/{path}", {"page_size": 200}).json()["results"]
        listed = {row["id"] for row in rows}
        assert listed and listed <= made["bravo"][path]
        assert not listed & made["alpha"][path]
