"""A peer for tests/netns, run inside a namespace.
  serve ADDR          TCP on ADDR:7000 answers "up <udp datagrams received on ADDR:7001>"
  ask ADDR TIMEOUT    prints the answer of ADDR's server, exit 1 if it cannot be reached in time
  udp ADDR COUNT      sends COUNT datagrams to ADDR:7001"""
import socket
import sys
import threading

mode = sys.argv[1]
if mode == "serve":
    addr = sys.argv[2]
    received = [0]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((addr, 7001))

    def count():
        while True:
            u.recv(64)
            received[0] += 1
    threading.Thread(target=count, daemon=True).start()
    t = socket.socket()
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, 7000))
    t.listen(16)
    print("listening", flush=True)
    while True:
        c, _ = t.accept()
        c.sendall(f"up {received[0]}\n".encode())
        c.close()
elif mode == "ask":
    try:
        s = socket.create_connection((sys.argv[2], 7000), timeout=float(sys.argv[3]))
        print(s.recv(64).decode().strip())
    except OSError as e:
        print(f"unreachable: {e}")
        sys.exit(1)
elif mode == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(int(sys.argv[3])):
        try:
            s.sendto(b"x", (sys.argv[2], 7001))
        except OSError:
            pass
