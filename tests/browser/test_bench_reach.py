"""The throttled-phone benchmark's core (benchmarks/worker_reach.py) on one tool, unthrottled,
with two answers and a 2 s drop each way: every figure comes back, and no answer is lost."""

from __future__ import annotations

from annotations.models import Annotation
from benchmarks.reach.page import PROFILES
from benchmarks.reach.scenarios import Worker, tool_run
from tests.browser.worker_helpers import project_with_images, sign_up


def test_the_benchmark_times_a_tool_and_loses_no_answer(browser, live_server, requester):
    # given a classification project and a signed-in worker
    project = project_with_images(requester, "classification", images=6, size=(1280, 720))
    context = browser.new_context(base_url=live_server.url)
    sign_up(context.new_page(), "reach")
    worker = Worker(
        context.storage_state(), lambda: Annotation.objects.filter(worker__username="reach").count()
    )
    context.close()
    # when the benchmark runs on it
    result = tool_run(
        browser, live_server.url, str(project.pk), worker,
        kind="classification", profile=PROFILES["none"], tasks=2, drops=(2,), dpr=1,
    )  # fmt: skip
    # then it has its figures, and the drops lost nothing and got stuck nowhere
    assert result["cold"]["bytes"] > result["warm"]["bytes"] > 0
    assert len(result["next_ms"]) == 2
    assert all(ms > 0 for ms in result["next_ms"])
    assert set(result["drops"]) == {"2s at", "2s after"}
    assert all(d["lost"] == 0 and not d["stuck"] for d in result["drops"].values())
    assert Annotation.objects.filter(worker__username="reach").count() == 4
