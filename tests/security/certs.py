"""Test certificates, made with the openssl CLI (OpenSSL 3.0) in a temp dir.

Certs(dir).make() writes, all EC P-256 with PKCS#8 keys ("BEGIN PRIVATE KEY"):
  ca.pem / ca.key            the test CA (trusted by broker and clients)
  broker.pem                 broker key + certificate + CA (Millrace's keystore file),
                             SAN IP:127.0.0.1, DNS:localhost; broker.crt / broker.key apart;
                             broker.p12 (password "changeit") for Apache Kafka
  alice.crt / alice.key      client certificate CN=alice, signed by the CA
  expired.crt / expired.key  CN=expired, signed by the CA, valid 2020-01-01 .. 2020-01-02
                             (`openssl ca -startdate/-enddate`: x509/req refuse -days <= 0)
  rogue.crt / rogue.key      CN=mallory, signed by a second CA nobody trusts
reissue_broker() signs a new broker certificate (a new serial) for the rotation check.
"""
import os
import subprocess


def _ossl(*args, cwd):
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


class Certs:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.serial = 0x1000

    def path(self, name):
        return os.path.join(self.dir, name)

    def _key(self, name):
        _ossl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-out", f"{name}.key", cwd=self.dir)

    def _ca(self, name, cn):
        self._key(name)
        _ossl("req", "-x509", "-new", "-key", f"{name}.key", "-subj", f"/CN={cn}", "-days", "3",
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", f"{name}.pem", cwd=self.dir)

    def _sign(self, name, cn, ext, ca="ca"):
        """Key + certificate for cn, signed by ca with a fresh serial."""
        self._key(name)
        _ossl("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={cn}/O=Millrace tests",
              "-out", f"{name}.csr", cwd=self.dir)
        with open(self.path(f"{name}.ext"), "w") as f:
            f.write(ext)
        self.serial += 1
        _ossl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
              "-set_serial", str(self.serial), "-days", "2", "-extfile", f"{name}.ext",
              "-out", f"{name}.crt", cwd=self.dir)
        return self.serial

    def _broker(self, name):
        serial = self._sign(name, "localhost",
                            "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                            "keyUsage=critical,digitalSignature\n"
                            "extendedKeyUsage=serverAuth,clientAuth\n")
        with open(self.path(f"{name}.key")) as k, open(self.path(f"{name}.crt")) as c, \
                open(self.path("ca.pem")) as ca:
            pem = k.read() + c.read() + ca.read()
        return serial, pem

    def make(self):
        self._ca("ca", "Millrace Test CA")
        self._ca("rogueca", "Untrusted Test CA")
        self.broker_serial, pem = self._broker("broker")
        with open(self.path("broker.pem"), "w") as f:
            f.write(pem)
        _ossl("pkcs12", "-export", "-in", "broker.crt", "-inkey", "broker.key", "-certfile", "ca.pem",
              "-name", "broker", "-passout", "pass:changeit", "-out", "broker.p12", cwd=self.dir)
        client_ext = "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
        self._sign("alice", "alice", client_ext)
        self._sign("rogue", "mallory", client_ext, ca="rogueca")
        self._expired(client_ext)
        return self

    def _expired(self, ext):
        """CN=expired, valid only on 2020-01-01, through `openssl ca` (which takes dates)."""
        db = self.path("cadb")
        os.makedirs(db, exist_ok=True)
        open(os.path.join(db, "index.txt"), "w").close()
        with open(os.path.join(db, "serial"), "w") as f:
            f.write("7E0001\n")
        with open(self.path("ca.cnf"), "w") as f:
            f.write(f"""[ca]
default_ca = test
[test]
database = {db}/index.txt
serial = {db}/serial
new_certs_dir = {db}
certificate = {self.path('ca.pem')}
private_key = {self.path('ca.key')}
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
organizationName = optional
[ext]
{ext}""")
        self._key("expired")
        _ossl("req", "-new", "-key", "expired.key", "-subj", "/CN=expired/O=Millrace tests",
              "-out", "expired.csr", cwd=self.dir)
        _ossl("ca", "-batch", "-config", "ca.cnf", "-in", "expired.csr", "-out", "expired.crt",
              "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", "-extensions", "ext",
              "-notext", cwd=self.dir)

    def reissue_broker(self):
        """A new broker certificate (new key, new serial) written as broker-next.pem;
        returns (serial, pem text). The caller swaps it into broker.pem."""
        serial, pem = self._broker("broker-next")
        return serial, pem


def serial_of(pem_text):
    """The serial of the first certificate in pem_text, as an int."""
    p = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem_text, capture_output=True,
                       text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f"openssl x509 -serial: {p.stderr.strip()}")
    return int(p.stdout.strip().split("=", 1)[1], 16)


if __name__ == "__main__":
    import sys
    c = Certs(sys.argv[1]).make()
    print(f"certificates in {c.dir}, broker serial {c.broker_serial}")
