"""The machine's physical limits, measured in the same run as the brokers.

fio: sequential 1 MiB writes to a file in the bench data dir (same disk as the
brokers), once buffered (what a broker without fsync gets) and once with fdatasync
after every write (the cost of durable appends). iperf3: one TCP stream over
loopback (what a consumer on the same machine can at best receive).
Results in MB/s (10^6 bytes per second).
"""
import json
import subprocess
import time
from pathlib import Path

from brokers import free_ports


def fio_write(directory, seconds, fdatasync):
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "fio.dat"
    args = ["fio", "--name=seqwrite", f"--filename={target}", "--rw=write", "--bs=1M",
            "--size=4G", "--ioengine=psync", "--time_based", f"--runtime={seconds}",
            "--end_fsync=1", "--output-format=json"]
    if fdatasync:
        args.append("--fdatasync=1")
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    target.unlink(missing_ok=True)
    job = json.loads(out[out.index("{"):])["jobs"][0]["write"]
    return job["bw_bytes"] / 1e6


def iperf3_loopback(seconds):
    (port,) = free_ports(1)
    server = subprocess.Popen(["iperf3", "-s", "-1", "-p", str(port), "-B", "127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            r = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J"],
                               capture_output=True, text=True)
            try:   # before the server listens, iperf3 may print an error object and exit 0
                return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 8 / 1e6
            except (ValueError, KeyError):
                time.sleep(0.1)
        raise RuntimeError(f"iperf3 failed: {r.stderr or r.stdout}")
    finally:
        server.kill()
        server.wait()


def measure(directory, seconds, progress, out):
    """Fills `out` as it goes, so one failing tool keeps the others' numbers."""
    progress("limits: fio sequential write, buffered")
    out["fio_seq_write_buffered_MBps"] = round(fio_write(directory, seconds, fdatasync=False), 1)
    progress("limits: fio sequential write, fdatasync per 1 MiB write")
    out["fio_seq_write_fdatasync_MBps"] = round(fio_write(directory, seconds, fdatasync=True), 1)
    progress("limits: iperf3 over loopback")
    out["iperf3_loopback_MBps"] = round(iperf3_loopback(seconds), 1)
