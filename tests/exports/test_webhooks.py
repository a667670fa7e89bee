"""Webhooks: URLs that could reach the platform's own network are refused when set and again
when delivering (docs/reliability.md S1–S5); deliveries are signed, retried with backoff, and logged
for the project's owner alone, never with the remote server's words."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from exports import egress
from exports.egress import DeliveryError, Target, address_public, http_post
from exports.models import DeliveryState, Export, WebhookDelivery
from exports.webhooks import MAX_ATTEMPTS, delivery_attempt, webhook_set
from tests.exports.helpers import Receiver, assert_refused
from tests.helpers import NOWHERE

pytestmark = pytest.mark.django_db


def put_webhook(client, project, url: str, **extra):
    return client.put(
        f"/api/v1/projects/{project.pk}/webhook/", {"url": url, **extra}, format="json"
    )


def verify(secret: str, headers: dict, body: bytes, now: float | None = None) -> bool:
    """The receiver's check, as the README shows it."""
    timestamp = headers["X-Sebenzai-Timestamp"]
    message = timestamp.encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    fresh = abs((now or time.time()) - int(timestamp)) < 300
    return fresh and hmac.compare_digest(expected, headers["X-Sebenzai-Signature"])


# --- the address policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("2002:5db8:d822::1", True),  # 6to4 of a public address
        ("127.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address to refuse, not to bind
        ("::", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # shared address space
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("fc00::1", False),
        ("fe80::1", False),
        ("224.0.0.1", False),  # multicast: the stdlib calls it global
        ("ff02::1", False),
        ("::127.0.0.1", False),  # IPv4-compatible loopback: the stdlib calls it global
        ("2002:7f00:1::", False),  # 6to4 of loopback: the stdlib calls it global
        ("64:ff9b::7f00:1", False),  # NAT64 of loopback
        ("64:ff9b::5db8:d822", True),  # NAT64 of a public address
        ("255.255.255.255", False),
        ("198.18.0.1", False),
    ],
)
def test_the_address_policy_lets_only_public_addresses_through(address, public):
    assert address_public(ipaddress.ip_address(address)) is public


# --- set time (S1) ---------------------------------------------------------------------------


S1_URLS = [
    "http://127.0.0.1:{port}/",
    "http://[::1]:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://0.0.0.0:{port}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://2130706433:{port}/",
    "http://0177.0.0.1:{port}/",
    "http://10.0.0.1/",
    "http://localhost:{port}/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{port}/",
    "ftp://127.0.0.1:{port}/",
    "data:text/plain,hello",
    "http://user:pass@127.0.0.1:{port}/",
    "http://127.0.0.1:{port}/\r\nX-Injected: 1",
    "http://",
    "http://[::1/",
]


@pytest.mark.parametrize("template", S1_URLS)
def test_a_webhook_url_that_could_reach_the_platforms_network_is_refused_without_connecting(
    requester_client, accepted_project, canary, template
):
    project = accepted_project("bbox", images=1)
    response = put_webhook(requester_client, project, template.format(port=canary.port))
    error = assert_refused(response, 400, "url", "url_not_allowed")
    assert error["message"].startswith("URL not allowed: ")
    assert canary.requests == []
    assert requester_client.get(f"/api/v1/projects/{project.pk}/webhook/").status_code == 404


def test_a_public_url_is_set_and_its_secret_shown_only_to_the_put(
    requester_client, accepted_project, monkeypatch
):
    monkeypatch.setattr(egress, "resolve", lambda host, port: ["93.184.216.34"])
    project = accepted_project("bbox", images=1)
    response = put_webhook(requester_client, project, "https://hooks.example.com/train?x=1")
    assert response.status_code == 200, response.content
    secret = response.json()["secret"]
    assert len(secret) >= 40
    shown = requester_client.get(f"/api/v1/projects/{project.pk}/webhook/").json()
    assert shown["url"] == "https://hooks.example.com/train?x=1"
    assert "secret" not in shown
    # changing the URL keeps the secret unless a rotation is asked for
    again = put_webhook(requester_client, project, "https://hooks.example.com/v2").json()
    assert again["secret"] == secret
    rotated = put_webhook(
        requester_client, project, "https://hooks.example.com/v2", rotate_secret=True
    )
    assert rotated.json()["secret"] != secret
    assert requester_client.delete(f"/api/v1/projects/{project.pk}/webhook/").status_code == 204
    assert requester_client.get(f"/api/v1/projects/{project.pk}/webhook/").status_code == 404


def test_a_host_that_does_not_resolve_is_refused(requester_client, accepted_project, monkeypatch):
    def no_such_host(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(egress, "resolve", no_such_host)
    project = accepted_project("bbox", images=1)
    response = put_webhook(requester_client, project, "https://nowhere.invalid/")
    error = assert_refused(response, 400, "url", "url_not_allowed")
    assert "does not resolve" in error["message"]


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    requester_client, accepted_project, monkeypatch
):
    monkeypatch.setattr(egress, "resolve", lambda host, port: ["93.184.216.34", "10.1.2.3"])
    project = accepted_project("bbox", images=1)
    response = put_webhook(requester_client, project, "https://mixed.example.com/")
    assert_refused(response, 400, "url", "url_not_allowed")


# --- delivery --------------------------------------------------------------------------------


@pytest.fixture
def local_hooks(settings):
    """Tests deliver to a receiver on loopback, which only this setting allows."""
    settings.WEBHOOK_ALLOW_PRIVATE = True


def test_a_ready_export_is_announced_signed_to_the_projects_webhook(
    requester_client, accepted_project, receiver, local_hooks, django_capture_on_commit_callbacks
):
    # given a project with a webhook
    project = accepted_project("bbox", images=3)
    secret = put_webhook(requester_client, project, receiver.url).json()["secret"]
    # when an export is requested and built
    with django_capture_on_commit_callbacks(execute=True):
        export_id = requester_client.post(
            f"/api/v1/projects/{project.pk}/exports/", {"format": "yolo"}, format="json"
        ).json()["id"]
    # then the receiver got one signed message naming the version and where to download it
    (request,) = receiver.requests
    assert verify(secret, request["headers"], request["body"])
    assert not verify("another secret", request["headers"], request["body"])
    assert request["headers"]["X-Sebenzai-Event"] == "export.ready"
    message = json.loads(request["body"])
    export = Export.objects.get(pk=export_id)
    assert message == {
        "event": "export.ready",
        "project": str(project.pk),
        "export": export_id,
        "version": 1,
        "format": "yolo",
        "counts": {"images": export.counts["images"], "objects": export.counts["objects"]},
        "download_url": f"http://testserver/api/v1/exports/{export_id}/download/",
        "sha256": export.sha256,
        "size": export.size,
    }
    # and the owner sees the delivery in the log
    (logged,) = requester_client.get(f"/api/v1/projects/{project.pk}/webhook/deliveries/").json()[
        "results"
    ]
    assert logged["id"] == request["headers"]["X-Sebenzai-Delivery"]
    assert (logged["state"], logged["attempts"], logged["last_status"]) == ("delivered", 1, 204)
    assert logged["version"] == 1


@pytest.fixture
def delivery(accepted_project, receiver, local_hooks) -> WebhookDelivery:
    project = accepted_project("bbox", images=1)
    webhook = webhook_set(project=project, url=receiver.url)
    export = Export.objects.create(project=project, version=1, format="coco", options={})
    return WebhookDelivery.objects.create(
        webhook=webhook,
        export=export,
        payload={"event": "export.ready"},
        next_attempt_at=timezone.now(),
    )


def _due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_a_failing_receiver_is_retried_with_backoff_and_its_body_never_kept(
    requester_client, delivery, receiver
):
    # given a receiver that fails with an internal-looking body
    receiver.status, receiver.body = 500, b"Traceback: password=hunter2 at db.internal"
    # when the delivery is attempted
    wait = delivery_attempt(delivery_id=str(delivery.pk))
    # then it will be tried again later, and the log has our words only
    assert 10 <= wait <= 12
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    assert delivery.last_error == "HTTP 500"
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=9)
    log = requester_client.get(f"/api/v1/projects/{delivery.export.project_id}/webhook/deliveries/")
    assert b"hunter2" not in log.content
    assert b"Traceback" not in log.content
    # and an attempt before it is due does nothing; once due, a success ends it
    assert delivery_attempt(delivery_id=str(delivery.pk)) is None
    assert len(receiver.requests) == 1
    _due(delivery)
    receiver.status, receiver.body = 200, b""
    assert delivery_attempt(delivery_id=str(delivery.pk)) is None
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == ("delivered", 2, "")


def test_the_backoff_doubles_and_the_delivery_fails_for_good_after_the_last_attempt(
    delivery, receiver
):
    receiver.status = 503
    waits = []
    for _ in range(MAX_ATTEMPTS):
        _due(delivery)
        waits.append(delivery_attempt(delivery_id=str(delivery.pk)))
    assert waits[-1] is None
    for attempt, wait in enumerate(waits[:-1]):
        base = min(600, 10 * 2**attempt)
        assert base <= wait <= base * 1.2  # doubling, capped, with up to 20 % jitter
    assert max(w for w in waits if w) <= 720  # under the broker's visibility timeout
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.FAILED, MAX_ATTEMPTS)
    _due(delivery)
    assert delivery_attempt(delivery_id=str(delivery.pk)) is None
    assert len(receiver.requests) == MAX_ATTEMPTS


def test_a_redirect_is_not_followed(delivery, receiver, canary):
    # given a receiver that answers 302 towards an internal address (S2)
    receiver.status, receiver.location = 302, canary.url
    delivery_attempt(delivery_id=str(delivery.pk))
    delivery.refresh_from_db()
    assert delivery.last_error == "redirect not followed"
    assert delivery.last_status == 302
    assert canary.requests == []


def test_an_address_that_became_private_is_refused_at_delivery(delivery, receiver, settings):
    # given a webhook set while private addresses were allowed (S5: checked again at delivery)
    settings.WEBHOOK_ALLOW_PRIVATE = False
    assert delivery_attempt(delivery_id=str(delivery.pk)) is None
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert "non-public address" in delivery.last_error
    assert receiver.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(
    accepted_project, monkeypatch, django_capture_on_commit_callbacks
):
    # given a "public" receiver on 127.0.0.2 and the canary on 127.0.0.1, same port, and a name
    # that resolves to the receiver twice (set, delivery check), then to the canary (S3)
    receiver = Receiver("127.0.0.2")
    canary = Receiver("127.0.0.1", receiver.port)
    answers = iter(["127.0.0.2", "127.0.0.2"])
    real = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host == "rebind.test":
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, receiver.port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    policy = egress.address_public
    monkeypatch.setattr(egress, "address_public", lambda ip: str(ip) == "127.0.0.2" or policy(ip))
    try:
        project = accepted_project("bbox", images=1)
        webhook = webhook_set(project=project, url=f"http://rebind.test:{receiver.port}/hook")
        export = Export.objects.create(project=project, version=1, format="coco", options={})
        row = WebhookDelivery.objects.create(
            webhook=webhook, export=export, payload={}, next_attempt_at=timezone.now()
        )
        # when it is delivered
        delivery_attempt(delivery_id=str(row.pk))
        # then the checked address got it, under the name it was set with
        assert len(receiver.requests) == 1
        assert canary.requests == []
        assert receiver.requests[0]["headers"]["Host"] == f"rebind.test:{receiver.port}"
    finally:
        receiver.close()
        canary.close()


def test_a_dripping_server_is_cut_off_at_the_total_deadline(monkeypatch):
    # given a server that answers one byte every 0.2 s, forever (S4)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def drip():
        conn, _ = server.accept()
        conn.recv(65536)
        while not stop.is_set():
            try:
                conn.sendall(b"X")
            except OSError:
                break
            time.sleep(0.2)
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    monkeypatch.setattr(egress, "TOTAL_TIMEOUT", 1.0)
    target = Target("http", "127.0.0.1", server.getsockname()[1], "/", "127.0.0.1")
    started = time.monotonic()
    try:
        # when we post to it
        with pytest.raises(DeliveryError) as failed:
            http_post(target, body=b"{}", headers={})
    finally:
        stop.set()
        server.close()
    # then the attempt ends soon after the deadline, in our words
    assert failed.value.reason == "timed out"
    assert time.monotonic() - started < 1.0 + 2


# --- who may see what ------------------------------------------------------------------------


WEBHOOK_ROUTES = [
    ("get", "/api/v1/projects/{project}/webhook/"),
    ("put", "/api/v1/projects/{project}/webhook/"),
    ("delete", "/api/v1/projects/{project}/webhook/"),
    ("get", "/api/v1/projects/{project}/webhook/deliveries/"),
]


@pytest.mark.parametrize(("method", "path"), WEBHOOK_ROUTES)
def test_another_requester_cannot_see_or_change_a_webhook_or_its_deliveries(
    other_requester_client, worker_client, delivery, method, path
):
    project = delivery.export.project_id
    body = {"url": "http://127.0.0.1:9/"}
    theirs = getattr(other_requester_client, method)(
        path.format(project=project), body, format="json"
    )
    missing = getattr(other_requester_client, method)(
        path.format(project=NOWHERE), body, format="json"
    )
    assert_refused(theirs, 404, None, "not_found")
    assert theirs.content == missing.content
    assert_refused(
        getattr(worker_client, method)(path.format(project=project), body, format="json"), 403, None
    )
    assert WebhookDelivery.objects.filter(pk=delivery.pk).exists()


def test_staff_who_do_not_own_the_project_do_not_see_its_deliveries(
    make_user, make_client, delivery
):
    admin = make_client(make_user(name="admin", staff=True))
    response = admin.get(f"/api/v1/projects/{delivery.export.project_id}/webhook/deliveries/")
    assert_refused(response, 404, None, "not_found")
