"""Two (or more) `vitrine serve` instances on one PostgreSQL database behind a round-robin
nginx, as a large installation runs them; shared by bench/scale/run.py and bench/load/run.py.

nginx is Debian's (`nginx-light`), run as a child process in the foreground with its
configuration, pid file, logs and temporary files in the work directory, so it touches
nothing of the system's nginx. Its access log names the instance (upstream) that served
each request, which tells whether every page was served and whether resumption tokens
crossed instances.
"""

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[2]


def load_harvest_bench():
    """bench/harvest/run.py as a module (its file name clashes with this folder's run.py)."""
    spec = importlib.util.spec_from_file_location("harvest_bench", REPO / "bench" / "harvest" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hb = load_harvest_bench()
log = hb.log
DOMAIN = hb.DOMAIN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if not found:
        sys.exit("nginx is missing: apt-get install nginx-light")
    return found


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def admin_url(url: str, admin_db: str = "postgres") -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + admin_db))


def psql(url: str, sql: str, check=True) -> str:
    proc = subprocess.run(["psql", url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"psql failed ({sql[:80]}): {proc.stderr.strip()}")
    return proc.stdout.strip()


NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format vitrine '$status|$upstream_addr|$upstream_status|$request_time|$body_bytes_sent|$http_x_bench_harvest|$request_uri';
    access_log {work}/nginx-access.log vitrine;
    client_body_temp_path {work}/tmp/body;
    proxy_temp_path {work}/tmp/proxy;
    fastcgi_temp_path {work}/tmp/fastcgi;
    uwsgi_temp_path {work}/tmp/uwsgi;
    scgi_temp_path {work}/tmp/scgi;
    upstream vitrine {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://vitrine;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_buffering off;
            proxy_read_timeout 600s;
        }}
    }}
}}
"""


class Cluster:
    """`instances` × `vitrine serve` on `database`, and nginx in front of them."""

    def __init__(self, binary: Path, database: str, workdir: Path, page_size: int, instances: int = 2,
                 server_env: dict | None = None):
        self.binary, self.database, self.page_size = binary, database, page_size
        self.workdir = workdir
        self.count = instances
        self.server_env = server_env or {}
        self.procs, self.bases = [], []
        self.nginx = None
        self.url = None
        self.nginx_dir = workdir / "nginx"

    # ---------------------------------------------------------------- start / stop
    def start(self):
        for i in range(self.count):
            d = self.workdir / f"instance-{i + 1}"
            d.mkdir(parents=True, exist_ok=True)
            v = hb.Vitrine(self.binary, self.database, d, self.page_size, self.server_env)
            proc, base = v.serve()
            self.procs.append(proc)
            self.bases.append(base)
        shutil.rmtree(self.nginx_dir, ignore_errors=True)
        (self.nginx_dir / "tmp").mkdir(parents=True)
        port = free_port()
        servers = "\n".join(f"        server {urlsplit(b).netloc};" for b in self.bases)
        conf = self.nginx_dir / "nginx.conf"
        conf.write_text(NGINX_CONF.format(work=self.nginx_dir, servers=servers, port=port))
        self.nginx = subprocess.Popen(
            [nginx_binary(), "-p", str(self.nginx_dir), "-c", str(conf), "-e", str(self.nginx_dir / "nginx-error.log")],
            stdout=subprocess.DEVNULL, stderr=open(self.nginx_dir / "nginx.stderr", "wb"))
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if self.nginx.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    sys.exit(f"nginx did not start; see {self.nginx_dir}/nginx.stderr and nginx-error.log")
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port}/oai"
        log(f"nginx on 127.0.0.1:{port} -> " + ", ".join(self.bases))
        return self

    def stop(self):
        for p in ([self.nginx] if self.nginx else []) + self.procs:
            if p.poll() is None:
                p.terminate()
        for p in ([self.nginx] if self.nginx else []) + self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.nginx, self.procs = None, []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---------------------------------------------------------------- observations
    def pids(self):
        return [p.pid for p in self.procs]

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs) and self.nginx is not None and self.nginx.poll() is None

    def memory(self):
        """Per instance: VmRSS now and VmHWM (the process's peak), in MB."""
        return [{"instance": i + 1, "rss_mb": hb.proc_status(pid, "VmRSS"), "vmhwm_mb": hb.proc_status(pid, "VmHWM")}
                for i, pid in enumerate(self.pids())]

    def access_log_mark(self) -> int:
        path = self.nginx_dir / "nginx-access.log"
        return path.stat().st_size if path.exists() else 0

    def access_log(self, since: int = 0, tag: str = "", expect: int = 0, wait_s: float = 10.0):
        """Requests nginx logged since byte offset `since`: dicts with status, upstream
        (the instance's address, or several when nginx tried more than one), upstream_status,
        seconds, bytes and uri. With `tag`, only the requests that carried it in their
        `X-Bench-Harvest` header. nginx writes a line after the response has gone out, so
        with `expect` this waits (up to `wait_s`) until that many lines are there."""
        path = self.nginx_dir / "nginx-access.log"
        deadline = time.monotonic() + wait_s
        while True:
            entries = []
            with open(path, "rb") as f:
                f.seek(since)
                for raw in f:
                    line = raw.decode("utf-8", "replace").rstrip("\n")
                    status, upstream, upstream_status, seconds, nbytes, seen_tag, uri = line.split("|", 6)
                    if tag and seen_tag != tag:
                        continue
                    entries.append({"status": int(status), "upstream": upstream, "upstream_status": upstream_status,
                                    "seconds": float(seconds), "bytes": int(nbytes), "uri": uri})
            if len(entries) >= expect or time.monotonic() >= deadline:
                return entries
            time.sleep(0.05)
