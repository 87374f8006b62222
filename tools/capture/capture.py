#!/usr/bin/env python3
"""Capture golden request frames from real Kafka clients.

Starts a real Apache Kafka broker (tests/peers/kafka) that advertises this tool's
proxy, runs each client's scenario (scenarios/) through the proxy, then keeps the
first frame of each (api, version) and of each (Produce version, codec set) and
writes them to <out>/<client>/<seq>-<ApiName>-v<version>.bin (header + body, no
size prefix). Frames over --max-bytes are skipped. By default the proxy clamps
the broker's ApiVersions answer to the versions Millrace serves (--versions brief),
so the fixtures hold what clients will send to Millrace.

Usage: capture.py [--clients kcat,kafka-python,kafkajs,java] [--out DIR] [--keep-raw DIR]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from kafka_frames import BRIEF_MAX, FrameError, parse_header, produce_codecs  # noqa: E402
from proxy import CaptureProxy  # noqa: E402

PEERS = os.path.join(SRC, "tests", "peers")
CACHE = os.environ.get("MILLRACE_CACHE", os.path.expanduser("~/.cache/millrace"))
SCEN = os.path.join(HERE, "scenarios")


def scenario(client, bootstrap, topic):
    """The command line that runs one client's scenario."""
    if client == "kcat":
        return ["bash", os.path.join(SCEN, "kcat.sh"), bootstrap, topic], {}
    if client == "kafka-python":
        return ["/usr/bin/python3", os.path.join(SCEN, "kafka_python.py"), bootstrap, topic], {}
    if client == "kafkajs":
        subprocess.run([os.path.join(PEERS, "fetch"), "kafkajs"], check=True)
        env = {"NODE_PATH": os.path.join(CACHE, "npm", "node_modules")}
        return ["node", os.path.join(SCEN, "kafkajs.js"), bootstrap, topic], env
    if client == "java":
        cp = subprocess.run([os.path.join(PEERS, "kafka"), "classpath"], check=True,
                            capture_output=True, text=True).stdout.strip()
        return ["java", "-cp", cp, os.path.join(SCEN, "Java.java"), bootstrap, topic], {}
    raise SystemExit(f"unknown client {client}")


def select(raw_dir, out_dir, max_bytes):
    """Copy the first frame of each distinct (api, version[, codecs]) to out_dir."""
    seen = {}
    kept = 0
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    for name in sorted(os.listdir(raw_dir)):
        with open(os.path.join(raw_dir, name), "rb") as f:
            frame = f.read()
        if len(frame) > max_bytes:
            continue
        try:
            api_key, version, _, _ = parse_header(frame)
            codecs = tuple(produce_codecs(frame)) if api_key == 0 else ()
        except FrameError as e:
            print(f"capture: skipping {name}: {e}", file=sys.stderr)
            continue
        key = (api_key, version, codecs)
        if key in seen:
            continue
        seen[key] = name
        shutil.copyfile(os.path.join(raw_dir, name), os.path.join(out_dir, name))
        kept += 1
    return kept


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", default="kcat,kafka-python,kafkajs,java")
    ap.add_argument("--out", default=os.path.join(SRC, "protocol", "testdata", "golden"))
    ap.add_argument("--keep-raw", help="also keep every raw frame in this directory")
    ap.add_argument("--max-bytes", type=int, default=64 * 1024)
    ap.add_argument("--versions", choices=["brief", "broker"], default="brief",
                    help="brief: clamp advertised versions to the BRIEF table (what Millrace "
                         "serves); broker: let clients use whatever Apache Kafka offers")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="millrace-capture-")
    raw_root = args.keep_raw or os.path.join(work, "raw")
    ports = subprocess.run([os.path.join(PEERS, "free-port"), "3"], check=True,
                           capture_output=True, text=True).stdout.split()
    proxy_port, kafka_port, ctrl_port = (int(p) for p in ports)
    kdir = os.path.join(work, "kafka")
    subprocess.run([os.path.join(PEERS, "kafka"), "start", "--dir", kdir, "--port", str(kafka_port),
                    "--controller-port", str(ctrl_port), "--advertised", f"127.0.0.1:{proxy_port}",
                    "--set", "auto.create.topics.enable=false"], check=True, stdout=subprocess.DEVNULL)
    proxy = CaptureProxy(proxy_port, kafka_port,
                         max_versions=BRIEF_MAX if args.versions == "brief" else None)
    proxy.start()
    failed = []
    try:
        for client in args.clients.split(","):
            raw = os.path.join(raw_root, client)
            if os.path.isdir(raw):
                shutil.rmtree(raw)
            proxy.set_out_dir(raw)
            cmd, env = scenario(client, f"127.0.0.1:{proxy_port}", f"golden-{client}")
            t0 = time.time()
            rc = subprocess.run(cmd, env={**os.environ, **env}).returncode
            time.sleep(0.5)  # let the last frames (LeaveGroup, commits) land
            proxy.set_out_dir(None)
            if rc != 0:
                failed.append(client)
                print(f"capture: {client} scenario failed (exit {rc}); not updating its fixtures",
                      file=sys.stderr)
                continue
            kept = select(raw, os.path.join(args.out, client), args.max_bytes)
            print(f"capture: {client}: {len(os.listdir(raw))} frames, kept {kept} "
                  f"({time.time() - t0:.1f}s)", file=sys.stderr)
    finally:
        proxy.stop()
        subprocess.run([os.path.join(PEERS, "kafka"), "stop", "--dir", kdir])
        if not args.keep_raw:
            shutil.rmtree(work, ignore_errors=True)
    for e in proxy.errors:
        print(f"capture: proxy: {e}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
