"""Delivery cannot be steered to internal addresses by DNS tricks, and a receiver that
drips its answer cannot hold the worker past one deadline (found in review)."""

import http.server
import socket
import threading
import time
from unittest import mock

from django.test import SimpleTestCase, override_settings

from loudou.notifications import delivery, platforms


def request(url: str) -> platforms.Request:
    return platforms.Request(url=url, body=b"{}", headers={"Content-Type": "application/json"})


class DnsRebindingTests(SimpleTestCase):
    @override_settings(LOUDOU_NOTIFY_PRIVATE_ADDRESSES=False)
    def test_the_addresses_connected_to_are_the_ones_checked(self):
        answers = iter(
            [
                [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80))],
                [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))],
            ]
        )
        with mock.patch.object(socket, "getaddrinfo", lambda *a, **k: next(answers)):
            self.assertEqual(delivery.private_refusal("http://rebind.example/hook"), "")
            status, body, error = delivery._post(request("http://rebind.example/hook"))
        self.assertEqual((status, body), (None, b""))
        self.assertIn("private address", error)

    @override_settings(LOUDOU_NOTIFY_PRIVATE_ADDRESSES=False)
    def test_a_name_that_does_not_resolve_is_not_sent_to(self):
        def fail(*args, **kwargs):
            raise socket.gaierror("no such name")

        with mock.patch.object(socket, "getaddrinfo", fail):
            status, _body, error = delivery._post(request("http://nowhere.example/hook"))
        self.assertIsNone(status)
        self.assertIn("cannot resolve", error)


class Dripping(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass  # the client gave up: that is the point

    def log_message(self, *args):
        pass


class DeadlineTests(SimpleTestCase):
    @override_settings(LOUDOU_NOTIFY_PRIVATE_ADDRESSES=True)
    def test_a_dripping_answer_is_cut_at_the_deadline(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Dripping)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        started = time.monotonic()
        with mock.patch.object(delivery, "TIMEOUT_SECONDS", 1.0):
            status, _body, error = delivery._post(request(url))
        self.assertLess(time.monotonic() - started, 3.0)
        self.assertIsNone(status)
        self.assertIn("TimeoutError", error)
