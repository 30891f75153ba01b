"""The load generator, run as its own process so its work never counts against the server's.

``python -m benchmarks.load SPEC.json`` reads what to send and prints what happened as JSON.
The spec holds the URL, the signing secret, the request bodies (form or JSON, prepared by the
harness with real response URLs and triggers from the local Slack workspace), the number of
concurrent clients and either a duration (closed loop: each client sends its next request as
soon as the last is answered, cycling through the bodies) or ``once`` (every body sent once).
Each request is signed when it is sent, as Slack does, over a kept-alive connection.
"""

from __future__ import annotations

import http.client
import itertools
import json
import sys
import threading
import time
from urllib.parse import urlsplit

from slack_sdk.signature import SignatureVerifier


def _client(
    spec: dict,
    next_body: callable,  # type: ignore[valid-type]
    deadline: float | None,
    latencies: list[float],
    statuses: dict[int, int],
    lock: threading.Lock,
) -> None:
    url = urlsplit(spec["url"])
    signer = SignatureVerifier(spec["signing_secret"])
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    mine: list[float] = []
    seen: dict[int, int] = {}
    while deadline is None or time.perf_counter() < deadline:
        item = next_body()
        if item is None:
            break
        content_type, body = item
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signer.generate_signature(timestamp=timestamp, body=body),
        }
        started = time.perf_counter()
        try:
            connection.request("POST", url.path, body=body.encode(), headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            status = 0
        mine.append(time.perf_counter() - started)
        seen[status] = seen.get(status, 0) + 1
    connection.close()
    with lock:
        latencies.extend(mine)
        for status, count in seen.items():
            statuses[status] = statuses.get(status, 0) + count


def run(spec: dict) -> dict:
    bodies = [(b["content_type"], b["body"]) for b in spec["bodies"]]
    lock = threading.Lock()
    if spec.get("once"):
        queue = iter(bodies)

        def next_body():  # type: ignore[no-untyped-def]
            with lock:
                return next(queue, None)

        deadline = None
    else:
        cycle = itertools.cycle(bodies)

        def next_body():  # type: ignore[no-untyped-def]
            with lock:
                return next(cycle)

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    if not spec.get("once"):
        deadline = started + spec["seconds"]
    threads = [
        threading.Thread(
            target=_client, args=(spec, next_body, deadline, latencies, statuses, lock)
        )
        for _ in range(spec["concurrency"])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "latencies": latencies,
        "statuses": {str(k): v for k, v in statuses.items()},
        "elapsed": elapsed,
        "wall_end": time.time(),
    }


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    json.dump(run(spec), sys.stdout)


if __name__ == "__main__":
    main()
