"""The phone and its network: a 360×640 touch screen, CPU slowed 4× and a 3G link (DevTools
protocol), the bytes that crossed the link, and a probe that times "task usable" inside the page.

Usable is what the page says: ``#labeller`` with ``data-state="ready"`` and a ``data-task``; a new
task is one whose ``data-task`` differs from the last usable one. The probe notes
``performance.now()`` at each (a MutationObserver, so no polling delay) and at the finger
lifting off ``#submit`` (the page acts on pointerup), so its figures hold whatever label.js does
between the two. Times on a page are from its navigation start.

Service workers are blocked: the DevTools protocol on the page neither throttles nor counts a
service worker's own fetches. Warm loads come from the HTTP cache (hashed, immutable names).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

PHONE = {"width": 360, "height": 640}
PROBE = """(() => {
  const probe = { readies: [], tap: 0, last: null };
  window.__reach = probe;
  const check = () => {
    const l = document.getElementById("labeller");
    const task = l && l.dataset.state === "ready" && l.dataset.task;
    if (!task || task === probe.last) return;
    probe.last = task;
    probe.readies.push({ task, at: performance.now(), tap: probe.tap });
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["data-state", "data-task"],
  });
  document.addEventListener("pointerup", (e) => {
    if (e.target instanceof Element && e.target.closest("#submit")) probe.tap = performance.now();
  }, true);
})();"""


@dataclass(frozen=True)
class Profile:
    name: str
    down_kbit: float  # 0: unthrottled
    up_kbit: float
    latency_ms: float
    cpu_slowdown: float

    def conditions(self, *, offline: bool = False) -> dict[str, Any]:
        """Network.emulateNetworkConditions' parameters (throughputs in bytes/s, -1: none)."""
        return {
            "offline": offline,
            "latency": self.latency_ms,
            "downloadThroughput": _bytes_per_s(self.down_kbit),
            "uploadThroughput": _bytes_per_s(self.up_kbit),
        }


def _bytes_per_s(kbit: float) -> float:
    return kbit * 1000 / 8 if kbit else -1


PROFILES = {
    "fast3g": Profile("Fast 3G", 1600, 750, 150, 4),
    "slow3g": Profile("Slow 3G", 400, 400, 400, 4),
    "none": Profile("unthrottled", 0, 0, 0, 1),  # the smoke test's
}


class Link:
    """One page's throttled link (a DevTools session) and the bytes that came over it."""

    def __init__(self, page, profile: Profile):
        self.page, self.profile = page, profile
        self.bytes, self._pending, self._last = 0, set(), time.monotonic()
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.loadingFailed", self._failed)
        self.cdp.send("Network.enable")
        self.cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile.cpu_slowdown})
        self.offline(False)

    def _sent(self, event: dict) -> None:
        self._pending.add(event["requestId"])
        self._last = time.monotonic()

    def _finished(self, event: dict) -> None:
        self.bytes += int(event.get("encodedDataLength", 0))
        self._pending.discard(event["requestId"])
        self._last = time.monotonic()

    def _failed(self, event: dict) -> None:
        self._pending.discard(event["requestId"])
        self._last = time.monotonic()

    def offline(self, offline: bool) -> None:
        self.cdp.send("Network.emulateNetworkConditions", self.profile.conditions(offline=offline))

    def settle(self, quiet_s: float = 0.8, timeout_s: float = 30.0) -> int:
        """The bytes so far, once nothing has moved for ``quiet_s`` (the page's requests after
        the task, such as the header's figures, are the task's too)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(100)  # lets Playwright deliver the protocol's events
            if not self._pending and time.monotonic() - self._last >= quiet_s:
                break
        return self.bytes


def phone_context(browser, base: str, *, state: dict | None, dpr: float):
    """A fresh context (empty cache) on a touch phone, with the probe in every page."""
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=dpr,
        has_touch=True,
        is_mobile=True,
        base_url=base,
        storage_state=state,
        service_workers="block",
    )
    context.add_init_script(PROBE)
    return context


def readies(page) -> int:
    return page.evaluate("window.__reach ? window.__reach.readies.length : 0")


def wait_ready(page, seen: int, timeout_s: float) -> dict:
    """The next usable task after the ``seen`` first: {task, at, tap} (ms on the page)."""
    page.wait_for_function(
        "(n) => window.__reach && window.__reach.readies.length > n",
        arg=seen,
        polling=50,
        timeout=timeout_s * 1000,
    )
    return page.evaluate("(n) => window.__reach.readies[n]", seen)
