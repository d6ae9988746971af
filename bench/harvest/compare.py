#!/usr/bin/env python3
"""Harvest comparison: vitrine side by side with references, in one command.

(a) a full `mets` ListRecords harvest from vitrine vs nginx serving the very same response
    bytes as static files (the wire's speed for those bytes);
(b) the same vitrine harvest with `Accept-Encoding: gzip` vs without;
(c) a full `oai_dc` harvest from vitrine vs a small provider on the `oai-pmh` crate
    (bench/harvest/oai-pmh-rs) holding the same records' Dublin Core in memory;
(d) the server's peak memory (VmHWM) with 32 clients mixing GetRecord and ListRecords.

Every pair is harvested by the same client (run.py's: `requests`, one keep-alive
connection, following resumption tokens) in the same page order, alternately A B A B, and
the ratio is taken pair by pair; the median is printed. See bench/harvest/README.md.
"""

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (the harvest client, vitrine runner and /proc readers)

REPO = run.REPO
TARGETS = {
    "nginx": 0.5,       # vitrine mets / nginx static, records/s
    "gzip": 0.8,        # vitrine mets gzip / identity, records/s
    "oai_pmh_rs": 1.0,  # vitrine oai_dc / oai-pmh-rs provider, records/s
    "memory_mb": 100.0,  # VmHWM with 32 mixed clients, at most
}
RECORD_SPLIT = re.compile(rb"<record>(.*?)</record>", re.S)
IDENT = re.compile(rb"<identifier>([^<]*)</identifier>")
DATESTAMP = re.compile(rb"<datestamp>([^<]*)</datestamp>")
SETSPEC = re.compile(rb"<setSpec>([^<]*)</setSpec>")
METADATA = re.compile(rb"<metadata>(.*)</metadata>", re.S)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port() -> int:
    """A port for nginx, which cannot report a port chosen by the kernel."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, proc, what):
    for _ in range(200):
        if proc.poll() is not None:
            sys.exit(f"{what} exited {proc.returncode} before answering")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    sys.exit(f"{what} did not answer at {url}")


def save_pages(url, verb, prefix, folder: Path):
    """A full harvest whose response bodies go to FOLDER; returns [(token asked, file)]."""
    folder.mkdir(parents=True, exist_ok=True)
    http = requests.Session()
    http.headers["Accept-Encoding"] = "identity"
    params, token, pages = {"verb": verb, "metadataPrefix": prefix}, "", []
    while True:
        body = run.fetch(http, url, params)
        name = f"{len(pages):05d}.xml"
        (folder / name).write_bytes(body)
        pages.append((token, name))
        m = run.TOKEN.search(body, max(0, len(body) - 4096))
        token = ((m.group(2) or b"").strip() if m else b"").decode()
        if not token:
            break
        params = {"verb": verb, "resumptionToken": token}
    http.close()
    return pages


class Nginx:
    """nginx serving saved pages at /oai: the resumptionToken argument picks the file."""

    def __init__(self, workdir: Path, pages_dir: Path, pages):
        self.dir = workdir / "nginx"
        self.dir.mkdir(exist_ok=True)
        self.port = free_port()
        entries = "\n".join(f'    "{token}" /{name};' for token, name in pages)
        longest = max(len(t) for t, _ in pages) + 64
        bucket = 1 << max(6, (longest - 1).bit_length())
        (self.dir / "nginx.conf").write_text(f"""
daemon off;
user root;
worker_processes auto;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  keepalive_timeout 300s;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fastcgi;
  uwsgi_temp_path {self.dir}/uwsgi;
  scgi_temp_path {self.dir}/scgi;
  types {{ }}
  default_type "text/xml; charset=UTF-8";
  map_hash_bucket_size {bucket};
  map_hash_max_size {max(1024, 2 * len(pages))};
  map $arg_resumptionToken $page {{
    default /missing;
{entries}
  }}
  server {{
    listen 127.0.0.1:{self.port};
    root {pages_dir};
    location = /oai {{ try_files $page =404; }}
  }}
}}
""")
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([binary, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=open(self.dir / "stderr.log", "wb"))
        self.url = f"http://127.0.0.1:{self.port}/oai"
        wait_for(self.url, self.proc, "nginx")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(15)


def export_dc(pages_dir: Path, pages, out: Path):
    """The records of a saved oai_dc harvest as JSON for the oai-pmh-rs provider."""
    records = []
    for _, name in pages:
        for m in RECORD_SPLIT.finditer((pages_dir / name).read_bytes()):
            rec = m.group(1)
            meta = METADATA.search(rec)
            records.append({
                "identifier": IDENT.search(rec).group(1).decode(),
                "datestamp": DATESTAMP.search(rec).group(1).decode(),
                "sets": [s.decode() for s in SETSPEC.findall(rec)],
                "metadata": meta.group(1).decode() if meta else "",
            })
    out.write_text(json.dumps(records))
    return len(records)


def build_reference() -> Path:
    manifest = Path(__file__).resolve().parent / "oai-pmh-rs" / "Cargo.toml"
    log("building the oai-pmh-rs provider (cargo build --release)")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--manifest-path", str(manifest)], check=True)
    return manifest.parent / "target" / "release" / "oai-pmh-rs-provider"


def paired(label, a, b, rounds):
    """Harvests with a() and b() alternately; the ratio of records/s pair by pair."""
    ratios, ra, rb = [], [], []
    for i in range(rounds):
        x = a()
        y = b()
        if x["records"] != y["records"]:
            sys.exit(f"{label}: {x['records']} records against {y['records']}")
        ra.append(x["records_per_s"])
        rb.append(y["records_per_s"])
        ratios.append(x["records_per_s"] / y["records_per_s"])
        log(f"  {label} round {i + 1}: {x['records_per_s']:,.0f} vs {y['records_per_s']:,.0f} records/s "
            f"= {ratios[-1]:.2f}")
    return {"ratio": statistics.median(ratios), "ratios": ratios,
            "a_records_per_s": statistics.median(ra), "b_records_per_s": statistics.median(rb),
            "records": x["records"], "requests": x["requests"], "bytes": x["bytes"], "wire_bytes": x["wire_bytes"]}


def quiet(result):
    result.pop("pages", None)
    return result


def fetch_retrying(http, url, params, busy):
    """run.fetch, asking again a second later after a 503 (as harvesters do)."""
    for attempt in range(120):
        try:
            return run.fetch(http, url, params)
        except RuntimeError as e:
            if not str(e).startswith("HTTP 503") or attempt == 119:
                raise
            busy.append(1)
            time.sleep(1)


def mixed_clients(url, pid, identifiers, clients, get_records):
    """CLIENTS threads at once: even ones harvest ListRecords/mets in full, then ask
    GetRecord; odd ones the other way round. Peak VmRSS sampled, VmHWM at the end. A 503
    (the server's memory budget for responses taken) is waited out and counted."""
    errors, peak, stop, busy = [], [0.0], threading.Event(), []
    counts = [0] * clients

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], run.proc_status(pid, "VmRSS"))
            stop.wait(0.02)

    def get_some(http, rng):
        for ident in rng.sample(identifiers, min(get_records, len(identifiers))):
            fetch_retrying(http, url, {"verb": "GetRecord", "identifier": ident, "metadataPrefix": "mets"}, busy)

    def list_all(http):
        params, records = {"verb": "ListRecords", "metadataPrefix": "mets"}, 0
        while params:
            body = fetch_retrying(http, url, params, busy)
            records += len(run.RECORD.findall(body))
            m = run.TOKEN.search(body, max(0, len(body) - 4096))
            token = ((m.group(2) or b"").strip() if m else b"").decode()
            params = {"verb": "ListRecords", "resumptionToken": token} if token else None
        return records

    def one(i):
        rng = random.Random(i)
        http = requests.Session()
        http.headers["Accept-Encoding"] = "identity"
        try:
            if i % 2:
                get_some(http, rng)
            counts[i] = list_all(http)
            if not i % 2:
                get_some(http, rng)
        except Exception as e:  # reported below
            errors.append(repr(e))
        finally:
            http.close()

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed, the first: {errors[0]}")
    if sum(counts) != clients * len(identifiers):
        raise RuntimeError(f"the clients harvested {sum(counts)} records, expected {clients * len(identifiers)}")
    return {"clients": clients, "seconds": seconds, "records": sum(counts), "get_records": get_records,
            "busy_503": len(busy),
            "vmhwm_mb": run.proc_status(pid, "VmHWM"), "peak_rss_mb_sampled": peak[0]}


def generate(args, count, workdir):
    folder = workdir / f"records-{count}-seed{args.seed}"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        log(f"generating {count} records (20-60 KB) in {folder}")
        subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), "--count", str(count),
                        "--out", str(folder), "--seed", str(args.seed), "--min-kb", "20", "--max-kb", "60",
                        "--jobs", str(args.jobs), "--quiet"], check=True)
        (folder / ".complete").touch()
    return folder


def database(args, backend, workdir, name):
    if backend == "sqlite":
        db = workdir / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        return None, f"sqlite://{db}"
    return run.create_postgres(args.postgres_url)


def loaded_vitrine(args, backend, workdir, records, name, cleanup):
    pg, url = database(args, backend, workdir, name)
    if pg:
        cleanup.append(lambda: run.drop_postgres(args.postgres_url, pg))
    v = run.Vitrine(args.bin, url, workdir, args.page_size, {})
    v.run("domain", "add", run.DOMAIN, "--name", "Harvest comparison")
    summary = v.run("import", "--domain", run.DOMAIN, "--release", records).strip()
    log(f"[{backend}] {name}: {summary}")
    return v


def compare(args, backend, workdir):
    result = {"backend": backend, "count": args.count, "page_size": args.page_size, "rounds": args.rounds}
    cleanup = []
    try:
        records = generate(args, args.count, workdir)
        v = loaded_vitrine(args, backend, workdir, records, f"compare-{backend}", cleanup)
        proc, base = v.serve()
        cleanup.append(proc.kill)
        url = f"{base}/oai"
        pid = proc.pid

        # (a) nginx serving the same bytes.
        mets_dir = workdir / "pages-mets"
        shutil.rmtree(mets_dir, ignore_errors=True)
        pages = save_pages(url, "ListRecords", "mets", mets_dir)
        nginx = Nginx(workdir, mets_dir, pages)
        cleanup.append(nginx.stop)
        log(f"[{backend}] (a) mets: vitrine vs nginx, {len(pages)} pages")
        result["nginx"] = paired("mets vitrine/nginx",
                                 lambda: quiet(run.harvest(url, "ListRecords", "mets")),
                                 lambda: quiet(run.harvest(nginx.url, "ListRecords", "mets")), args.rounds)
        nginx.stop()
        cleanup.remove(nginx.stop)

        # (b) gzip against identity.
        log(f"[{backend}] (b) mets: gzip vs identity")
        cpu0 = run.proc_cpu(pid)
        result["gzip"] = paired("mets gzip/identity",
                                lambda: quiet(run.harvest(url, "ListRecords", "mets", accept_encoding="gzip")),
                                lambda: quiet(run.harvest(url, "ListRecords", "mets")), args.rounds)
        result["gzip"]["server_cpu_s"] = run.proc_cpu(pid) - cpu0

        # (c) the oai-pmh-rs provider over the same records' Dublin Core.
        dc_dir = workdir / "pages-oai_dc"
        shutil.rmtree(dc_dir, ignore_errors=True)
        dc_pages = save_pages(url, "ListRecords", "oai_dc", dc_dir)
        exported = export_dc(dc_dir, dc_pages, workdir / "oai_dc.json")
        if exported != args.count:
            sys.exit(f"exported {exported} oai_dc records, expected {args.count}")
        ref = subprocess.Popen([str(args.reference), str(workdir / "oai_dc.json"), "127.0.0.1:0", str(args.page_size)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        cleanup.append(ref.kill)
        line = ref.stdout.readline().strip()
        if not line.startswith("listening on http://"):
            sys.exit(f"the oai-pmh-rs provider did not start ({line!r})")
        ref_url = line[len("listening on "):] + "/oai"
        log(f"[{backend}] (c) oai_dc: vitrine vs oai-pmh-rs provider")
        result["oai_pmh_rs"] = paired("oai_dc vitrine/oai-pmh-rs",
                                      lambda: quiet(run.harvest(url, "ListRecords", "oai_dc")),
                                      lambda: quiet(run.harvest(ref_url, "ListRecords", "oai_dc")), args.rounds)
        ref.kill()
        proc.terminate()
        proc.wait(15)

        # (d) peak memory: a fresh server over the first MEMORY_COUNT records.
        mem_records = generate(args, args.memory_count, workdir)
        v = loaded_vitrine(args, backend, workdir, mem_records, f"memory-{backend}", cleanup)
        proc, base = v.serve()
        cleanup.append(proc.kill)
        idents = []
        http = requests.Session()
        params = {"verb": "ListIdentifiers", "metadataPrefix": "mets"}
        while params:
            body = run.fetch(http, f"{base}/oai", params)
            idents += [i.decode() for i in IDENT.findall(body)]
            m = run.TOKEN.search(body, max(0, len(body) - 4096))
            token = ((m.group(2) or b"").strip() if m else b"").decode()
            params = {"verb": "ListIdentifiers", "resumptionToken": token} if token else None
        http.close()
        log(f"[{backend}] (d) memory: {args.clients} clients mixing GetRecord and ListRecords "
            f"over {len(idents)} records")
        result["memory"] = mixed_clients(f"{base}/oai", proc.pid, idents, args.clients, args.get_records)
        proc.terminate()
        proc.wait(15)
    finally:
        for step in reversed(cleanup):
            try:
                step()
            except Exception:  # already stopped
                pass
    return result


def table(r) -> str:
    def line(name, value, key, ok):
        return f"{name:<44} {value:<34} goal {key:<8} {'ok' if ok else 'MISSED'}"

    n, g, o, m = r["nginx"], r["gzip"], r["oai_pmh_rs"], r["memory"]
    mem = max(m["vmhwm_mb"], m["peak_rss_mb_sampled"])
    head = (f"harvest comparison, {r['backend']}, {r['count']:,} records, page size {r['page_size']}, "
            f"median of {r['rounds']} paired rounds")
    return "\n".join([
        head, "-" * len(head),
        line("(a) mets: vitrine / nginx (same bytes)",
             f"{n['ratio']:.2f} ({n['a_records_per_s']:,.0f} / {n['b_records_per_s']:,.0f} rec/s)",
             f">= {TARGETS['nginx']}", n["ratio"] >= TARGETS["nginx"]),
        line("(b) mets: gzip / identity",
             f"{g['ratio']:.2f} ({g['a_records_per_s']:,.0f} / {g['b_records_per_s']:,.0f} rec/s)",
             f">= {TARGETS['gzip']}", g["ratio"] >= TARGETS["gzip"]),
        line("(c) oai_dc: vitrine / oai-pmh-rs provider",
             f"{o['ratio']:.2f} ({o['a_records_per_s']:,.0f} / {o['b_records_per_s']:,.0f} rec/s)",
             f">= {TARGETS['oai_pmh_rs']}", o["ratio"] >= TARGETS["oai_pmh_rs"]),
        line(f"(d) peak memory, {m['clients']} mixed clients",
             f"{mem:.0f} MB (VmHWM {m['vmhwm_mb']:.0f}, {m['busy_503']} x 503)",
             f"<= {TARGETS['memory_mb']:.0f}", mem <= TARGETS["memory_mb"]),
    ])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=3000, help="records for (a)-(c) (default 3000)")
    p.add_argument("--memory-count", type=int, default=2000, help="records for (d) (default 2000)")
    p.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    p.add_argument("--rounds", type=int, default=5, help="paired harvests per comparison (default 5)")
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--get-records", type=int, default=100, help="GetRecord requests per client in (d)")
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--bin", type=Path, default=Path(os.environ.get("VITRINE_BIN", REPO / "target/release/vitrine")))
    p.add_argument("--reference", type=Path, help="the oai-pmh-rs provider binary (default: build it)")
    p.add_argument("--postgres-url", default=os.environ.get("VITRINE_BENCH_POSTGRES_URL",
                                                            "postgres://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--workdir", type=Path, help="where records, pages and databases go (default: temporary)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = p.parse_args()
    args.bin = args.bin.resolve()
    if not args.bin.is_file():
        sys.exit(f"no vitrine binary at {args.bin}; build it with `cargo build --release`")
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        sys.exit("nginx is missing: apt-get install nginx-light")
    args.reference = (args.reference or build_reference()).resolve()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vitrine-harvest-compare-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        load = os.getloadavg()
        backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
        args.out.mkdir(parents=True, exist_ok=True)
        for backend in backends:
            result = compare(args, backend, workdir)
            result["machine"] = {"cpus": os.cpu_count(), "binary": str(args.bin), "loadavg_before": load}
            out = args.out / f"compare-{backend}.json"
            out.write_text(json.dumps(result, indent=2) + "\n")
            print(table(result))
            print(f"(written {out})\n", flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
