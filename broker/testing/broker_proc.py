"""Start and stop a millrace-broker for integration suites.

Each broker gets free ports (bound by the OS, then released) and a temp data
dir, so suites can run in parallel. Used by tests/broker-*/run with
/usr/bin/python3 (Debian's python3-confluent-kafka lives there).

Sanitizer builds (`make asan` runs the suites with MILLRACE_BUILD=build/asan):
the broker gets ASAN_OPTIONS/UBSAN_OPTIONS that stop it at the first report
and check leaks at exit (unless the caller set them), and stop()/kill9()
raise SanitizerReport when the broker's stderr holds a report or a SIGTERM
stop exits non-zero, so any report fails the suite.
"""
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(n):
    """N distinct ports on 127.0.0.1 that nothing listens on now. They are drawn at
    random from below the kernel's ephemeral range (ip_local_port_range), so no
    outgoing connection and no bind(port 0) elsewhere can take one between this
    check and the caller's bind: a port handed out by bind(0) and released is the
    next thing another suite's client connection may get (suites run in parallel),
    which made brokers fail with "Address already in use"."""
    low = _ephemeral_low()
    floor = 20000 if low > 21000 else 1024
    rng = random.SystemRandom()
    ports = []
    for _ in range(2000):
        if len(ports) == n:
            return ports
        p = rng.randrange(floor, low)
        if p in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                continue
        ports.append(p)
    raise RuntimeError(f"no {n} free ports in [{floor}, {low})")


def free_port():
    return free_ports(1)[0]


# halt_on_error: the first report ends the process (exit 1); detect_leaks: LeakSanitizer
# runs at exit and a leak makes the exit code non-zero. UBSan is built with
# -fno-sanitize-recover, so its reports abort too; the options add stack traces.
SANITIZER_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


def ld_preload(binary, libs):
    """The LD_PRELOAD value that puts `libs` in front of `binary`. An ASan build
    needs its runtime first in the initial library list (else it aborts: "ASan
    runtime does not come first"), so the libasan the binary links (from ldd) is
    put before them."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    first = [line.split("=>")[1].split()[0] for line in out.splitlines()
             if "libasan.so" in line and "=>" in line]
    return ":".join(first + [os.path.abspath(lib) for lib in libs])


class SanitizerReport(RuntimeError):
    pass


def sanitizer_report_in(log_path, start=0, limit=6000):
    """The first sanitizer report in log_path after byte `start` (from the start of
    its line, at most `limit` characters), or '' when there is none."""
    try:
        with open(log_path, errors="replace") as f:
            f.seek(start)
            text = f.read()
    except OSError:
        return ""
    hits = [i for i in (text.find(m) for m in SANITIZER_MARKERS) if i >= 0]
    if not hits:
        return ""
    begin = text.rfind("\n", 0, min(hits)) + 1
    return text[begin:begin + limit]


def broker_binary():
    build = os.environ.get("MILLRACE_BUILD", "build/release")
    path = os.path.join(build, "broker", "millrace-broker")
    if not os.path.exists(path):
        sys.exit(f"broker binary not found at {path} (set MILLRACE_BUILD)")
    return path


class Broker:
    # env: variables added to the broker's environment; preload: shared
    # libraries to LD_PRELOAD (ld_preload). Both may be changed between starts.
    def __init__(self, data_dir=None, extra=None, name="broker", env=None, preload=None):
        self.port = free_port()
        self.admin_port = free_port()
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="millrace-test-")
        self.extra = dict(extra or {})
        self.env = dict(env or {})
        self.preload = list(preload or [])
        self.name = name
        self.prefix = []  # e.g. ["ip", "netns", "exec", ns]: where the process runs
        self.listeners = None  # the PLAINTEXT listener when not 127.0.0.1:<port>
        self.proc = None
        self.log_path = os.path.join(self.data_dir, "..", os.path.basename(self.data_dir) + f".{name}.log")
        self.lines = []

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def config_args(self):
        args = ["--set", f"listeners={self.listeners or f'PLAINTEXT://127.0.0.1:{self.port}'}",
                "--set", f"admin.listeners=http://127.0.0.1:{self.admin_port}",
                "--set", f"log.dirs={self.data_dir}",
                "--set", "num.network.threads=2"]
        for k, v in self.extra.items():
            args += ["--set", f"{k}={v}"]
        return args

    def format(self, *flags):
        """`millrace-broker format` with this broker's configuration (a dynamic
        quorum's controller): (exit code, output)."""
        r = subprocess.run([broker_binary()] + self.config_args() + ["format", *flags], capture_output=True,
                           text=True, timeout=60)
        return r.returncode, (r.stdout + r.stderr).strip()

    def start(self, timeout=60):
        binary = broker_binary()
        args = self.prefix + [binary] + self.config_args()
        wrapper = os.environ.get("MILLRACE_BROKER_WRAPPER")  # e.g. "gdb -batch -ex run -ex bt --args"
        if wrapper:
            args = wrapper.split() + args
        log = open(self.log_path, "a")
        self.log_start = log.tell()
        env = dict(os.environ)
        for k, v in SANITIZER_ENV.items():
            env.setdefault(k, v)
        env.update(self.env)
        if self.preload:
            env["LD_PRELOAD"] = ld_preload(binary, self.preload)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        ready = threading.Event()

        def pump():
            for line in self.proc.stdout:
                self.lines.append(line)
                if "millrace-broker ready" in line:
                    ready.set()
        threading.Thread(target=pump, daemon=True).start()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if ready.wait(0.1):
                return self
            if self.proc.poll() is not None:
                break
        self.dump_log()
        raise RuntimeError(f"{self.name} did not become ready (exit {self.proc.poll()})")

    def ready_http(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/readyz", timeout=2) as r:
                return r.status == 200
        except Exception:
            return False

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=5) as r:
            return r.read().decode()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"{self.name} did not stop within {timeout}s after signal {sig}")
            if sig == signal.SIGTERM and self.proc.returncode != 0:
                self.check_sanitizers()
                raise SanitizerReport(f"{self.name} exited {self.proc.returncode} after SIGTERM "
                                      f"(a sanitizer report or a failed shutdown; see {self.log_path})")
        self.check_sanitizers()
        return self.proc.returncode

    def sanitizer_report(self):
        """The sanitizer report this run of the broker wrote to stderr, or ''."""
        return sanitizer_report_in(self.log_path, getattr(self, "log_start", 0))

    def check_sanitizers(self):
        report = self.sanitizer_report()
        if report:
            sys.stderr.write(f"--- sanitizer report from {self.name}\n{report}\n")
            raise SanitizerReport(f"{self.name}: sanitizer report in {self.log_path}")

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def dump_log(self, tail=60):
        sys.stderr.write(f"--- last {tail} lines of {self.name}'s stdout\n")
        sys.stderr.writelines(self.lines[-tail:])
        try:
            with open(self.log_path) as f:
                lines = f.readlines()
            sys.stderr.write(f"--- last {tail} lines of {self.log_path}\n")
            sys.stderr.writelines(lines[-tail:])
        except OSError:
            pass
