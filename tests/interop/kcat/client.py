"""Interop program for kcat (librdkafka 2.0.2, Debian). kcat has no admin commands,
so `create` uses python3-confluent-kafka's AdminClient (the same librdkafka).
produce: one `kcat -P` per codec, idempotent, murmur2_random partitioner.
consume: three `kcat -G -c N` processes in one group (auto commit of what kcat
printed, final commit when -c is reached), in rounds until TARGET distinct records.
MILLRACE_CLIENT_SECURITY (JSON {protocol, mechanism, username, password, ca, cert, key},
unset: plaintext) becomes librdkafka's -X settings; `probe BOOTSTRAP` runs `kcat -L` once
and prints OK or the error kcat reported (tests/security)."""
import os
import selectors
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from group_loop import chunks, librdkafka_security as security, records  # noqa: E402

CLIENT = "kcat"


def kcat_x():
    """The security settings as kcat arguments: -X key=value ..."""
    return [a for k, v in security().items() for a in ("-X", f"{k}={v}")]


def probe(bootstrap):
    """`kcat -L` (metadata) with a 6 s timeout: OK, or REFUSED and kcat's first error lines."""
    p = subprocess.run(["kcat", "-b", bootstrap, "-L", "-m", "6"] + kcat_x(), capture_output=True,
                       text=True, timeout=30)
    if p.returncode == 0 and "Metadata for" in p.stdout:
        print("OK")
        return
    fails = [ln for ln in p.stderr.splitlines() if "|FAIL|" in ln or "ERROR" in ln]
    print("REFUSED " + (fails[0] if fails else p.stderr.strip()[-300:]))


def create(bootstrap, topic, partitions):
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": bootstrap, **security()})
    for f in a.create_topics([NewTopic(topic, int(partitions), int(os.environ.get("INTEROP_RF", "1")))]).values():
        f.result(30)


def produce(bootstrap, topic, n, codecs):
    recs = list(records(int(n), CLIENT))
    for codec, lo, hi in chunks(int(n), codecs.split(",")):
        data = "".join(f"{k}:{v}\n" for k, v in recs[lo:hi])
        p = subprocess.run(["kcat", "-b", bootstrap, "-P", "-t", topic, "-K:", "-z", codec,
                            "-X", "enable.idempotence=true", "-X", "partitioner=murmur2_random",
                            "-X", "linger.ms=5"] + kcat_x(), input=data, text=True, timeout=120,
                           capture_output=True)
        if p.returncode != 0 or "delivery failed" in p.stderr.lower() or "% error" in p.stderr.lower():
            raise SystemExit(f"kcat -P ({codec}) exited {p.returncode}: {p.stderr[-2000:]}")


def consume(bootstrap, topic, group, target, outfile, members=3, timeout=120):
    """Rounds of three `kcat -G -c COUNT` members whose counts add up to what is
    still missing. kcat is stopped by its own count, never by a signal: on SIGTERM
    kcat drops the message in hand after librdkafka stored its offset (consume_cb
    returns early once conf.run is 0), which would look like a lost record."""
    seen = set()
    deadline = time.time() + timeout
    rnd = 0
    with open(outfile, "w") as out:
        while len(seen) < target and time.time() < deadline:
            missing = target - len(seen)
            counts = [missing // members + (1 if i < missing % members else 0)
                      for i in range(members)]
            procs = [(i, subprocess.Popen(
                ["kcat", "-b", bootstrap, "-G", group, topic, "-u", "-q", "-c", str(c),
                 "-f", "%p %o %k %s\n", "-X", "auto.offset.reset=earliest",
                 "-X", "auto.commit.interval.ms=1000", "-X", "session.timeout.ms=10000"] + kcat_x(),
                stdout=subprocess.PIPE, text=True)) for i, c in enumerate(counts) if c > 0]
            sel = selectors.DefaultSelector()
            for i, p in procs:
                sel.register(p.stdout, selectors.EVENT_READ, i)
            open_streams = len(procs)
            while open_streams and time.time() < deadline:
                for key, _ in sel.select(timeout=0.5):
                    line = key.fileobj.readline()
                    if not line:
                        sel.unregister(key.fileobj)
                        open_streams -= 1
                        continue
                    p, o, k, v = line.split()
                    out.write(f"r{rnd}m{key.data} {p} {o} {k} {v}\n")
                    seen.add((int(p), int(o)))
            for _, p in procs:
                if p.poll() is None:
                    p.kill()  # only at the deadline; the suite then reports the shortfall
                p.wait()
            rnd += 1
    if len(seen) < target:
        print(f"only {len(seen)} of {target} records within {timeout}s", file=sys.stderr)
        return 3
    return 0


def main(argv):
    cmd, bootstrap = argv[0], argv[1]
    if cmd == "probe":
        probe(bootstrap)
    elif cmd == "create":
        create(bootstrap, argv[2], argv[3])
    elif cmd == "produce":
        produce(bootstrap, argv[2], argv[3], argv[4])
    elif cmd == "consume":
        return consume(bootstrap, argv[2], argv[3], int(argv[4]), argv[5])
    else:
        raise SystemExit(f"unknown command {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
