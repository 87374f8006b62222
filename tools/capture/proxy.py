"""A TCP proxy in front of a Kafka broker that records every request frame.

Each frame a client sends is written, without its 4-byte size prefix, to
    <out_dir>/<seq>-<ApiName>-v<version>.bin
where seq counts frames across all connections of the current capture (3 digits).
With max_versions (api key -> highest version) the proxy lowers the max_version
entries of ApiVersions responses, so clients negotiate what Millrace serves.
The broker must advertise the proxy's address (advertised.listeners) so that a
client's later connections come through the proxy too. Responses pass unchanged.
"""
import asyncio
import os
import struct
import threading

from kafka_frames import FrameError, api_name, clamp_api_versions, parse_header


class CaptureProxy:
    """Runs an asyncio proxy on its own thread; set_out_dir() switches capture dirs."""

    def __init__(self, listen_port: int, upstream_port: int, host: str = "127.0.0.1",
                 max_versions=None):
        self.listen_port, self.upstream_port, self.host = listen_port, upstream_port, host
        self.max_versions = max_versions
        self._lock = threading.Lock()
        self._out_dir = None
        self._seq = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.errors = []

    def set_out_dir(self, out_dir):
        with self._lock:
            self._out_dir, self._seq = out_dir, 0
            if out_dir:
                os.makedirs(out_dir, exist_ok=True)

    def start(self):
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("capture proxy did not start")

    def stop(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _record(self, frame: bytes):
        with self._lock:
            if not self._out_dir:
                return
            try:
                api_key, version, _, _ = parse_header(frame)
                name = f"{api_name(api_key)}-v{version}"
            except FrameError as e:
                self.errors.append(str(e))
                name = "unparsed"
            self._seq += 1
            path = os.path.join(self._out_dir, f"{self._seq:03d}-{name}.bin")
            with open(path + ".tmp", "wb") as f:
                f.write(frame)
            os.replace(path + ".tmp", path)

    def _run(self):
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._client, self.host, self.listen_port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _client(self, creader, cwriter):
        try:
            ureader, uwriter = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError as e:
            self.errors.append(f"upstream connect: {e}")
            cwriter.close()
            return

        api_versions_requests = {}  # correlation id -> ApiVersions request version

        async def upstream_to_client():
            try:
                while True:
                    size_bytes = await ureader.readexactly(4)
                    frame = await ureader.readexactly(struct.unpack(">i", size_bytes)[0])
                    corr = struct.unpack_from(">i", frame, 0)[0] if len(frame) >= 4 else None
                    version = api_versions_requests.pop(corr, None)
                    if version is not None and self.max_versions:
                        try:
                            frame = clamp_api_versions(frame, version, self.max_versions)
                        except FrameError as e:
                            self.errors.append(f"ApiVersions response: {e}")
                    cwriter.write(size_bytes + frame)
                    await cwriter.drain()
            except asyncio.IncompleteReadError:
                pass
            except (ConnectionError, OSError):
                pass
            finally:
                cwriter.close()

        back = asyncio.ensure_future(upstream_to_client())
        try:
            while True:
                size_bytes = await creader.readexactly(4)
                (size,) = struct.unpack(">i", size_bytes)
                frame = await creader.readexactly(size)
                self._record(frame)
                try:
                    api_key, version, corr, _ = parse_header(frame)
                    if api_key == 18:
                        api_versions_requests[corr] = version
                except FrameError:
                    pass
                uwriter.write(size_bytes + frame)
                await uwriter.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            uwriter.close()
            await asyncio.gather(back, return_exceptions=True)
