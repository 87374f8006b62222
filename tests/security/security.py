#!/usr/bin/env python3
"""Security suite (issue 20). Run with Debian's /usr/bin/python3 (python3-confluent-kafka).

One broker (Millrace, or Apache Kafka 4.1.1 with --against kafka) with PLAINTEXT, SSL
(client certificate required) and SASL_SSL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)
listeners, certificates made by certs.py. Parts (--parts, all by default):

  scram      SCRAM users through the admin API (AlterUserScramCredentials, then
             DescribeUserScramCredentials shows both mechanisms); every client
             authenticates with PLAIN and with SCRAM-SHA-256 (a metadata probe).
  matrix     every client of tests/interop over SASL_SSL with SCRAM-SHA-512 and over
             mTLS: CreateTopics through its admin API, produce N keyed records,
             consume them in a group of 3 in two rounds with commits in between,
             checked as tests/interop/interop.py checks (no loss, partitions by
             murmur2, order, committed offsets resumed from exactly).
  refusals   after a control (each client gets in with valid credentials on the SSL and
             SASL_SSL listeners: a refusal only counts where its control passed),
             each client alone, in turn per case, is refused: wrong password,
             unknown user, expired client certificate, client certificate of an
             untrusted CA, plaintext to the TLS port, TLS to the plaintext port. The
             error each client reports must be the kind the case calls for (e.g.
             Java's SaslAuthenticationException / SslAuthenticationException), the
             broker's failure counters must move (Millrace), and a producer on the
             mTLS listener keeps getting acknowledgements all along.
  rotation   (Millrace) broker.pem is replaced by a certificate with a new serial
             while that producer writes: new connections get the new certificate
             (openssl s_client on both TLS ports), a new client connects, and no
             acknowledged write is lost.
  cpp-client Millrace's C++ client through the `millrace` CLI (cpp_client.py), against
             Millrace and Kafka both: SASL_SSL/SCRAM-SHA-512 and mTLS (topic create and
             describe, produce, group consume) and its refusals (wrong password, untrusted
             server or client certificate, hostname mismatch unless identification is off).
  acls       the ACL matrix (acl_matrix.py): Millrace and Kafka, both with the
             authorizer, side by side whatever --against says; every API Kafka
             authorizes sent by a principal without ACLs, with exactly the needed
             ones (literal, prefixed), with a DENY over them and as a super user;
             Millrace's error codes must be Kafka's. --acl-cases picks cases.

When the broker does not have AlterUserScramCredentials yet (UNSUPPORTED_VERSION),
the SCRAM checks are reported as SKIPPED, loudly, and the matrix's SASL_SSL leg and
the SASL refusals use PLAIN instead. --plant-fault wrong-ca gives the clients the
untrusted CA instead of the broker's: every check that connects must fail.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("MILLRACE_SOURCE") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from certs import Certs, serial_of  # noqa: E402
from interop import ClientRun, client_command, librdkafka_security  # noqa: E402
from secure_brokers import SecureKafka, SecureMillrace  # noqa: E402

CACHE = os.environ.get("MILLRACE_CACHE", os.path.expanduser("~/.cache/millrace"))
PEERS = os.path.join(SRC, "tests", "peers")
CLIENTS = ["kcat", "confluent-kafka", "kafka-python", "kafkajs", "java", "franz-go"]
PARTS = ["scram", "matrix", "refusals", "rotation", "cpp-client", "acls"]
SCRAM_PASSWORD = "alice-scram-secret"  # not PLAIN's alice-secret: a PLAIN fallback cannot pass

# What each client reports when it is refused, by kind of refusal (regex on its probe
# line "REFUSED ..."). kafka-python raises NoBrokersAvailable whatever went wrong
# during SASL (its probe line carries the connection errors it logged).
SASL_REFUSAL = {
    "kcat": r"SASL authentication error|Authentication failed",
    "confluent-kafka": r"^REFUSED _AUTHENTICATION",
    "kafka-python": r"NoBrokersAvailable|AuthenticationFailed",
    "kafkajs": r"KafkaJSSASLAuthenticationError",
    "java": r"SaslAuthenticationException",
    "franz-go": r"SASL_AUTHENTICATION_FAILED",
}
TLS_REFUSAL = {  # the broker's TLS alert as each client reports it
    "kcat": r"alert",
    "confluent-kafka": r"^REFUSED _(TRANSPORT|SSL).*alert",
    "kafka-python": r"SSL",  # SSLEOFError: Python's ssl reports the broker's close, not the alert
    "kafkajs": r"alert",
    "java": r"SslAuthenticationException",
    "franz-go": r"remote error: tls",
}
ANY_REFUSAL = {c: r"^REFUSED" for c in CLIENTS}
# librdkafka before 2.6.1 (Debian's 2.0.2: kcat, python3-confluent-kafka) sends its own
# nonce again in front of the combined one in the SCRAM client-final message; Apache
# Kafka 4.x compares that nonce for equality (ScramSaslServer, RFC 5802) and refuses it
# ("invalid credentials"), Kafka 3.x and Millrace check that it ends with the combined
# nonce and accept it. Fixed in librdkafka 2.6.1 (confluentinc/librdkafka#4895).
LIBRDKAFKA_SCRAM_LIMIT = ("client limit: librdkafka 2.0.2 repeats its nonce in the SCRAM client-final "
                          "message, which Apache Kafka 4.x refuses (fixed in librdkafka 2.6.1)")
# Clients whose first consume round (target N/2) reads everything of a small topic
# (kafka-python's max_poll_records per member, franz-go's fetches): they get the interop
# suite's own count, so that the resume from committed offsets is still tested
# (kafkajs read all of 2,000 in its first round against Kafka).
MIN_RECORDS = {"kafka-python": 10000, "kafkajs": 10000, "franz-go": 10000}


def log(msg):
    print(f"[security {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Results:
    def __init__(self):
        self.rows = []  # (part, name, status PASS/FAIL/SKIP, detail)
        self.lock = threading.Lock()

    def add(self, part, name, status, detail=""):
        with self.lock:
            self.rows.append((part, name, status, detail))
        log(f"{status} {part}: {name}" + (f" — {detail.splitlines()[0]}" if detail else ""))

    def check(self, part, name, ok, detail=""):
        self.add(part, name, "PASS" if ok else "FAIL", detail)
        return ok

    def failed(self):
        return [r for r in self.rows if r[2] == "FAIL"]

    def skipped(self):
        return [r for r in self.rows if r[2] == "SKIP"]


class Endpoint:
    """What ClientRun needs of a broker: the bootstrap of one listener."""

    def __init__(self, bootstrap):
        self.bootstrap = bootstrap


class Suite:
    def __init__(self, args, workdir):
        self.args, self.workdir = args, workdir
        self.results = Results()
        self.certs = Certs(os.path.join(workdir, "certs"))
        self.scram_pending = None  # why SCRAM checks are skipped, when they are
        self.commands = {}
        self.background = None

    # --- security settings the clients get (MILLRACE_CLIENT_SECURITY) ---
    def ca(self):
        return self.certs.path("rogueca.pem" if self.args.plant_fault == "wrong-ca" else "ca.pem")

    def sasl(self, mechanism, username="alice", password=None):
        if password is None:
            password = "alice-secret" if mechanism == "PLAIN" else SCRAM_PASSWORD
        return {"protocol": "SASL_SSL", "mechanism": mechanism, "username": username,
                "password": password, "ca": self.ca()}

    def mtls(self, name="alice"):
        return {"protocol": "SSL", "ca": self.ca(), "cert": self.certs.path(f"{name}.crt"),
                "key": self.certs.path(f"{name}.key")}

    def client_limit(self, client, mechanism):
        """Why client cannot use mechanism against this broker, or None."""
        if (self.args.against == "kafka" and client in ("kcat", "confluent-kafka")
                and mechanism.startswith("SCRAM")):
            return LIBRDKAFKA_SCRAM_LIMIT
        return None

    def bootstrap(self, security):
        return self.broker.bootstrap_of((security or {}).get("protocol", "PLAINTEXT"))

    def command(self, client):
        if client not in self.commands:
            self.commands[client] = client_command(client)
        return self.commands[client]

    def probe(self, client, bootstrap, security, logname):
        """Runs the client's `probe`: its last OK/REFUSED line (or a description)."""
        cmd, env = self.command(client)
        env = {**os.environ, **env}
        env.pop("MILLRACE_CLIENT_SECURITY", None)
        if security:
            env["MILLRACE_CLIENT_SECURITY"] = json.dumps(security)
        path = os.path.join(self.workdir, "probes", f"{logname}.log")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            p = subprocess.run(cmd + ["probe", bootstrap], env=env, capture_output=True, text=True,
                               timeout=45)
            out, err, rc = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out, err, rc = e.stdout or "", e.stderr or "", "timeout"
            out = out.decode(errors="replace") if isinstance(out, bytes) else out
            err = err.decode(errors="replace") if isinstance(err, bytes) else err
        with open(path, "w") as f:
            f.write(f"$ MILLRACE_CLIENT_SECURITY='{json.dumps(security)}' {' '.join(cmd)} probe "
                    f"{bootstrap}\nexit {rc}\n--- stdout\n{out}\n--- stderr\n{err}\n")
        lines = [ln for ln in out.splitlines() if ln.startswith(("OK", "REFUSED"))]
        if not lines:
            return f"NO ANSWER (exit {rc}; see {path})"
        return " ".join(lines[-1].split())  # one line, whitespace collapsed

    # --- broker ---
    def start_broker(self):
        cls = SecureKafka if self.args.against == "kafka" else SecureMillrace
        self.broker = cls(self.workdir, self.certs)
        log(f"starting {self.broker.name}")
        self.broker.start()
        log(f"{self.broker.name}: PLAINTEXT {self.broker.ports['PLAINTEXT']}, SSL "
            f"{self.broker.ports['SSL']}, SASL_SSL {self.broker.ports['SASL_SSL']}")

    # --- parts ---
    def scram_users(self):
        """Creates alice's SCRAM credentials; sets self.scram_pending when the broker
        answers UNSUPPORTED_VERSION."""
        classes = java_classes(os.path.join(HERE, "ScramUsers.java"), "security-java")
        cp = subprocess.run([os.path.join(PEERS, "kafka"), "classpath"], check=True, capture_output=True,
                            text=True).stdout.strip()
        p = subprocess.run(["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", f"{classes}:{cp}",
                            "ScramUsers", self.broker.bootstrap_of("PLAINTEXT"),
                            f"alice:{SCRAM_PASSWORD}"], capture_output=True, text=True, timeout=90)
        with open(os.path.join(self.workdir, "scram-users.log"), "w") as f:
            f.write(p.stdout + "\n--- stderr\n" + p.stderr)
        if p.returncode == 3 and p.stdout.startswith("UNSUPPORTED"):
            self.scram_pending = ("the broker answers AlterUserScramCredentials with UNSUPPORTED_VERSION "
                                  f"({p.stdout.strip()[12:]}); SCRAM users cannot be created")
            self.results.add("scram", "SCRAM users through AlterUserScramCredentials", "SKIP",
                             "PENDING: " + self.scram_pending)
            return
        want = {"alice SCRAM_SHA_256 4096", "alice SCRAM_SHA_512 4096"}
        lines = p.stdout.strip().splitlines()
        got = {ln for ln in lines if not ln.startswith("DUPLICATE")}
        self.results.check("scram", "AlterUserScramCredentials (one per mechanism) + "
                           "DescribeUserScramCredentials", p.returncode == 0 and want <= got,
                           f"described: {sorted(got)}" if p.returncode == 0 else
                           f"exit {p.returncode}: {p.stderr.strip()[-600:]}")
        dup = [ln for ln in lines if ln.startswith("DUPLICATE")]
        self.results.check("scram", "one request upserting two mechanisms of one user is refused "
                           "(DUPLICATE_RESOURCE, as a KRaft controller does)",
                           bool(dup) and dup[0].startswith("DUPLICATE refused"),
                           dup[0] if dup else "no answer (see scram-users.log)")

    def part_scram(self):
        self.scram_users()
        checks = [("PLAIN", self.sasl("PLAIN"))]
        if self.scram_pending:
            self.results.add("scram", "each client authenticates with SCRAM-SHA-256", "SKIP",
                             "PENDING: " + self.scram_pending)
        else:
            checks.append(("SCRAM-SHA-256", self.sasl("SCRAM-SHA-256")))
        for mech, sec in checks:
            answers = self.parallel(lambda c: self.probe(c, self.bootstrap(sec), sec, f"auth-{mech}-{c}"))
            for client, line in answers.items():
                name = f"{client} authenticates with {mech} over SASL_SSL"
                limit = self.client_limit(client, mech)
                if limit and line != "OK":
                    self.results.add("scram", name, "SKIP", f"{limit}; it saw: {line}")
                else:
                    self.results.check("scram", name, line == "OK", "" if line == "OK" else line)

    def part_matrix(self):
        if self.scram_pending:
            self.results.add("matrix", "clients over SASL_SSL with SCRAM-SHA-512", "SKIP",
                             "PENDING: " + self.scram_pending + " — the SASL_SSL leg runs with PLAIN")
        jobs = []
        for client in self.args.clients:
            limit = self.client_limit(client, "SCRAM-SHA-512")
            if limit:
                self.results.add("matrix", f"{client} over sasl_ssl-scram512", "SKIP",
                                 f"{limit} — its SASL_SSL leg runs with PLAIN")
            if self.scram_pending or limit:
                jobs.append(("sasl_ssl-plain", self.sasl("PLAIN"), client))
            else:
                jobs.append(("sasl_ssl-scram512", self.sasl("SCRAM-SHA-512"), client))
        jobs += [("mtls", self.mtls(), client) for client in self.args.clients]
        run_id = f"{int(time.time()) % 100000}"

        def one(job):
            mode, sec, client = job
            t0 = time.time()
            r = ClientRun(client, Endpoint(self.bootstrap(sec)), os.path.join(self.workdir, mode),
                          max(self.args.records, MIN_RECORDS.get(client, 0)), f"{mode}-{run_id}",
                          security=sec, view=(self.bootstrap(self.mtls()), self.mtls()))
            try:
                r.phase_one()
                r.phase_two()
                return mode, client, True, f"{time.time() - t0:.0f}s; {r.note}"
            except Exception as e:  # noqa: BLE001 - reported per client
                steps = ", ".join(f"{k}: {v}" for k, v in r.steps.items())
                return mode, client, False, f"{e}\n(steps: {steps}; logs in {r.dir})"
        with concurrent.futures.ThreadPoolExecutor(self.args.jobs) as pool:
            for mode, client, ok, detail in pool.map(one, jobs):
                self.results.check("matrix", f"{client} over {mode}: create, produce, group consume",
                                   ok, detail)

    def refusal_cases(self):
        sasl_mech = "PLAIN" if self.scram_pending else "SCRAM-SHA-512"
        p = self.broker.ports
        return [
            # name, bootstrap, security, expected per client, counter that must move
            (f"wrong password ({sasl_mech})", f"127.0.0.1:{p['SASL_SSL']}",
             self.sasl(sasl_mech, password="not-the-password"), SASL_REFUSAL,
             "millrace_sasl_authentication_failures_total"),
            (f"unknown user ({sasl_mech})", f"127.0.0.1:{p['SASL_SSL']}",
             self.sasl(sasl_mech, username="mallory", password="whatever"), SASL_REFUSAL,
             "millrace_sasl_authentication_failures_total"),
            ("expired client certificate", f"127.0.0.1:{p['SSL']}", self.mtls("expired"), TLS_REFUSAL,
             "millrace_tls_handshake_failures_total"),
            ("client certificate of an untrusted CA", f"127.0.0.1:{p['SSL']}", self.mtls("rogue"),
             TLS_REFUSAL, "millrace_tls_handshake_failures_total"),
            ("plaintext to the TLS port", f"127.0.0.1:{p['SSL']}", None, ANY_REFUSAL,
             "millrace_tls_handshake_failures_total"),
            ("TLS to the plaintext port", f"127.0.0.1:{p['PLAINTEXT']}", self.mtls(), ANY_REFUSAL, None),
        ]

    def part_refusals(self):
        bg = self.ensure_background()
        # Controls: a refusal counts only when the same client gets in with valid
        # credentials on that listener (else it may have refused the broker itself).
        sasl_mech = "PLAIN" if self.scram_pending else "SCRAM-SHA-512"
        controls = {}
        for proto, sec in (("SSL", self.mtls()), ("SASL_SSL", self.sasl(sasl_mech))):
            answers = self.parallel(lambda c: self.probe(
                c, self.bootstrap(sec), sec if not self.client_limit(c, sasl_mech) or proto == "SSL"
                else self.sasl("PLAIN"), f"control-{proto}-{c}"))
            for client, line in answers.items():
                controls[(proto, client)] = line == "OK"
                self.results.check("refusals", f"{client}: control, valid credentials on {proto}",
                                   line == "OK", "" if line == "OK" else line)
        controls.update({("PLAINTEXT", c): True for c in self.args.clients})
        for name, bootstrap, sec, expect, counter in self.refusal_cases():
            proto = next(k for k, v in self.broker.ports.items() if bootstrap.endswith(f":{v}"))
            m0, acks0, t0 = self.broker.metrics(), bg.acked_count(), time.time()
            answers = self.parallel(lambda c: self.probe(c, bootstrap, sec, f"refusal-{slug(name)}-{c}"))
            m1, acks1 = self.broker.metrics(), bg.acked_count()
            for client, line in answers.items():
                ok = line.startswith("REFUSED") and re.search(expect[client], line) is not None
                why = line if ok else f"expected /{expect[client]}/, got: {line}"
                if ok and not controls.get((proto, client)):
                    ok, why = False, f"its control on {proto} failed too: not the broker's refusal ({line})"
                self.results.check("refusals", f"{client}: {name}", ok, why)
            self.results.check("refusals", f"{name}: the mTLS producer kept being acknowledged",
                               acks1 > acks0, f"{acks1 - acks0} acks in {time.time() - t0:.1f}s"
                               + (f"; errors: {bg.errors[-3:]}" if bg.errors else ""))
            deltas = {k.replace("millrace_", ""): int(m1.get(k, 0) - m0.get(k, 0)) for k in m1}
            if not m1:
                self.results.add("refusals", f"{name}: failure counters", "SKIP",
                                 f"{self.broker.name} exports no Prometheus counters")
            elif counter:
                moved = m1.get(counter, 0) - m0.get(counter, 0)
                self.results.check("refusals", f"{name}: {counter} moved by >= {len(answers)}",
                                   moved >= len(answers), f"deltas {deltas}")
            else:
                self.results.add("refusals", f"{name}: failure counters (none required)", "PASS",
                                 f"deltas {deltas}")
        self.check_alive("refusals")

    def part_rotation(self):
        if self.args.against == "kafka":
            self.results.add("rotation", "certificate rotation", "SKIP",
                             "Apache Kafka reloads keystores only through a dynamic config update, "
                             "not when the file changes")
            return
        bg = self.ensure_background()
        before = {proto: self.served_serial(proto) for proto in ("SSL", "SASL_SSL")}
        self.results.check("rotation", "both TLS ports serve the first certificate",
                           all(s == self.certs.broker_serial for s in before.values()),
                           f"serials {before}, issued {self.certs.broker_serial}")
        acks0 = bg.acked_count()
        serial, pem = self.certs.reissue_broker()
        tmp = self.certs.path("broker.pem.new")
        with open(tmp, "w") as f:
            f.write(pem)
        os.replace(tmp, self.certs.path("broker.pem"))
        t0 = time.time()
        seen = {}
        deadline = t0 + 15
        while time.time() < deadline and any(seen.get(p) != serial for p in ("SSL", "SASL_SSL")):
            for proto in ("SSL", "SASL_SSL"):
                seen[proto] = self.served_serial(proto)
            time.sleep(0.3)
        took = time.time() - t0
        self.results.check("rotation", "new connections get the new certificate on both TLS ports",
                           all(seen.get(p) == serial for p in ("SSL", "SASL_SSL")),
                           f"new serial {serial}, served {seen} after {took:.1f}s")
        line = self.probe("confluent-kafka", self.bootstrap(self.mtls()), self.mtls(), "rotation-mtls")
        self.results.check("rotation", "a new mTLS client connects after the rotation", line == "OK", line)
        time.sleep(1)
        self.results.check("rotation", "the producer kept being acknowledged across the rotation",
                           bg.acked_count() > acks0, f"{bg.acked_count() - acks0} acks since the swap")

    def served_serial(self, protocol):
        """Serial of the certificate a new TLS connection to that listener gets, or None."""
        argv = ["openssl", "s_client", "-connect", self.broker.bootstrap_of(protocol), "-showcerts",
                "-CAfile", self.certs.path("ca.pem")]
        if protocol == "SSL":
            argv += ["-cert", self.certs.path("alice.crt"), "-key", self.certs.path("alice.key")]
        try:
            p = subprocess.run(argv, input="", capture_output=True, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            return None
        m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", p.stdout, re.S)
        return serial_of(m.group(0)) if m else None

    # --- helpers ---
    def parallel(self, fn):
        with concurrent.futures.ThreadPoolExecutor(len(self.args.clients)) as pool:
            return dict(zip(self.args.clients, pool.map(fn, self.args.clients)))

    def ensure_background(self):
        if self.background is None:
            self.background = BackgroundProducer(self.bootstrap(self.mtls()), self.mtls(),
                                                 self.broker.bootstrap_of("PLAINTEXT"))
            self.background.start()
        return self.background

    def finish_background(self):
        if self.background is None:
            return
        bg = self.background
        bg.stop()
        missing, read = bg.verify()
        self.results.check("background", "no acknowledged write of the mTLS producer lost",
                           bg.acked_count() > 0 and not missing,
                           f"{bg.acked_count()} acknowledged, {read} read back via PLAINTEXT, "
                           f"{len(missing)} missing {sorted(missing)[:5]}; "
                           f"delivery errors {len(bg.errors)} {bg.errors[:2]}")

    def check_alive(self, part):
        why = self.broker.dead()
        self.results.check(part, f"{self.broker.name} still running", why is None, why or "")


class BackgroundProducer:
    """Produces numbered records to one topic over mTLS (acks=all, idempotent) until
    stopped, keeping the numbers acknowledged; verify() reads the topic back over
    PLAINTEXT."""

    def __init__(self, bootstrap, security, plain_bootstrap, topic=None):
        self.bootstrap, self.security, self.plain = bootstrap, security, plain_bootstrap
        self.topic = topic or f"security-background-{int(time.time()) % 100000}"
        self.acked, self.errors = set(), []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def start(self):
        from confluent_kafka.admin import AdminClient, NewTopic
        a = AdminClient({"bootstrap.servers": self.plain})
        for f in a.create_topics([NewTopic(self.topic, 1, 1)]).values():
            f.result(30)
        self.thread.start()

    def acked_count(self):
        with self.lock:
            return len(self.acked)

    def loop(self):
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": self.bootstrap, "acks": "all", "enable.idempotence": True,
                      "linger.ms": 5, **librdkafka_security(self.security or {})})

        def done(err, msg):
            with self.lock:
                if err:
                    self.errors.append(str(err))
                else:
                    self.acked.add(int(msg.value()))
        i = 0
        while not self.stopping.is_set():
            p.produce(self.topic, value=str(i).encode(), on_delivery=done)
            i += 1
            p.poll(0.01)
        p.flush(30)

    def stop(self):
        self.stopping.set()
        self.thread.join(60)

    def verify(self, timeout=60):
        from confluent_kafka import Consumer, TopicPartition
        c = Consumer({"bootstrap.servers": self.plain, "group.id": self.topic + "-verify",
                      "enable.auto.commit": False})
        try:
            end = c.get_watermark_offsets(TopicPartition(self.topic, 0), timeout=20)[1]
            c.assign([TopicPartition(self.topic, 0, 0)])
            got, pos = set(), 0
            deadline = time.time() + timeout
            while pos < end and time.time() < deadline:
                for m in c.consume(500, timeout=1):
                    if m.error():
                        continue
                    got.add(int(m.value()))
                    pos = m.offset() + 1
        finally:
            c.close()
        with self.lock:
            missing = self.acked - got
        return missing, len(got)


def java_classes(src, cache_name):
    """Compiles one Java file against Kafka's jars once into the cache; its class dir."""
    cp = subprocess.run([os.path.join(PEERS, "kafka"), "classpath"], check=True, capture_output=True,
                        text=True).stdout.strip()
    with open(src, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    classes = os.path.join(CACHE, cache_name, digest)
    if not os.path.isdir(classes):
        os.makedirs(os.path.dirname(classes), exist_ok=True)
        tmp = tempfile.mkdtemp(dir=os.path.dirname(classes))
        subprocess.run(["javac", "-d", tmp, "-cp", cp, src], check=True, timeout=120)
        try:
            os.rename(tmp, classes)
        except OSError:  # a concurrent run got there first
            shutil.rmtree(tmp, ignore_errors=True)
    return classes


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", choices=["millrace", "kafka"], default="millrace")
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--parts", default=",".join(PARTS))
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=2, help="clients of the matrix run at once")
    ap.add_argument("--plant-fault", choices=["wrong-ca"], help="prove that the checks can fail")
    ap.add_argument("--keep", action="store_true", help="keep the work dir")
    ap.add_argument("--acl-cases", default="", help="the ACL matrix's cases to run (all by default)")
    args = ap.parse_args()
    args.clients = [c for c in args.clients.split(",") if c]
    parts = [p for p in args.parts.split(",") if p]
    unknown = set(args.clients) - set(CLIENTS) | set(parts) - set(PARTS)
    if unknown:
        ap.error(f"unknown clients or parts: {sorted(unknown)}")

    workdir = tempfile.mkdtemp(prefix="millrace-security-")
    suite = Suite(args, workdir)
    t_start = time.time()
    log(f"work dir {workdir}")
    try:
        suite.certs.make()
        if set(parts) - {"acls"}:
            suite.start_broker()
        if "scram" in parts:
            suite.part_scram()
        elif "matrix" in parts or "refusals" in parts:
            suite.scram_users()
        for part in ("matrix", "refusals", "rotation"):
            if part in parts:
                log(f"part {part}")
                getattr(suite, f"part_{part}")()
        suite.finish_background()
        if "cpp-client" in parts:  # Millrace's own client and CLI (cpp_client.py)
            log("part cpp-client")
            import cpp_client
            cpp_client.run(suite, log, java_classes)
        if "acls" in parts:
            log("part acls")
            import acl_matrix
            cp = subprocess.run([os.path.join(PEERS, "kafka"), "classpath"], check=True, capture_output=True,
                                text=True).stdout.strip()
            classes = java_classes(os.path.join(HERE, "KafkaWire.java"), "security-java")
            acl_matrix.run(suite.results, workdir, suite.certs, f"{cp}:{classes}", log,
                           only=[c for c in args.acl_cases.split(",") if c])
    except Exception as e:  # noqa: BLE001 - setup or broker problems end the suite
        import traceback
        suite.results.add("suite", "setup", "FAIL", f"{e}\n{traceback.format_exc()[-1500:]}")
    finally:
        if getattr(suite, "broker", None) is not None:
            try:
                suite.broker.stop()
            except Exception as e:  # noqa: BLE001 - report, then clean up
                suite.results.add("suite", f"{suite.broker.name} stops cleanly", "FAIL", str(e))
    res = suite.results
    print(f"\n=== security against {args.against} ({time.time() - t_start:.0f}s) ===")
    for part, name, status, detail in res.rows:
        print(f"{status} {part}: {name}")
        if detail and (status != "PASS" or args.keep):
            print("     " + detail.replace("\n", "\n     "))
    failed, skipped = res.failed(), res.skipped()
    if failed or args.keep:
        print(f"work dir kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    passed = sum(1 for r in res.rows if r[2] == "PASS")
    print(f"{passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    if skipped:
        print("SKIPPED (not silently): " + "; ".join(f"{p}: {n}" for p, n, _, _ in skipped))
        if suite.scram_pending:
            print(f"SCRAM checks pending: {suite.scram_pending}")
    if failed:
        print("security: FAILED: " + "; ".join(f"{p}: {n}" for p, n, _, _ in failed))
        return 1
    print("security: all checks passed" + (f" ({len(skipped)} skipped, see above)" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
