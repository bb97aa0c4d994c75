# SPDX-License-Identifier: Apache-2.0
"""NTS key establishment (RFC 8915 section 4) with the real client: chronyd 4.3 as an NTS client
gets its cookies from cloudtimed (`chronyc -N authdata`), and hostile key establishment
(TLS 1.2, another ALPN protocol, malformed and oversized records, a silent client) is refused,
counted, and does not stop the service. The cookie keys live in a 0600 file, survive a
restart and rotate on time."""

import datetime
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import stat
import struct
import subprocess
import tempfile
import time
import unittest

import harness
from test_tenant_networks import OvnLikeTopology, fd_count, tenant_config


def nts_section(directory, cert, key, ke_port, rotation=86400):
    return (f'[nts]\nenabled = true\ncertificate = "{cert}"\nprivate_key = "{key}"\n'
            f'ke_port = {ke_port}\nkey_file = "{directory}/keys/nts-keys"\n'
            f'rotation = {rotation}\nke_timeout_ms = 1000\n')


def nts_config(directory, ke_port, rotation=86400):
    cert, key = harness.self_signed_certificate(directory)
    return cert, harness.LOCAL_CONFIG + nts_section(directory, cert, key, ke_port, rotation)


def record(kind, body, critical=True):
    return struct.pack(">HH", kind | (0x8000 if critical else 0), len(body)) + body


END = record(0, b"")
GOOD_REQUEST = record(1, b"\x00\x00") + record(4, b"\x00\x0f") + END


def read_records(data):
    out = []
    while len(data) >= 4:
        kind, length = struct.unpack(">HH", data[:4])
        out.append((kind & 0x7FFF, data[4:4 + length]))
        data = data[4 + length:]
    return out


def ke_exchange(port, payload, alpn=("ntske/1",), maximum=ssl.TLSVersion.TLSv1_3, cafile=None):
    """Sends `payload` over TLS; returns the octets that came back (raises on TLS failure)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.maximum_version = maximum
    context.load_verify_locations(cafile)
    if alpn:
        context.set_alpn_protocols(list(alpn))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(payload)
            data = b""
            while True:
                try:
                    chunk = tls.recv(4096)
                except (ssl.SSLError, ConnectionError):
                    break
                if not chunk:
                    break
                data += chunk
            return data


def trusted_copy(cert):
    """`cert` copied where chronyd (as _chrony) can read it; its path."""
    directory = tempfile.mkdtemp(prefix="cloudtime-ca-")
    os.chmod(directory, 0o755)
    trusted = os.path.join(directory, "ca.pem")
    shutil.copy(cert, trusted)
    os.chmod(trusted, 0o644)
    return trusted


def nts_chronyd(test, cert, ke_port, server="169.254.169.254", port=None, netns=None):
    """A chronyd (no clock control) using `server` with NTS, trusting `cert`; cleaned up."""
    trusted = trusted_copy(cert)
    test.addCleanup(shutil.rmtree, os.path.dirname(trusted), True)
    port_option = f" port {port}" if port else ""
    chronyd = harness.Chronyd([f"server {server}{port_option} nts ntsport {ke_port} iburst "
                               "minpoll -4 maxpoll -4", f"ntstrustedcerts {trusted}"],
                              netns=netns)
    test.addCleanup(chronyd.cleanup)
    return chronyd


def wait_nts_cookies(test, chronyd, daemon, name, timeout=20):
    """Waits until chronyd holds NTS cookies for source `name`; its authdata row."""
    deadline = time.monotonic() + timeout
    row = []
    while time.monotonic() < deadline:
        row = authdata(chronyd).get(name, [])
        # Name,Mode,KeyID,Type,KLen,Last,Atmp,NAK,Cook,CLen
        if len(row) >= 10 and row[1] == "NTS" and row[9] != "0":
            return row
        time.sleep(0.25)
    test.fail(f"chronyd did not get NTS cookies: {row}\n{chronyd.read_log()}\n{daemon.read_log()}")


def authdata(chronyd):
    """`chronyc -N -c authdata` rows by name: {"127.0.0.1": [fields...]}."""
    try:
        text = chronyd.chronyc("-N", "-c", "authdata")
    except subprocess.CalledProcessError:
        return {}
    return {line.split(",")[0]: line.split(",") for line in text.splitlines() if line}


class Nts(harness.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_program("chronyd")
        harness.require_root()
        super().setUpClass()

    def start(self, rotation=86400, workdir=None):
        directory = workdir or self.make_dir()
        ke_port = harness.free_tcp_port()
        cert, config = nts_config(directory, ke_port, rotation)
        daemon = harness.Daemon(config=config, workdir=directory)
        self.addCleanup(daemon.cleanup)
        return daemon, ke_port, cert

    def make_dir(self):
        directory = tempfile.mkdtemp(prefix="cloudtime-nts-")
        self.addCleanup(shutil.rmtree, directory, True)
        return directory

    def test_chronyd_gets_cookies_from_cloudtimed(self):
        daemon, ke_port, cert = self.start()
        host, port = daemon.host_port(0)
        chronyd = nts_chronyd(self, cert, ke_port, host, port)
        row = wait_nts_cookies(self, chronyd, daemon, host)
        self.assertEqual(row[3], "15", row)    # AEAD_AES_SIV_CMAC_256
        self.assertEqual(row[4], "256", row)   # its key length in bits
        self.assertEqual(row[9], "100", row)   # our cookies' length
        ke = daemon.status()["nts"]["ke"]
        self.assertGreaterEqual(ke["established"], 1, ke)
        self.assertEqual(ke["handshake_failed"], 0, ke)
        # The certificate's expiry, as openssl reads it; the test's is valid for a day, so
        # the log warns.
        end = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-dateopt", "iso_8601",
                              "-in", cert], capture_output=True, text=True, check=True).stdout
        not_after = datetime.datetime.strptime(end.strip().split("=", 1)[1], "%Y-%m-%d %H:%M:%SZ")
        self.assertEqual(daemon.status()["nts"]["certificate_expiry_s"],
                         int(not_after.replace(tzinfo=datetime.timezone.utc).timestamp()))
        self.assertRegex(daemon.read_log(), f"warning NTS: the certificate {cert} expires in "
                                            r"2[34] hours: renew it")
        # Authenticated time: chronyd takes samples (its NTS source would get none from
        # unauthenticated replies), no NAK, and its cookies are replenished.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if daemon.counters()["nts"] >= 4:
                break
            time.sleep(0.25)
        row = authdata(chronyd)[host]
        self.assertEqual(row[7], "0", row)    # NAKs
        self.assertEqual(row[8], "8", row)    # cookies held
        self.assertGreaterEqual(daemon.counters()["nts"], 4)
        data = chronyd.chronyc("-n", "ntpdata", host)
        self.assertRegex(data, r"Authenticated\s*:\s*Yes")
        self.assertRegex(data, r"Total good RX\s*:\s*[1-9]")

    def test_bad_key_establishment_is_refused_counted_and_survived(self):
        daemon, ke_port, cert = self.start()
        _, ntp_port = daemon.host_port(0)
        # A good request: eight cookies of 100 octets, and the NTP port (not 123).
        answer = read_records(ke_exchange(ke_port, GOOD_REQUEST, cafile=cert))
        kinds = [k for k, _ in answer]
        self.assertEqual(kinds.count(5), 8, answer)
        self.assertTrue(all(len(b) == 100 for k, b in answer if k == 5))
        self.assertIn((7, struct.pack(">H", ntp_port)), answer)
        self.assertEqual(answer[-1], (0, b""))
        # TLS 1.2: no handshake.
        with self.assertRaises(ssl.SSLError):
            ke_exchange(ke_port, GOOD_REQUEST, maximum=ssl.TLSVersion.TLSv1_2, cafile=cert)
        # Another ALPN protocol: the no_application_protocol alert.
        with self.assertRaises(ssl.SSLError):
            ke_exchange(ke_port, GOOD_REQUEST, alpn=("http/1.1",), cafile=cert)
        # Malformed: an unknown critical record, a request without AEAD.
        answer = read_records(ke_exchange(ke_port, record(1, b"\x00\x00") + record(0x1234, b"")
                                          + END, cafile=cert))
        self.assertEqual(answer[0], (2, b"\x00\x00"), answer)
        answer = read_records(ke_exchange(ke_port, record(1, b"\x00\x00") + END, cafile=cert))
        self.assertEqual(answer[0], (2, b"\x00\x01"), answer)
        # Oversized: a record declaring 60 000 octets is answered with an error at once.
        answer = read_records(ke_exchange(ke_port, struct.pack(">HH", 0x4000, 60000) + b"x" * 100,
                                          cafile=cert))
        self.assertEqual(answer[0], (2, b"\x00\x01"), answer)
        # A client that connects and says nothing is cut at the deadline (1 s here).
        with socket.create_connection(("127.0.0.1", ke_port), timeout=5) as silent:
            start = time.monotonic()
            self.assertEqual(silent.recv(16), b"")
            self.assertLess(time.monotonic() - start, 4)
        # Still serving.
        answer = read_records(ke_exchange(ke_port, GOOD_REQUEST, cafile=cert))
        self.assertEqual([k for k, _ in answer].count(5), 8)
        deadline = time.monotonic() + 2
        while True:
            ke = daemon.status()["nts"]["ke"]
            if ke["deadline_expired"] >= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(ke["established"], 2, ke)
        self.assertGreaterEqual(ke["handshake_failed"], 2, ke)  # TLS 1.2; the ALPN alert
        self.assertGreaterEqual(ke["wrong_alpn"], 1, ke)
        self.assertEqual(ke["refused"]["unrecognized critical record"], 1, ke)
        self.assertEqual(ke["refused"]["no single AEAD record"], 1, ke)
        self.assertEqual(ke["refused"]["request too long"], 1, ke)
        self.assertGreaterEqual(ke["deadline_expired"], 1, ke)

    def test_cookie_keys_are_private_survive_a_restart_and_rotate(self):
        directory = self.make_dir()
        daemon, _, _ = self.start(rotation=86400, workdir=directory)
        key_file = os.path.join(directory, "keys", "nts-keys")
        self.assertEqual(stat.S_IMODE(os.stat(key_file).st_mode), 0o600)
        first = daemon.status()["nts"]["keys"]
        self.assertEqual(len(first["ids"]), 1, first)
        with open(key_file) as f:
            secret = f.read().split()[-1]
        self.assertNotIn(secret, daemon.read_log())  # never logged
        daemon.stop()
        again, _, _ = self.start(rotation=86400, workdir=directory)
        kept = again.status()["nts"]["keys"]  # the same keys (this start wrote none)
        self.assertEqual((kept["ids"], kept["generation"]), (first["ids"], first["generation"]))
        self.assertEqual((kept["store"]["writes"], first["store"]["writes"]), (0, 1))
        again.stop()
        # A 2 s period: a new key every 2 s, at most three kept.
        fast, _, _ = self.start(rotation=2, workdir=directory)
        deadline = time.monotonic() + 10
        keys = {}
        while time.monotonic() < deadline:
            keys = fast.status()["nts"]["keys"]
            if keys["generation"] >= first["generation"] + 3:
                break
            time.sleep(0.2)
        self.assertGreaterEqual(keys["generation"], first["generation"] + 3, keys)
        self.assertLessEqual(len(keys["ids"]), 3, keys)
        self.assertEqual(keys["ids"], sorted(keys["ids"], reverse=True), keys)
        self.assertEqual(stat.S_IMODE(os.stat(key_file).st_mode), 0o600)
        # A key file others can read is refused at start.
        fast.stop()
        os.chmod(key_file, 0o644)
        refused = harness.Daemon(config=nts_config(directory, harness.free_tcp_port())[1],
                                 workdir=directory, wait_ready=False)
        self.addCleanup(refused.cleanup)
        self.assertEqual(refused.proc.wait(timeout=10), 1)
        self.assertIn("readable by others", refused.read_log())

    def test_a_rotation_that_cannot_be_written_is_seen_by_monitoring(self):
        """The key directory made unwritable: status and metrics say the store fails and why,
        the log says so once (then at most once a minute), and recovery is told."""
        from test_metrics import fetch, metrics_config, parse, value
        directory = self.make_dir()
        ke_port, metrics_port = harness.free_tcp_port(), harness.free_tcp_port()
        cert, config = nts_config(directory, ke_port, rotation=2)
        daemon = harness.Daemon(config=config + metrics_config(metrics_port), workdir=directory)
        self.addCleanup(daemon.cleanup)
        keys_dir = os.path.join(directory, "keys")
        first = daemon.status()["nts"]["keys"]
        self.assertTrue(first["store"]["reachable"], first)
        os.chmod(keys_dir, 0o500)  # its owner (the daemon's user) may no longer write there
        self.addCleanup(os.chmod, keys_dir, 0o700)
        deadline = time.monotonic() + 10
        keys = first
        while time.monotonic() < deadline:
            keys = daemon.status()["nts"]["keys"]
            if keys["store"]["failures"] >= 3 and keys["current_key_age_s"] > 4:
                break
            time.sleep(0.2)
        store = keys["store"]
        self.assertFalse(store["reachable"], keys)
        self.assertIn("cannot write the NTS keys", store["problem"])
        self.assertIn("Permission denied", store["problem"])
        self.assertGreaterEqual(store["failures"], 3, keys)
        self.assertEqual(keys["rotation_s"], 2)
        self.assertGreater(keys["current_key_age_s"], 2 * keys["rotation_s"], keys)
        samples = parse(fetch(f"http://127.0.0.1:{metrics_port}/metrics")[2])
        self.assertEqual(value(samples, "cloudtime_nts_key_store_reachable", store="file"), 0)
        self.assertGreaterEqual(value(samples, "cloudtime_nts_key_store_failures_total"), 3)
        self.assertGreater(value(samples, "cloudtime_nts_cookie_key_age_seconds"),
                           value(samples, "cloudtime_nts_cookie_key_rotation_seconds"))
        told = daemon.read_log().count("NTS: cannot rotate the cookie keys")
        self.assertEqual(told, 1, daemon.read_log())  # not once a second
        # Writable again: rotated, reachable, and the log says after how many failures.
        os.chmod(keys_dir, 0o700)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not daemon.status()["nts"]["keys"]["store"][
                "reachable"]:
            time.sleep(0.2)
        keys = daemon.status()["nts"]["keys"]
        self.assertTrue(keys["store"]["reachable"], keys)
        self.assertEqual(keys["store"]["problem"], "")
        self.assertLessEqual(keys["current_key_age_s"], 3, keys)
        self.assertIn("the cookie keys can be rotated again, after", daemon.read_log())

    def test_new_keys_after_a_restart_nak_the_old_cookies_and_chronyd_establishes_again(self):
        directory = self.make_dir()
        ke_port, ntp_port = harness.free_tcp_port(), harness.free_udp_port()
        cert, config = nts_config(directory, ke_port)
        listen = (f"127.0.0.1:{ntp_port}",)
        first = harness.Daemon(config=config, listen=listen, workdir=directory)
        self.addCleanup(first.cleanup)
        chronyd = nts_chronyd(self, cert, ke_port, "127.0.0.1", ntp_port)
        wait_nts_cookies(self, chronyd, first, "127.0.0.1")
        # The restart happens between two of chronyd's polls, as it does between a real
        # client's (64 s or more apart): chronyd, polling 16 times a second here, is held still
        # meanwhile. Otherwise its 8 cookies run out during the restart (0.5 s; an ASan build
        # starts slower), it establishes new ones at the second server, and no NAK is ever due.
        chronyd.proc.send_signal(signal.SIGSTOP)
        try:
            first.stop()
            # The same certificate and ports, other cookie keys: what chronyd holds cannot be
            # read.
            os.remove(os.path.join(directory, "keys", "nts-keys"))
            second = harness.Daemon(config=config, listen=listen, workdir=directory)
            self.addCleanup(second.cleanup)
        finally:
            chronyd.proc.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 30
        c = {}
        while time.monotonic() < deadline:
            c = second.counters()
            if c["nts_nak"] >= 1 and c["nts"] >= 4:
                break
            time.sleep(0.25)
        self.assertGreaterEqual(c["nts_nak"], 1, c)
        self.assertGreaterEqual(c["nts"], 4, f"{c}\n{chronyd.read_log()}\n{second.read_log()}")
        self.assertGreaterEqual(second.status()["nts"]["ke"]["established"], 1)
        row = authdata(chronyd)["127.0.0.1"]
        self.assertEqual(row[1], "NTS", row)
        self.assertNotEqual(row[8], "0", row)  # cookies of the new keys

    def test_chronyd_over_its_rate_heeds_an_authenticated_kod_rate_and_backs_off(self):
        # RFC 8915 section 5.7: an NTS client ignores an unauthenticated KoD other than NTSN. A
        # KoD RATE sent before the request's NTS was checked was no answer at all to chronyd
        # (its test5 fails, nothing logged): 12 of 16 answers unsealed, the source lost.
        directory = self.make_dir()
        ke_port, ntp_port = harness.free_tcp_port(), harness.free_udp_port()
        cert, key = harness.self_signed_certificate(directory)
        # Four requests, then every one over the rate gets a KoD RATE (none leaks).
        config = ('[clock]\nsource = "local"\nlocal_stratum = 10\n'
                  '[rate_limit]\nenabled = true\ninterval = 1000.0\nburst = 4\nleak = 16\n'
                  'kod = 0\n' + nts_section(directory, cert, key, ke_port))
        daemon = harness.Daemon(config=config, listen=(f"127.0.0.1:{ntp_port}",),
                                workdir=directory)
        self.addCleanup(daemon.cleanup)
        chronyd = nts_chronyd(self, cert, ke_port, "127.0.0.1", ntp_port)
        wait_nts_cookies(self, chronyd, daemon, "127.0.0.1")
        deadline = time.monotonic() + 15
        while daemon.counters()["kod_sent"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        # chronyd's poll is 1/16 s; a KoD RATE it heeds adds 4 polls to its wait (chrony 4.3's
        # ntp_core.c): about 3 requests a second at most.
        window = 4.0
        before = daemon.counters()
        time.sleep(window)
        after = daemon.counters()
        rate = (after["received"] - before["received"]) / window
        log = chronyd.read_log()
        context = f"{after}\n{log}\n{daemon.read_log()}"
        self.assertGreaterEqual(after["kod_sent"], 3, context)
        self.assertIn("Received KoD RATE from 127.0.0.1", log, context)
        self.assertLess(rate, 6.0, context)
        # Every answer, KoDs included, was sealed with chronyd's S2C key; none dropped.
        self.assertEqual(after["nts"], after["answered"], context)
        self.assertEqual(after["dropped"], 0, context)
        # Each KoD brought fresh cookies: chronyd never ran out, and was never NAKed.
        row = authdata(chronyd)["127.0.0.1"]
        self.assertNotEqual(row[8], "0", row)
        self.assertEqual(row[7], "0", row)
        self.assertEqual(after["nts_nak"], 0, context)

    def test_bench_nts_every_reply_verified_and_counted_by_the_server(self):
        directory = self.make_dir()
        ke_port = harness.free_tcp_port()
        cert, config = nts_config(directory, ke_port)
        daemon = harness.Daemon(config=config, workdir=directory)
        self.addCleanup(daemon.cleanup)
        before = daemon.counters()
        p = subprocess.run([harness.CLOUDTIME, "bench", "--json", "--nts", "--nts-ca", cert,
                            "--nts-port", str(ke_port), "--rate", "2000", "--duration", "1",
                            "--sources", "50", daemon.address], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        after = daemon.counters()
        self.assertTrue(r["nts"])
        self.assertEqual(r["sent"], 2000)
        self.assertGreaterEqual(r["answered"], 1990, r)
        self.assertEqual(r["unauthenticated"], 0, r)
        self.assertEqual(r["nts_naks"], 0, r)
        self.assertEqual(r["answered"] + r["kod"] + r["lost"], r["sent"])
        self.assertEqual(after["nts"] - before["nts"], r["answered"], after)
        self.assertEqual(after["nts_nak"], 0, after)
        # An untrusted certificate: no load at all.
        other, _ = harness.self_signed_certificate(self.make_dir())
        p = subprocess.run([harness.CLOUDTIME, "bench", "--nts", "--nts-ca", other,
                            "--nts-port", str(ke_port), "--rate", "10", "--duration", "0.1",
                            daemon.address], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("NTS-KE", p.stderr)
        self.assertEqual(daemon.counters()["received"], after["received"])


class QueryNts(harness.TestCase):
    """`cloudtime query --nts` against chronyd 4.3's NTS server (the reference implementation of
    the other side), and against cloudtimed's key establishment."""

    @classmethod
    def setUpClass(cls):
        harness.require_program("chronyd")
        harness.require_root()
        super().setUpClass()

    def chronyd_nts_server(self):
        server_dir = tempfile.mkdtemp(prefix="cloudtime-chrony-nts-")
        self.addCleanup(shutil.rmtree, server_dir, True)
        cert, key = harness.self_signed_certificate(server_dir)
        os.chmod(server_dir, 0o755)
        for path in (cert, key):
            shutil.chown(path, "_chrony", "_chrony")
        ntp_port, ke_port = harness.free_udp_port(), harness.free_tcp_port()
        chronyd = harness.Chronyd([f"port {ntp_port}", f"ntsport {ke_port}",
                                   "bindaddress 127.0.0.1", "allow 127.0.0.0/8",
                                   "local stratum 8", f"ntsserverkey {key}",
                                   f"ntsservercert {cert}", "ntsprocesses 0"])
        self.addCleanup(chronyd.cleanup)
        return chronyd, ntp_port, ke_port, cert

    def test_query_nts_against_chronyd(self):
        chronyd, ntp_port, ke_port, cert = self.chronyd_nts_server()
        args = ["--nts", "--nts-port", str(ke_port), "--nts-ca", cert, "-n", "12", "-i", "0.05",
                "-t", "1"]
        deadline = time.monotonic() + 15
        while True:
            rc, data, err = harness.run_query(f"127.0.0.1:{ntp_port}", *args)
            if rc == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)  # chronyd is still starting
        self.assertEqual(rc, 0, err + chronyd.read_log())
        self.assertEqual(data["stratum"], 8)
        self.assertEqual(len(data["samples"]), 12)
        nts = data["nts"]
        self.assertEqual(nts["authenticated_samples"], 12, nts)
        self.assertEqual(nts["unauthenticated_replies"], 0, nts)
        # Eight from the key establishment, then one back for each of the twelve spent.
        self.assertEqual(nts["cookies_received"], 8 + 12, nts)
        # The certificate must be the one trusted, and name the address asked.
        other_dir = tempfile.mkdtemp(prefix="cloudtime-other-ca-")
        self.addCleanup(shutil.rmtree, other_dir, True)
        other, _ = harness.self_signed_certificate(other_dir)
        rc, _, err = harness.run_query(f"127.0.0.1:{ntp_port}", "--nts", "--nts-port",
                                       str(ke_port), "--nts-ca", other, "-n", "1")
        self.assertEqual(rc, 2, err)
        self.assertIn("not trusted", err)
        rc, _, err = harness.run_query(f"localhost:{ntp_port}", "--nts", "--nts-port",
                                       str(ke_port), "--nts-ca", cert, "-n", "1")
        self.assertEqual(rc, 2, err)

    def test_query_nts_against_cloudtimed(self):
        directory = tempfile.mkdtemp(prefix="cloudtime-nts-")
        self.addCleanup(shutil.rmtree, directory, True)
        ke_port = harness.free_tcp_port()
        cert, config = nts_config(directory, ke_port)
        daemon = harness.Daemon(config=config, workdir=directory)
        self.addCleanup(daemon.cleanup)
        rc, data, err = harness.run_query(daemon.address, "--nts", "--nts-port", str(ke_port),
                                          "--nts-ca", cert, "-n", "12", "-i", "0.05", "-t", "1")
        self.assertEqual(rc, 0, err + daemon.read_log())
        nts = data["nts"]
        self.assertEqual(nts["authenticated_samples"], 12, nts)
        self.assertEqual(nts["unauthenticated_replies"], 0, nts)
        self.assertEqual(nts["cookies_received"], 8 + 12, nts)
        self.assertLess(abs(data["offset_s"]), 1e-3)
        c = daemon.counters()
        self.assertEqual(c["nts"], 12, c)
        self.assertEqual(c["nts_nak"], 0, c)
        self.assertEqual(daemon.status()["nts"]["ke"]["established"], 1)
        # The seal comes after the transmit time is read: its measured duration is added to
        # the basic NTS reply's transmit time (microseconds, never nothing, never a millisecond).
        seal = daemon.status()["nts_seal_s"]
        self.assertGreater(seal, 0.0)
        self.assertLess(seal, 1e-3)
        # Interleaved and NTS together: both servers' kinds of reply verify.
        rc, data, err = harness.run_query(daemon.address, "--nts", "--nts-port", str(ke_port),
                                          "--nts-ca", cert, "-x", "-n", "6", "-i", "0.05")
        self.assertEqual(rc, 0, err)
        self.assertEqual(data["nts"]["authenticated_samples"], 6, data["nts"])
        self.assertGreaterEqual(data["interleaved_samples"], 5, data)


class NtsInTenantNetworks(harness.TestCase):
    """NTS-KE beside NTP on 169.254.169.254 inside every tenant network: the listeners are made
    in the namespace (by the privileged helper when the server drops root) and served by the
    key establishment; they close when the namespace goes."""

    @classmethod
    def setUpClass(cls):
        harness.require_program("chronyd")
        harness.require_root()
        super().setUpClass()

    def start(self, user):
        tag = "n" + secrets.token_hex(2)
        topology = OvnLikeTopology(tag)
        self.addCleanup(topology.remove)
        directory = tempfile.mkdtemp(prefix="cloudtime-nts-tenant-")
        self.addCleanup(shutil.rmtree, directory, True)
        cert, key = harness.self_signed_certificate(directory, "169.254.169.254")
        os.makedirs(os.path.join(directory, "keys"))
        if user:  # the key file is written after the server dropped root
            shutil.chown(os.path.join(directory, "keys"), user, user)
        ke_port = harness.free_tcp_port()
        daemon = harness.Daemon(config=tenant_config(tag, user) +
                                nts_section(directory, cert, key, ke_port), workdir=directory)
        self.addCleanup(daemon.cleanup)
        daemon.wait_tenant_served(topology.meta, 2)
        deadline = time.monotonic() + 5
        while True:
            served = {n["namespace"]: n for n in daemon.status()["tenant_networks"]}
            if served[topology.meta]["nts_ke_listeners"] == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(served[topology.meta]["nts_ke_listeners"], 2, served)  # v4 and v6
        return topology, daemon, cert, ke_port

    def test_chronyd_in_a_tenant_network_gets_nts_through_the_helper(self):
        topology, daemon, cert, ke_port = self.start("_cloudtime")
        chronyd = nts_chronyd(self, cert, ke_port, netns=topology.vm)
        row = wait_nts_cookies(self, chronyd, daemon, "169.254.169.254")
        self.assertEqual(row[3], "15", row)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and daemon.counters()["nts"] < 4:
            time.sleep(0.25)
        row = authdata(chronyd)["169.254.169.254"]
        self.assertEqual(row[7], "0", row)  # NAKs
        self.assertEqual(row[8], "8", row)  # cookies held
        self.assertRegex(chronyd.chronyc("-n", "ntpdata", "169.254.169.254"),
                         r"Authenticated\s*:\s*Yes")
        self.assertGreaterEqual(daemon.status()["nts"]["ke"]["established"], 1)
        # `cloudtime check` in the VM says its cloud source is authenticated (chronyd's authdata
        # through its command socket); nothing of this host's DHCP, config drive or PTP leaks in.
        deadline = time.monotonic() + 20
        while (chronyd.sources() or {}).get("169.254.169.254", {}).get("state") != "*":
            self.assertLess(time.monotonic(), deadline, chronyd.chronyc("-n", "sources"))
            time.sleep(0.25)
        scratch = tempfile.mkdtemp(prefix="cloudtime-check-")
        self.addCleanup(shutil.rmtree, scratch, True)
        p = subprocess.run(["ip", "netns", "exec", topology.vm, harness.CLOUDTIME, "check",
                            "--json", "--chrony-socket", chronyd.socket,
                            "--config-drive", f"{scratch}/no-drive",
                            "--lease-file", f"{scratch}/no-leases/*",
                            "--ptp-sysfs", f"{scratch}/no-ptp"],
                           capture_output=True, text=True, timeout=120)
        doc = json.loads(p.stdout)
        checks = {c["id"]: c for c in doc["checks"]}
        self.assertEqual(checks["client-authenticated"]["verdict"], "pass", checks)
        # Eight cookies, or seven while a request (it spends one) waits for its reply, which
        # brings the next: chronyd polls 16 times a second here.
        self.assertRegex(checks["client-authenticated"]["reason"],
                         r"^chronyd authenticates 169\.254\.169\.254 with NTS \(AEAD 15, [78] "
                         r"cookies, key established ")
        self.assertEqual(doc["client"]["authdata"]["mode"], "nts", doc["client"])
        self.assertEqual(doc["client"]["authdata"]["cookie_length"], 100, doc["client"])

    def test_query_nts_in_a_tenant_network_and_the_listeners_go_with_it(self):
        topology, daemon, cert, ke_port = self.start("")
        baseline = fd_count(daemon.proc.pid)
        rc, data, err = harness.run_query("169.254.169.254", "--nts", "--nts-port", str(ke_port),
                                          "--nts-ca", cert, "-n", "4", "-i", "0.05",
                                          netns=topology.vm)
        self.assertEqual(rc, 0, err + daemon.read_log())
        self.assertEqual(data["nts"]["authenticated_samples"], 4, data["nts"])
        self.assertEqual(data["nts"]["cookies_received"], 8 + 4, data["nts"])
        # Not on the host's loopback: the namespace's listener answered.
        ke = daemon.status()["nts"]["ke"]
        self.assertEqual(ke["established"], 1, ke)
        # The namespace goes, and with it five descriptors: two NTP sockets, two NTS-KE
        # listeners, the rtnetlink socket that followed its addresses.
        topology.remove()
        deadline = time.monotonic() + 2
        while fd_count(daemon.proc.pid) > baseline - 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(fd_count(daemon.proc.pid), baseline - 5, daemon.read_log())
        self.assertIn(f"tenant network {topology.meta}: released", daemon.read_log())


if __name__ == "__main__":
    unittest.main()
