"""One broker with PLAINTEXT, SSL (client certificate required) and SASL_SSL (PLAIN,
SCRAM-SHA-256, SCRAM-SHA-512) listeners, all on 127.0.0.1 and free ports: Millrace
(SecureMillrace, by Kafka's keys through --set) or Apache Kafka 4.1.1 (SecureKafka,
through tests/peers/kafka). Both expose .ports {"PLAINTEXT", "SSL", "SASL_SSL"},
.bootstrap_of(protocol) and .metrics() (Millrace's counters; {} for Kafka).

PLAIN users (JAAS): admin/admin-secret, alice/alice-secret. SSL principals come from the
certificate's CN (RULE:^CN=(.*?),.*$/$1/).
"""
import os
import subprocess
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("MILLRACE_SOURCE") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "interop"))
from brokers import PEERS, KafkaBroker, MillraceBroker, free_ports  # noqa: E402

PLAIN_JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
              'username="admin" password="admin-secret" user_admin="admin-secret" '
              'user_alice="alice-secret";')
PRINCIPAL_RULES = "RULE:^CN=(.*?),.*$/$1/,DEFAULT"
MECHANISMS = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"
METRICS = ("millrace_tls_handshake_failures_total", "millrace_sasl_authentication_failures_total")


class SecureMillrace(MillraceBroker):
    def __init__(self, workdir, certs):
        super().__init__(workdir)
        ssl, sasl = free_ports(2)
        self.ports = {"PLAINTEXT": self.port, "SSL": ssl, "SASL_SSL": sasl}
        sets = {
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},SSL://127.0.0.1:{ssl},"
                         f"SASL_SSL://127.0.0.1:{sasl}",
            "group.initial.rebalance.delay.ms": "0",
            "ssl.keystore.location": certs.path("broker.pem"),
            "ssl.truststore.location": certs.path("ca.pem"),
            "listener.name.ssl.ssl.client.auth": "required",
            "listener.name.ssl.ssl.principal.mapping.rules": PRINCIPAL_RULES,
            "listener.name.sasl_ssl.sasl.enabled.mechanisms": MECHANISMS,
            "listener.name.sasl_ssl.plain.sasl.jaas.config": PLAIN_JAAS,
        }
        # After MillraceBroker's own --set listeners=PLAINTEXT://...: the last one wins.
        self.extra = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]

    def bootstrap_of(self, protocol):
        return f"127.0.0.1:{self.ports[protocol]}"

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] in METRICS:
                out[parts[0]] = float(parts[1])
        return out


class SecureKafka(KafkaBroker):
    """Kafka reads a PKCS#12 keystore (a PEM keystore file needs an encrypted key) and
    the CA as a PEM truststore."""

    def __init__(self, workdir, certs):
        super().__init__(workdir)
        plain, ssl, sasl, ctl = free_ports(4)
        self.ports = {"PLAINTEXT": plain, "SSL": ssl, "SASL_SSL": sasl}
        self.ctl_port = ctl
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        # peers/kafka writes listeners=PLAINTEXT://...,CONTROLLER://... first; a second
        # listeners line (not starting with PLAINTEXT, which peers/kafka reads its port
        # from) overrides it when Java loads the properties.
        self.sets = {
            "listeners": f"SSL://127.0.0.1:{ssl},SASL_SSL://127.0.0.1:{sasl},"
                         f"PLAINTEXT://127.0.0.1:{plain},CONTROLLER://127.0.0.1:{ctl}",
            "advertised.listeners": f"SSL://127.0.0.1:{ssl},SASL_SSL://127.0.0.1:{sasl},"
                                    f"PLAINTEXT://127.0.0.1:{plain}",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,"
                                              "SASL_SSL:SASL_SSL",
            "ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": certs.path("broker.p12"),
            "ssl.keystore.password": "changeit",
            "ssl.key.password": "changeit",
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": certs.path("ca.pem"),
            "listener.name.ssl.ssl.client.auth": "required",
            "listener.name.ssl.ssl.principal.mapping.rules": PRINCIPAL_RULES,
            "listener.name.sasl_ssl.sasl.enabled.mechanisms": MECHANISMS,
            "listener.name.sasl_ssl.plain.sasl.jaas.config": PLAIN_JAAS,
            "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": scram,
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scram,
        }

    def start(self):
        argv = [os.path.join(PEERS, "kafka"), "start", "--dir", self.dir,
                "--port", str(self.ports["PLAINTEXT"]), "--controller-port", str(self.ctl_port)]
        for k, v in self.sets.items():
            argv += ["--set", f"{k}={v}"]
        run = subprocess.run(argv, capture_output=True, text=True, timeout=240)
        if run.returncode != 0:
            raise RuntimeError(f"kafka did not start (exit {run.returncode}): {run.stderr.strip()}\n"
                               f"log tail:\n{self.log_tail(15)}")
        self.port = int(run.stdout.split()[1])

    def bootstrap_of(self, protocol):
        return f"127.0.0.1:{self.ports[protocol]}"

    def metrics(self):
        return {}
