"""Part cpp-client: Millrace's own C++ client, through the `millrace` CLI, against a
secured Millrace AND a secured Apache Kafka 4.1.1, whatever --against says (the suite's
broker is one of them; the other is started here with the same certificates and
listeners, secure_brokers.py).

Settings go in as Kafka's tools take them: a Java properties file (--command-config)
with security.protocol, ssl.truststore.location, ssl.keystore.location (mTLS: key and
chain in one PEM file), sasl.mechanism and sasl.jaas.config (ScramLoginModule), and
-X key=value over it. Per broker:

  over SASL_SSL with SCRAM-SHA-512 and over mTLS, each:
    topic create (3 partitions), topic describe (3 partitions listed),
    produce 300 keyed records, consume them back in a group (every one, nothing else)
  PLAIN by librdkafka's sasl.username/sasl.password, and SCRAM-SHA-256 by -X over the file
  refused, each with the answer the case calls for and within its bound:
    a wrong password      SASL_AUTHENTICATION_FAILED (58) carrying the broker's own message,
                          for the admin call, produce and a group consumer (at once, not
                          after max.block.ms or a poll loop)
    an untrusted server   SSL_AUTHENTICATION_FAILED, "certificate verify failed"
    certificate           (the client trusts the second, untrusted CA)
    a client certificate  SSL_AUTHENTICATION_FAILED: the broker's TLS alert
    of an untrusted CA
    a hostname mismatch   bootstrap 127.1 (resolves to 127.0.0.1, which the certificate
                          names, but the name dialled is not in it): refused with
                          "mismatch"; accepted with ssl.endpoint.identification.algorithm=
The broker started here has connections.max.reauth.ms=3000 (Kafka with the default
--against millrace, Millrace with --against kafka): all of its checks run with SASL
sessions that end, and a consumer running 8 s must keep its connections (the same local
ports throughout, seen with `ss`): re-authenticated, not cut off and reconnected.
"""
import os
import subprocess
import time

BOUND_S = 20  # every refusal must come back within this (the CLI's own timeout is 30 s)
REAUTH_MS = 3000  # connections.max.reauth.ms of the broker started here (KIP-368)
RECORDS = 300
SCRAM_PASSWORD = "alice-cpp-secret"
JAAS = ('org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" '
        'password="{password}";')


class Side:
    """One broker and how to reach each of its listeners; reauth_ms: its SASL session
    lifetime (connections.max.reauth.ms), 0 for none."""

    def __init__(self, name, broker, reauth_ms=0):
        self.name, self.broker, self.reauth_ms = name, broker, reauth_ms

    def port(self, protocol):
        return self.broker.ports[protocol]


def write_properties(path, props):
    with open(path, "w") as f:
        f.write("# written by tests/security/cpp_client.py\n")
        for k, v in props.items():
            # Java properties: backslashes escape, so a JAAS text keeps its quotes as they are.
            f.write(f"{k}={v.replace(chr(92), chr(92) * 2)}\n")
    return path


class CppClient:
    def __init__(self, suite, log, java_classes):
        self.suite, self.log, self.java_classes = suite, log, java_classes
        self.results = suite.results
        self.certs = suite.certs
        self.dir = os.path.join(suite.workdir, "cpp-client")
        os.makedirs(self.dir, exist_ok=True)
        build = os.environ.get("MILLRACE_BUILD") or os.path.join(suite_src(), "build", "release")
        self.cli = os.path.join(build, "client", "millrace")
        self.runs = 0

    # --- settings ---
    def scram(self, password=SCRAM_PASSWORD, ca="ca.pem"):
        return {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.jaas.config": JAAS.format(password=password),
                "ssl.truststore.location": self.certs.path(ca)}

    def mtls(self, who="alice", ca="ca.pem"):
        keystore = os.path.join(self.dir, f"{who}-keystore.pem")
        if not os.path.exists(keystore):
            with open(self.certs.path(f"{who}.key")) as k, open(self.certs.path(f"{who}.crt")) as c, \
                    open(keystore, "w") as out:
                out.write(k.read() + c.read())
        return {"security.protocol": "SSL", "ssl.truststore.location": self.certs.path(ca),
                "ssl.keystore.location": keystore}

    # --- running the CLI ---
    def cli_run(self, label, bootstrap, props, args, stdin=None, extra=()):
        """Runs `millrace --command-config <props> -b bootstrap args`; (rc, out, err, seconds)."""
        self.runs += 1
        conf = write_properties(os.path.join(self.dir, f"{self.runs:03d}-{label}.properties"), props)
        argv = [self.cli, "--command-config", conf, "-b", bootstrap, "--timeout-ms", "30000", *extra, *args]
        t0 = time.time()
        try:
            p = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=90)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = "timeout", _text(e.stdout), _text(e.stderr)
        took = time.time() - t0
        with open(os.path.join(self.dir, f"{self.runs:03d}-{label}.log"), "w") as f:
            f.write(f"$ {' '.join(argv)}\nexit {rc} after {took:.1f}s\n--- stdout\n{out}\n--- stderr\n{err}\n")
        return rc, out, err, took

    # --- SCRAM user ---
    def scram_user(self, side):
        import subprocess as sp
        peers = os.path.join(suite_src(), "tests", "peers")
        classes = self.java_classes(os.path.join(os.path.dirname(__file__), "ScramUsers.java"), "security-java")
        cp = sp.run([os.path.join(peers, "kafka"), "classpath"], check=True, capture_output=True,
                    text=True).stdout.strip()
        p = sp.run(["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", f"{classes}:{cp}", "ScramUsers",
                    side.broker.bootstrap_of("PLAINTEXT"), f"alice:{SCRAM_PASSWORD}"],
                   capture_output=True, text=True, timeout=90)
        with open(os.path.join(self.dir, f"scram-users-{side.name}.log"), "w") as f:
            f.write(p.stdout + "\n--- stderr\n" + p.stderr)
        ok = p.returncode == 0 and "alice SCRAM_SHA_512 4096" in p.stdout
        self.results.check("cpp-client", f"{side.name}: alice's SCRAM-SHA-512 credential created", ok,
                           "" if ok else f"exit {p.returncode}: {(p.stdout + p.stderr).strip()[-400:]}")
        return ok

    # --- checks ---
    def flow(self, side, mode, props, bootstrap):
        """topic create/describe, produce, consume in a group: all must pass."""
        tag = f"{side.name} over {mode}"
        topic = f"cpp-{side.name}-{mode}-{int(time.time()) % 100000}"
        rc, out, err, _ = self.cli_run(f"{side.name}-{mode}-create", bootstrap, props,
                                       ["topic", "create", topic, "-p", "3", "-r", "1"])
        if not self.results.check("cpp-client", f"{tag}: topic create", rc == 0, err.strip()[-400:]):
            return
        rc, out, err, _ = self.cli_run(f"{side.name}-{mode}-describe", bootstrap, props, ["topic", "describe", topic])
        self.results.check("cpp-client", f"{tag}: topic describe lists 3 partitions",
                           rc == 0 and "PartitionCount: 3" in out and out.count("Partition: ") == 3,
                           f"exit {rc}: {(out + err).strip()[-400:]}")
        lines = [f"k{i % 17}:{mode}-{i}" for i in range(RECORDS)]
        rc, out, err, _ = self.cli_run(f"{side.name}-{mode}-produce", bootstrap, props,
                                       ["produce", "-t", topic, "-K", ":"], stdin="\n".join(lines) + "\n")
        if not self.results.check("cpp-client", f"{tag}: produce {RECORDS} keyed records",
                                  rc == 0 and f"produced {RECORDS} records" in err, f"exit {rc}: {err.strip()[-400:]}"):
            return
        rc, out, err, took = self.cli_run(f"{side.name}-{mode}-consume", bootstrap, props,
                                          ["consume", "-t", topic, "-g", f"{topic}-group", "--from-beginning",
                                           "-n", str(RECORDS), "-f", "%s\\n"])
        got = out.split()
        want = [ln.split(":", 1)[1] for ln in lines]
        self.results.check("cpp-client", f"{tag}: consume them back in a group",
                           rc == 0 and sorted(got) == sorted(want),
                           f"exit {rc} after {took:.0f}s, {len(got)} records, "
                           f"{len(set(want) - set(got))} missing, {len(set(got) - set(want))} unexpected; "
                           f"{err.strip()[-300:]}")

    def refused(self, side, name, bootstrap, props, args, want, stdin=None, extra=()):
        """The call must fail (exit 1) within BOUND_S with every regex of `want` on stderr."""
        import re
        rc, out, err, took = self.cli_run(f"{side.name}-{slug(name)}", bootstrap, props, args, stdin=stdin,
                                          extra=extra)
        missing = [w for w in want if not re.search(w, err)]
        ok = rc == 1 and not missing and took < BOUND_S
        first = next((ln for ln in err.splitlines() if ln.startswith("error:")), err.strip()[-300:])
        self.results.check("cpp-client", f"{side.name}: {name} is refused", ok,
                           first if ok else f"exit {rc} after {took:.1f}s, missing {missing}: {err.strip()[-500:]}")

    def reauthentication(self, side, bootstrap):
        """A consumer that runs past the broker's session lifetime keeps its connections:
        it re-authenticates on them (KIP-368) instead of being cut off (the broker closes
        a connection whose session has ended at its next request) and reconnecting."""
        topic = f"cpp-{side.name}-reauth-{int(time.time()) % 100000}"
        props = self.scram()
        rc, _, err, _ = self.cli_run(f"{side.name}-reauth-create", bootstrap, props, ["topic", "create", topic])
        rc2, _, err2, _ = self.cli_run(f"{side.name}-reauth-produce", bootstrap, props, ["produce", "-t", topic],
                                       stdin="\n".join(str(i) for i in range(200)) + "\n")
        name = (f"{side.name}: a consumer outlives the {side.reauth_ms} ms SASL session on the same "
                "connections (re-authenticated, never reconnected)")
        if rc != 0 or rc2 != 0:
            self.results.check("cpp-client", name, False, f"setup: {err.strip()[-200:]} {err2.strip()[-200:]}")
            return
        self.runs += 1
        conf = write_properties(os.path.join(self.dir, f"{self.runs:03d}-{side.name}-reauth.properties"), props)
        # 200 records at 25 a second: about 8 s, past two session ends.
        argv = [self.cli, "--command-config", conf, "-b", bootstrap, "consume", "-t", topic, "-g", f"{topic}-g",
                "--from-beginning", "-n", "200", "--max-rate", "25", "-q"]
        log_path = os.path.join(self.dir, f"{self.runs:03d}-{side.name}-reauth.log")
        port = bootstrap.rsplit(":", 1)[1]
        samples = []  # (seconds since start, set of the consumer's local ports to the SASL port)
        t0 = time.time()
        with open(log_path, "w") as out:
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
            try:
                while p.poll() is None and time.time() - t0 < 60:
                    ss = subprocess.run(["ss", "-tnpH", "state", "established", f"( dport = :{port} )"],
                                        capture_output=True, text=True, timeout=10).stdout
                    ports = {ln.split()[2].rsplit(":", 1)[1] for ln in ss.splitlines()
                             if f"pid={p.pid}," in ln and len(ln.split()) > 3}
                    samples.append((time.time() - t0, frozenset(ports)))
                    time.sleep(0.25)
            finally:
                if p.poll() is None:
                    p.kill()
                rc = p.wait()
            out.write(f"\nexit {rc}; samples {[(round(t, 1), sorted(s)) for t, s in samples]}\n")
        took = time.time() - t0
        seen = set().union(*[s for _, s in samples]) if samples else set()
        settled = [s for t, s in samples if t >= 1.5 and s]
        late = [t for t, s in samples if t * 1000 > side.reauth_ms * 1.5 and s]
        ok = rc == 0 and took * 1000 > side.reauth_ms * 2 and settled and late and len(seen) == len(settled[0])
        self.results.check("cpp-client", name, ok,
                           f"exit {rc} after {took:.1f}s; local ports over the run {sorted(seen)}, "
                           f"after 1.5 s {sorted(settled[0]) if settled else []} (see {log_path})")

    def side_checks(self, side):
        sasl_bs = f"127.0.0.1:{side.port('SASL_SSL')}"
        ssl_bs = f"127.0.0.1:{side.port('SSL')}"
        scram_ok = self.scram_user(side)
        if scram_ok:
            self.flow(side, "sasl_ssl-scram512", self.scram(), sasl_bs)
        self.flow(side, "mtls", self.mtls(), ssl_bs)
        wrong = self.scram(password="not-the-password")
        auth = [r"SASL_AUTHENTICATION_FAILED \(58\)", r"refused: \S+"]
        # The other mechanisms, and the settings' other spellings: PLAIN (JAAS users of the
        # listener) by librdkafka's sasl.username/sasl.password; SCRAM-SHA-256 by -X over the file.
        plain = {"security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN", "sasl.username": "alice",
                 "sasl.password": "alice-secret", "ssl.truststore.location": self.certs.path("ca.pem")}
        for what, props, extra, needs_scram in (
                ("PLAIN (sasl.username/sasl.password)", plain, (), False),
                ("SCRAM-SHA-256 (-X sasl.mechanism over the file)", self.scram(), ("-X", "sasl.mechanism=SCRAM-SHA-256"),
                 True)):
            if needs_scram and not scram_ok:
                continue
            rc, out, err, _ = self.cli_run(f"{side.name}-{slug(what)}", sasl_bs, props, ["topic", "list"], extra=extra)
            self.results.check("cpp-client", f"{side.name}: authenticates with {what}", rc == 0,
                               f"exit {rc}: {err.strip()[-400:]}")
        if scram_ok and side.reauth_ms:
            self.reauthentication(side, sasl_bs)
        self.refused(side, "a wrong password (topic list)", sasl_bs, wrong, ["topic", "list"], auth)
        self.refused(side, "a wrong password (produce, at once)", sasl_bs, wrong,
                     ["produce", "-t", "cpp-never"], auth + [r"produce to 'cpp-never'"], stdin="x\n")
        self.refused(side, "a wrong password (consume in a group, at once)", sasl_bs, wrong,
                     ["consume", "-t", "cpp-never", "-g", "cpp-never-group"], auth + [r"consume from 'cpp-never'"])
        self.refused(side, "an untrusted server certificate", sasl_bs, self.scram(ca="rogueca.pem"),
                     ["topic", "list"], [r"SSL_AUTHENTICATION_FAILED", r"certificate verify failed"])
        self.refused(side, "an mTLS client certificate of an untrusted CA", ssl_bs, self.mtls("rogue"),
                     ["topic", "list"], [r"SSL_AUTHENTICATION_FAILED", r"alert"])
        mismatch = f"127.1:{side.port('SSL')}"
        self.refused(side, "a hostname mismatch (127.1: not a name in the certificate)", mismatch, self.mtls(),
                     ["topic", "list"], [r"SSL_AUTHENTICATION_FAILED", r"mismatch",
                                         r"ssl\.endpoint\.identification\.algorithm"])
        rc, out, err, _ = self.cli_run(f"{side.name}-mismatch-identification-off", mismatch, self.mtls(),
                                       ["topic", "list"], extra=["-X", "ssl.endpoint.identification.algorithm="])
        self.results.check("cpp-client", f"{side.name}: the same with ssl.endpoint.identification.algorithm= "
                           "(-X) is let in", rc == 0, f"exit {rc}: {err.strip()[-400:]}")

    def run(self):
        if not os.access(self.cli, os.X_OK):
            self.results.add("cpp-client", "the millrace CLI", "FAIL", f"{self.cli} is not built")
            return
        from secure_brokers import SecureKafka, SecureMillrace
        suite_broker = self.suite.broker
        other = (SecureMillrace if self.suite.args.against == "kafka" else SecureKafka)(self.dir, self.certs)
        # The broker started here ends SASL sessions (KIP-368): every check against it
        # runs with re-authentication, and one waits for it on purpose.
        if isinstance(other, SecureKafka):
            other.sets["connections.max.reauth.ms"] = str(REAUTH_MS)
        else:
            other.extra += ["--set", f"connections.max.reauth.ms={REAUTH_MS}"]
        t0 = time.time()
        self.log(f"cpp-client: starting {other.name} beside the suite's {suite_broker.name}")
        other.start()
        try:
            sides = sorted([Side(suite_broker.name, suite_broker), Side(other.name, other, REAUTH_MS)],
                           key=lambda s: s.name)
            for side in sides:
                self.side_checks(side)
                why = side.broker.dead()
                self.results.check("cpp-client", f"{side.name} still running", why is None, why or "")
        finally:
            try:
                other.stop()
            except Exception as e:  # noqa: BLE001 - report, then go on
                self.results.add("cpp-client", f"{other.name} stops cleanly", "FAIL", str(e))
        self.log(f"cpp-client: {self.runs} CLI runs in {time.time() - t0:.0f}s")


def suite_src():
    return os.environ.get("MILLRACE_SOURCE") or os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))


def slug(text):
    import re
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def _text(b):
    if b is None:
        return ""
    return b.decode(errors="replace") if isinstance(b, bytes) else b


def run(suite, log, java_classes):
    CppClient(suite, log, java_classes).run()
