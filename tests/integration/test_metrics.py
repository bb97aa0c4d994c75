# SPDX-License-Identifier: Apache-2.0
"""Prometheus metrics (GET /metrics): the exposition is what promtool accepts, its values are
cloudtimed's own counters, tenant namespaces get bounded series, only GET /metrics from an
allowed client is answered; a real Prometheus (Debian's) scrapes it and fires the shipped
alerts; the shipped Grafana dashboard asks only for metrics that exist, in valid PromQL."""

import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness
from test_vendordata import NOVA_BODY, post
from test_router_redirect import RouterTopology
from test_tenant_networks import OvnLikeTopology, tenant_config


def metrics_config(port, extra=""):
    return f'[metrics]\nenabled = true\nlisten = "127.0.0.1:{port}"\n{extra}'


def fetch(url, method="GET", timeout=5):
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def parse(text):
    """{(name, frozenset(labels)): value} from the text format (what this test needs of it)."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, line
        labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                      m.group(2) or ""))
        samples[(m.group(1), labels)] = float(m.group(3))
    return samples


def value(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


class Metrics(harness.TestCase):
    def start(self, extra_config="", config=harness.LOCAL_CONFIG):
        self.port = harness.free_tcp_port()
        daemon = harness.Daemon(config=config + metrics_config(self.port, extra_config))
        self.addCleanup(daemon.cleanup)
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        return daemon

    def test_the_exposition_is_valid_and_agrees_with_the_counters(self):
        harness.require_program("promtool")
        daemon = self.start()
        host, port = daemon.host_port()
        rc, _, err = harness.run_query(daemon.address, "-n", "3", "-i", "0.05")
        self.assertEqual(rc, 0, err)
        for bad in (b"", harness.ntp_request(mode=6), harness.ntp_request(version=1)):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(bad, (host, port))
        deadline = time.monotonic() + 5
        while daemon.status()["counters"]["received"] < 6:
            self.assertLess(time.monotonic(), deadline, daemon.read_log())
            time.sleep(0.02)
        status, content_type, text = fetch(self.url)
        self.assertEqual(status, 200, text)
        self.assertEqual(content_type, "text/plain; version=0.0.4; charset=utf-8")
        check = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                               capture_output=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr + text)
        self.assertEqual(check.stdout + check.stderr, "")
        samples = parse(text)
        counters = daemon.status()["counters"]
        self.assertEqual(value(samples, "cloudtime_ntp_requests_received_total"),
                         counters["received"])
        self.assertEqual(value(samples, "cloudtime_ntp_requests_received_total"), 6)
        self.assertEqual(value(samples, "cloudtime_ntp_responses_sent_total"), 3)
        for reason, n in counters["dropped_by_reason"].items():
            self.assertEqual(value(samples, "cloudtime_ntp_requests_dropped_total",
                                   reason=reason), n, reason)
        self.assertEqual(value(samples, "cloudtime_ntp_requests_dropped_total", reason="empty"), 1)
        self.assertEqual(value(samples, "cloudtime_ntp_requests_dropped_total",
                               reason="control_mode"), 1)
        self.assertEqual(value(samples, "cloudtime_ntp_requests_dropped_total",
                               reason="bad_version"), 1)
        self.assertEqual(value(samples, "cloudtime_clock_synchronized", source="local"), 1)
        self.assertEqual(value(samples, "cloudtime_clock_stratum"), 10)
        self.assertEqual(value(samples, "cloudtime_clock_leap_indicator"), 0)
        self.assertEqual(value(samples, "cloudtime_ntp_listen_addresses"), 1)
        # Counted while the scrape's own connection was open (it may be closed by now).
        open_now = len(os.listdir(f"/proc/{daemon.proc.pid}/fd"))
        self.assertIn(value(samples, "cloudtime_process_open_fds"), (open_now, open_now + 1))
        rss = value(samples, "cloudtime_process_resident_memory_bytes")
        self.assertGreater(rss, 1 << 20)
        self.assertLess(abs(value(samples, "cloudtime_start_time_seconds") - time.time()), 60)
        self.assertIn(("cloudtime_build_info", frozenset({("version", daemon.status()["version"])})),
                      samples)

    def test_each_listen_address_has_its_own_counters(self):
        self.port = harness.free_tcp_port()
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        daemon = harness.Daemon(config=harness.LOCAL_CONFIG + metrics_config(self.port),
                                listen=("127.0.0.1:0", "127.0.0.2:0"))
        self.addCleanup(daemon.cleanup)
        first, second = daemon.addresses
        rc, _, err = harness.run_query(first, "-n", "4", "-i", "0.05")
        self.assertEqual(rc, 0, err)
        host, port = daemon.host_port(1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(harness.ntp_request(mode=6), (host, port))
            s.sendto(harness.ntp_request(mode=6), (host, port))
        deadline = time.monotonic() + 5
        while daemon.status()["counters"]["received"] < 6:
            self.assertLess(time.monotonic(), deadline, daemon.read_log())
            time.sleep(0.02)
        samples = parse(fetch(self.url)[2])
        for address, received, answered, control in ((first, 4, 4, 0), (second, 2, 0, 2)):
            self.assertEqual(value(samples, "cloudtime_ntp_listen_requests_received_total",
                                   address=address), received)
            self.assertEqual(value(samples, "cloudtime_ntp_listen_responses_sent_total",
                                   address=address), answered)
            self.assertEqual(value(samples, "cloudtime_ntp_listen_requests_dropped_total",
                                   address=address, reason="control_mode"), control)
            self.assertEqual(value(samples, "cloudtime_ntp_listen_kod_sent_total",
                                   address=address, code="RATE"), 0)

    def test_vendordata_requests_are_counted_timed_and_logged(self):
        http = harness.free_tcp_port()
        image = NOVA_BODY["image-id"]
        daemon = self.start(config=harness.LOCAL_CONFIG +
                            f'[vendordata]\nenabled = true\nlisten = "127.0.0.1:{http}"\n'
                            f'[[vendordata.rules]]\nimage_ids = ["{image}"]\nptp_kvm = false\n'
                            '[[vendordata.rules]]\nimage_ids = ["another"]\n'
                            "install_client = true\n")
        daemon.vendordata_status(until=lambda v: v.get("pid"))
        opted_out = dict(NOVA_BODY, metadata={"cloudtime_ntp": "off"})
        for body in (NOVA_BODY, NOVA_BODY, opted_out):
            self.assertEqual(post(http, body)[0], 200)
        self.assertEqual(post(http, NOVA_BODY, path="/nowhere")[0], 404)
        daemon.vendordata_status(until=lambda v: sum(v.get("responses", {}).values()) >= 4)
        samples = parse(fetch(self.url)[2])
        self.assertEqual(value(samples, "cloudtime_vendordata_responses_total", code="200"), 3)
        self.assertEqual(value(samples, "cloudtime_vendordata_responses_total", code="404"), 1)
        self.assertEqual(value(samples, "cloudtime_vendordata_deliveries_total", choice="time"), 2)
        self.assertEqual(value(samples, "cloudtime_vendordata_deliveries_total",
                               choice="opted_out"), 1)
        self.assertEqual(value(samples, "cloudtime_vendordata_policy_rule_matches_total",
                               rule="1"), 3)
        self.assertNotIn(("cloudtime_vendordata_policy_rule_matches_total",
                          frozenset({("rule", "2")})), samples)
        self.assertEqual(value(samples, "cloudtime_vendordata_request_duration_seconds_count"), 4)
        self.assertEqual(value(samples, "cloudtime_vendordata_request_duration_seconds_bucket",
                               le="+Inf"), 4)
        self.assertGreater(value(samples, "cloudtime_vendordata_request_duration_seconds_sum"), 0)
        # One line per delivery, in the journal's words.
        log = daemon.read_log()
        lines = re.findall(r"vendordata: 200 for 127\.0\.0\.1 in [0-9.]+ ms: instance "
                           rf"{NOVA_BODY['instance-id']}, project {NOVA_BODY['project-id']}, "
                           rf"image {image}: (.*)", log)
        self.assertEqual(lines, ["servers 169.254.169.254, drop-in (rules 1)"] * 2 +
                         ["opted out (rules 1)"], log)
        self.assertRegex(log, r"vendordata: 404 for 127\.0\.0\.1 POST /nowhere in [0-9.]+ ms: "
                              r"no such path")
        # cloudtime status shows the same counts.
        endpoint = daemon.status()["vendordata"]["endpoint"]
        self.assertEqual(endpoint["deliveries"], {"time": 2, "opted_out": 1})
        self.assertEqual(endpoint["rules_matched"], {"1": 3})

    def test_namespaces_waiting_and_routers_are_counted(self):
        harness.require_root()
        harness.require_program("nft")
        tag = "w" + os.urandom(2).hex()
        for user in ("", "_cloudtime"):  # in one process, and told by the privileged helper
            with self.subTest(user=user):
                topology = OvnLikeTopology(tag)
                self.addCleanup(topology.remove)
                subprocess.run(["ip", "-n", topology.meta, "addr", "del", "169.254.169.254/16",
                                "dev", topology.meta_if], check=True)
                router = RouterTopology(tag)
                self.addCleanup(router.remove)
                config = tenant_config(tag, user).replace(
                    "managed_addresses = []\n",
                    f'managed_addresses = []\nrouter_patterns = ["qrouter-{tag}-*"]\n')
                daemon = self.start(config=config)
                daemon.wait_tenant_served(router.router, 1)

                def gauge(name):
                    return value(parse(fetch(self.url)[2]), name)

                deadline = time.monotonic() + 5
                while gauge("cloudtime_tenant_networks_waiting") != 1:
                    self.assertLess(time.monotonic(), deadline, daemon.read_log())
                    time.sleep(0.05)
                self.assertEqual(gauge("cloudtime_tenant_router_redirects"), 1)
                # Its metadata address comes: served whole, nothing waits.
                subprocess.run(["ip", "-n", topology.meta, "addr", "add", "169.254.169.254/16",
                                "dev", topology.meta_if], check=True)
                daemon.wait_tenant_served(topology.meta, 2)
                while gauge("cloudtime_tenant_networks_waiting") != 0:
                    self.assertLess(time.monotonic(), deadline, daemon.read_log())
                    time.sleep(0.05)
                self.assertEqual(gauge("cloudtime_tenant_networks"), 2)
                self.assertEqual(daemon.stop(), 0)
                topology.remove()
                router.remove()

    def test_only_get_metrics_from_an_allowed_client(self):
        daemon = self.start()
        self.assertEqual(fetch(self.url, method="POST")[0], 405)
        self.assertEqual(fetch(f"http://127.0.0.1:{self.port}/")[0], 404)
        refused = self.start('allowed_clients = ["10.0.0.0/8"]\n')
        status, _, _ = fetch(self.url)
        self.assertEqual(status, 403)
        self.assertIsNone(refused.proc.poll())
        self.assertIsNone(daemon.proc.poll())

    def test_a_scraper_survives_connection_churn_from_many_addresses(self):
        """Clients from 400 addresses connect, wait and go, more than the endpoint holds (256):
        the scraper's keep-alive connection, answered before, is the last one closed to make
        room, so every scrape on it succeeds while the churners' connections are closed."""
        self.start()
        scraper = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        self.addCleanup(scraper.close)
        scraper.request("GET", "/metrics")  # a Prometheus that was scraping before
        self.assertIn(b"\ncloudtime_build_info{", scraper.getresponse().read())
        stop = threading.Event()
        churned, evicted = [0], [0]

        def churn(first):
            while not stop.is_set():
                held = []
                for i in range(first, first + 200):
                    s = socket.socket()
                    try:
                        s.bind((f"127.3.{i // 250}.{i % 250 + 1}", 0))
                        s.connect(("127.0.0.1", self.port))
                        held.append(s)
                    except OSError:
                        s.close()
                time.sleep(0.05)
                for s in held:
                    s.setblocking(False)
                    try:
                        evicted[0] += s.recv(1) == b""  # closed by the server
                    except BlockingIOError:
                        pass
                    s.close()
                churned[0] += len(held)

        threads = [threading.Thread(target=churn, args=(first,)) for first in (0, 200)]
        for t in threads:
            t.start()
        failed = []
        try:
            for attempt in range(5):
                time.sleep(2)  # idle between scrapes, longer than a churner waits
                try:
                    scraper.request("GET", "/metrics")
                    response = scraper.getresponse()
                    body = response.read()
                    if response.status != 200 or b"cloudtime_build_info" not in body:
                        failed.append((attempt, response.status))
                except (OSError, http.client.HTTPException) as e:
                    failed.append((attempt, repr(e)))
                    scraper.close()  # and the next request connects again
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertGreaterEqual(churned[0], 400)
        self.assertGreater(evicted[0], 50)  # the endpoint was full and made room
        self.assertEqual(failed, [], f"{len(failed)} of 5 scrapes failed")

    def test_tenant_namespaces_get_bounded_series(self):
        harness.require_root()
        tag = "m" + os.urandom(2).hex()
        topologies = []
        for _ in range(3):
            t = OvnLikeTopology(tag)
            self.addCleanup(t.remove)
            topologies.append(t)
        daemon = self.start("max_tenant_series = 2\n", config=tenant_config(tag))
        for t in topologies:
            daemon.wait_tenant_served(t.meta, 2)
        for t in topologies:
            rc, _, err = harness.run_query("169.254.169.254", "-n", "1", netns=t.vm)
            self.assertEqual(rc, 0, err)
        samples = parse(fetch(self.url)[2])
        received = {dict(labels)["namespace"]: v for (name, labels), v in samples.items()
                    if name == "cloudtime_tenant_requests_received_total"}
        self.assertEqual(len(received), 3, received)  # two of their own, "(other)"
        self.assertIn("(other)", received)
        self.assertEqual(sum(received.values()), 3, received)
        self.assertEqual(value(samples, "cloudtime_tenant_networks"), 3)
        self.assertEqual(value(samples, "cloudtime_tenant_sockets"), 6)
        # A released namespace's counts stay in "(other)": the sums never go down.
        topologies[0].remove()
        deadline = time.monotonic() + 5
        while value(samples := parse(fetch(self.url)[2]), "cloudtime_tenant_networks") != 2:
            self.assertLess(time.monotonic(), deadline, daemon.read_log())
            time.sleep(0.05)
        after = {dict(labels)["namespace"]: v for (name, labels), v in samples.items()
                 if name == "cloudtime_tenant_requests_received_total"}
        self.assertEqual(sum(after.values()), 3, after)


DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                         "grafana", "cloudtime-dashboard.json")


def dashboard_queries():
    """Every PromQL expression in the shipped Grafana dashboard (panels and variables)."""
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    queries += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return queries


def as_grafana_runs_it(query):
    """The expression with Grafana's variables filled in, as Prometheus gets it."""
    if query.startswith("label_values("):
        metric = re.match(r"label_values\((.*), \w+\)$", query).group(1)
        return metric
    return query.replace("$__rate_interval", "1m").replace("$instance", ".*")


ALERTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                          "prometheus")


class EveryRole(harness.TestCase):
    """One scrape of a cloudtimed with every role on (NTS, tenant networks, vendordata): what
    the dashboard and the operator guide name against what it serves."""

    @classmethod
    def setUpClass(cls):
        harness.require_root()  # the tenant-network role, so that its families are there
        super().setUpClass()
        from test_nts import nts_section
        cls.directory = tempfile.mkdtemp(prefix="cloudtime-every-role-")
        cert, key = harness.self_signed_certificate(cls.directory)
        os.chmod(cls.directory, 0o755)
        harness.daemon_user_directory(cls.directory)
        port, http = harness.free_tcp_port(), harness.free_tcp_port()
        config = (harness.LOCAL_CONFIG + metrics_config(port) +
                  nts_section(cls.directory, cert, key, harness.free_tcp_port()) +
                  '[tenant_networks]\nenabled = true\npatterns = ["ct-none-*"]\n'
                  'addresses = ["169.254.169.254"]\n'
                  f'[vendordata]\nenabled = true\nlisten = "127.0.0.1:{http}"\n')
        daemon = harness.Daemon(config=config)
        try:
            text = fetch(f"http://127.0.0.1:{port}/metrics")[2]
        finally:
            daemon.cleanup()
        cls.families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)
        super().tearDownClass()

    def test_every_dashboard_query_names_a_metric_cloudtimed_serves(self):
        self.assertIn("cloudtime_vendordata_responses_total", self.families)
        queries = dashboard_queries()
        self.assertGreaterEqual(len(queries), 12)
        for query in queries:
            names = set(re.findall(r"\b(cloudtime_[a-z0-9_]+)", query))
            self.assertTrue(names, query)
            self.assertLessEqual(names, self.families, query)

    def test_the_operator_guide_lists_every_family_and_only_those(self):
        guide = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "operator-guide.md")
        with open(guide) as f:
            table = f.read().split("\n| metric | type | meaning |\n", 1)[1].split("\n\n", 1)[0]
        documented = set()
        for row in table.splitlines():
            if row.startswith("| `cloudtime_"):
                documented |= set(re.findall(r"`(cloudtime_[a-z0-9_]+)", row.split("|")[1]))
        self.assertEqual(self.families - documented, set(), "served, but not in the guide")
        self.assertEqual(documented - self.families, set(), "in the guide, but not served")


class AlertRules(harness.TestCase):
    def test_the_shipped_rules_pass_their_unit_tests(self):
        harness.require_program("promtool")
        for cmd in (["check", "rules", "cloudtime-alerts.yml"],
                    ["test", "rules", "cloudtime-alerts.test.yml"]):
            p = subprocess.run(["promtool", *cmd], cwd=ALERTS_DIR, capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("SUCCESS", p.stdout)


class RealPrometheus(harness.TestCase):
    """Debian's Prometheus, on loopback with a storage directory of the test's own, scraping
    and evaluating the shipped rules every second."""

    def start_prometheus(self, target):
        harness.require_program("prometheus")
        work = tempfile.mkdtemp(prefix="cloudtime-prometheus-")
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        # The rules as shipped, but firing at once: how long each waits is what promtool's
        # unit tests check (AlertRules); here, that the expressions match real metrics.
        with open(os.path.join(ALERTS_DIR, "cloudtime-alerts.yml")) as f:
            rules = re.sub(r"^(\s+)for: \S+$", r"\1for: 0s", f.read(), flags=re.M)
        with open(os.path.join(work, "alerts.yml"), "w") as f:
            f.write(rules)
        with open(os.path.join(work, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    f"rule_files:\n  - {work}/alerts.yml\n"
                    "scrape_configs:\n  - job_name: cloudtimed\n    static_configs:\n"
                    f"      - targets: ['{target}']\n")
        web = harness.free_tcp_port()
        self.prometheus_log = os.path.join(work, "prometheus.log")
        with open(self.prometheus_log, "w") as log:
            prometheus = subprocess.Popen(
                ["prometheus", f"--config.file={work}/prometheus.yml",
                 f"--storage.tsdb.path={work}/data", f"--web.listen-address=127.0.0.1:{web}"],
                stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(prometheus.wait)
        self.addCleanup(prometheus.terminate)
        self.api = f"http://127.0.0.1:{web}/api/v1/query?query="

    def query(self, expr, until=bool, timeout=60):
        """The result of `expr` once `until(result)` holds."""
        deadline = time.monotonic() + timeout
        result = []
        while time.monotonic() < deadline:
            try:
                _, _, body = fetch(self.api + urllib.parse.quote(expr))
                result = json.loads(body)["data"]["result"]
                if until(result):
                    return result
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.5)
        with open(self.prometheus_log) as f:
            self.fail(f"{expr}: {result}\n" + f.read())

    def test_it_scrapes_what_cloudtimed_counts_and_alerts_when_chronyd_goes(self):
        harness.require_program("chronyd")
        chronyd = harness.Chronyd(["port 0", "local stratum 8"])
        self.addCleanup(chronyd.cleanup)
        port = harness.free_tcp_port()
        config = (f'[clock]\nsource = "chrony"\nrestart_grace = 0\n{chronyd.clock_config()}' +
                  metrics_config(port))
        daemon = harness.Daemon(config=config)
        self.addCleanup(daemon.cleanup)
        deadline = time.monotonic() + 20
        while not daemon.status()["clock"]["synchronized"]:
            self.assertLess(time.monotonic(), deadline, daemon.read_log())
            time.sleep(0.1)
        rc, _, err = harness.run_query(daemon.address, "-n", "5", "-i", "0.05")
        self.assertEqual(rc, 0, err)
        self.start_prometheus(f"127.0.0.1:{port}")
        result = self.query('cloudtime_ntp_responses_sent_total{job="cloudtimed"}')
        self.assertEqual(float(result[0]["value"][1]), daemon.status()["counters"]["answered"])
        self.assertEqual(self.query('up{job="cloudtimed"}')[0]["value"][1], "1")
        self.assertEqual(self.query('cloudtime_clock_synchronized')[0]["value"][1], "1")
        self.assertEqual(self.query('ALERTS{alertname="CloudtimeServingUnsynchronized"}',
                                    until=lambda r: True, timeout=1), [])
        # Every dashboard query is one Prometheus accepts.
        for query in dashboard_queries():
            _, _, body = fetch(self.api + urllib.parse.quote(as_grafana_runs_it(query)))
            self.assertEqual(json.loads(body)["status"], "success", (query, body))
        chronyd.cleanup()  # the upstream goes: LI=3 is served, and the alert fires
        firing = self.query('ALERTS{alertname="CloudtimeServingUnsynchronized",'
                            'alertstate="firing"}')
        self.assertEqual(firing[0]["metric"]["source"], "chrony")
        self.assertFalse(daemon.status()["clock"]["synchronized"])


if __name__ == "__main__":
    unittest.main()
