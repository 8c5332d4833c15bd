"""Load on the quick start's web server: many staff at once, reading pages and writing, on SQLite.

    bash scripts/run.sh                                   # in one shell (HOST, PORT as you like)
    .venv/bin/python bench/quickstart_load.py --url http://127.0.0.1:8000 --clients 150

Each client is a thread with its own session that starts when all are ready, and does what a
member of staff does: GET the login page and POST the demo password (a write: session, login time,
django-axes' access log), then `--rounds` times the home page, the day board, a patient search, a
patient's page (a dermatologist's opening is written to the audit trail) and a static file, then
`--edits` times edits a patient's phone number (an audited write in an IMMEDIATE transaction), and
logs out (a write). Half the clients are `reception`, half `dr.patel`. Prints how many requests were answered,
how many failed (a 5xx, a "database is locked", no answer within 120 s or a refused connection, or any status
other than the one expected) and the latencies. Asserts nothing.
"""

import argparse
import re
import statistics
import threading
import time
from collections import Counter
from html.parser import HTMLParser

import requests

PASSWORD = "pico-demo-password"  # noqa: S105  # nosec B105 # the demo logins, published in the README
USERS = ("reception", "dr.patel")


class FormFields(HTMLParser):
    """The name and current value of every field of the page's forms, as a browser would send them."""

    def __init__(self):
        super().__init__()
        self.fields, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[a["name"]] = a.get("value", "on")
            else:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str) -> dict:
    parser = FormFields()
    parser.feed(html)
    return parser.fields


class Client:
    def __init__(self, base, number, rounds, edits, results, lock):
        self.base, self.number, self.rounds, self.edits = base, number, rounds, edits
        self.user = USERS[number % len(USERS)]
        self.session = requests.Session()
        self.results, self.lock = results, lock

    def call(self, method, path, *, expect, write=False, **kwargs):
        started = time.perf_counter()
        outcome = None
        response = None
        try:
            response = self.session.request(method, self.base + path, allow_redirects=False, timeout=120, **kwargs)
        except requests.Timeout:
            outcome = "timeout"
        except requests.ConnectionError:
            outcome = "connection error"
        else:
            if "database is locked" in response.text:
                outcome = "database is locked"
            elif response.status_code >= 500:
                outcome = f"HTTP {response.status_code}"
            elif response.status_code != expect:
                outcome = f"HTTP {response.status_code} (expected {expect})"
        with self.lock:
            self.results.append((time.perf_counter() - started, outcome, write))
        return response

    def token(self):
        return self.session.cookies.get("csrftoken", "")

    def post(self, path, data):
        """A form a page sent, answered with a redirect; every one of them writes."""
        headers = {"X-CSRFToken": self.token(), "Referer": self.base + "/"}
        return self.call("POST", path, data=data, headers=headers, expect=302, write=True)

    def run(self, start):
        start.wait()
        self.call("GET", "/accounts/login/", expect=200)
        login = {"username": self.user, "password": PASSWORD, "csrfmiddlewaretoken": self.token()}
        self.post("/accounts/login/", login)
        patients = []
        for turn in range(self.rounds):
            self.call("GET", "/", expect=200)
            self.call("GET", "/day/", expect=200)
            found = self.call("GET", "/patients/search/", params={"q": "a" if turn % 2 else "e"}, expect=200)
            if found is not None and found.status_code == 200:
                patients = sorted({int(pk) for pk in re.findall(r"/patients/(\d+)/", found.text)}) or patients
            if patients:
                patient = patients[(self.number + turn) % len(patients)]
                self.call("GET", f"/patients/{patient}/", expect=200, write=self.user.startswith("dr."))
            self.call("GET", "/static/css/clinic.css", expect=200)
        for edit in range(self.edits if patients else 0):
            patient = patients[(self.number + edit) % len(patients)]
            page = self.call("GET", f"/patients/{patient}/edit/", expect=200)
            if page is not None and page.status_code == 200:
                fields = form_fields(page.text.split("<main", 1)[-1])  # the page's form, not the top bar's
                fields["phone"] = f"+44 7700 9{self.number:03d}{edit:02d}"
                self.post(f"/patients/{patient}/edit/", fields)
        self.post("/accounts/logout/", {"csrfmiddlewaretoken": self.token()})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of five page views per client")
    parser.add_argument("--edits", type=int, default=1, help="patient edits per client")
    args = parser.parse_args()

    results, lock = [], threading.Lock()
    start = threading.Barrier(args.clients + 1)
    clients = [Client(args.url.rstrip("/"), n, args.rounds, args.edits, results, lock) for n in range(args.clients)]
    threads = [threading.Thread(target=c.run, args=(start,)) for c in clients]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began

    failures = Counter(outcome for _, outcome, _ in results if outcome)
    writes = sum(1 for _, _, write in results if write)
    latencies = sorted(latency for latency, _, _ in results)
    print(f"{args.clients} clients against {args.url}: {len(results):,} requests ({writes:,} writes) in {took:.1f} s, "
          f"{len(results) / took:.0f} a second")  # fmt: skip
    print(f"errors: {sum(failures.values())}" + "".join(f"; {n} {kind}" for kind, n in failures.most_common()))
    q = statistics.quantiles(latencies, n=100)
    median, p95, slowest = q[49] * 1000, q[94] * 1000, latencies[-1] * 1000
    print(f"latency: median {median:.0f} ms, 95th percentile {p95:.0f} ms, max {slowest:.0f} ms")


if __name__ == "__main__":
    main()
