#!/usr/bin/env python3
"""Peak memory of the server while several harvesters fetch pages of very large records.

Generates RECORDS METS files of about SIZE MB each (a demo monograph with long MODS notes),
imports them into a fresh SQLite database, starts `vitrine serve` and lets HARVESTERS
clients harvest `ListRecords metadataPrefix=mets` at the same time, each following its
resumption tokens and honouring 503 + Retry-After. Reports the server's peak resident
memory (VmHWM), the time taken, and how often the server asked a harvester to come back.

    python3 bench/page-memory/run.py --bin target/release/vitrine
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OAI = "{http://www.openarchives.org/OAI/2.0/}"


def make_record(path, local_id, size):
    with open(os.path.join(ROOT, "fixtures/demo/main/demo_mono_0001.xml"), encoding="utf-8") as f:
        text = f.read().replace("demo_mono_0001", local_id)
    note = "<mods:note>" + "Lorem ipsum dolor sit amet. " * 36000 + "</mods:note>\n"
    at = text.index("</mods:mods>")
    with open(path, "w", encoding="utf-8") as out:
        out.write(text[:at])
        for _ in range(size // len(note) + 1):
            out.write(note)
        out.write(text[at:])


def harvest(base, results, index):
    query = {"verb": "ListRecords", "metadataPrefix": "mets"}
    records = pages = received = 0
    refusals = {}
    while True:
        url = base + "?" + urllib.parse.urlencode(query)
        try:
            with urllib.request.urlopen(url, timeout=600) as response:
                body = response.read()
        except urllib.error.HTTPError as e:
            # 503: memory or request budget exhausted; 408: the server did not read the
            # request in time (busy). A harvester retries both.
            if e.code in (503, 408):
                refusals[e.code] = refusals.get(e.code, 0) + 1
                time.sleep(float(e.headers.get("Retry-After", "1")))
                continue
            raise
        received += len(body)
        pages += 1
        records += len(re.findall(rb"<record>", body))
        token = re.search(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>", body)
        del body
        if not token:
            break
        query = {"verb": "ListRecords", "resumptionToken": token.group(1).decode()}
    results[index] = {"records": records, "pages": pages, "retried": refusals, "bytes": received}


def peak_rss(pid, stop, out):
    peak = 0
    while not stop.is_set():
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except FileNotFoundError:
            break
        time.sleep(0.05)
    out.append(peak)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.environ.get("VITRINE_BIN", os.path.join(ROOT, "target/release/vitrine")))
    parser.add_argument("--records", type=int, default=5)
    parser.add_argument("--size-mb", type=int, default=60)
    parser.add_argument("--harvesters", type=int, default=6)
    parser.add_argument("--workdir", default=None, help="reuse generated records here")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    work = args.workdir or tempfile.mkdtemp(prefix="vitrine-page-memory-")
    records = os.path.join(work, "records")
    os.makedirs(records, exist_ok=True)
    for i in range(args.records):
        path = os.path.join(records, f"large_{i:02d}.xml")
        if not os.path.exists(path):
            make_record(path, f"large_{i:02d}", args.size_mb * 1000 * 1000)
    db = os.path.join(work, f"vitrine-{os.getpid()}.db")
    database = ["--database", f"sqlite://{db}"]
    env = dict(os.environ, VITRINE_DOMAINS__ULB__PAGE_SIZE="100")
    subprocess.run([args.bin, *database, "domain", "add", "ulb", "--name", "ULB"], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    started = time.time()
    subprocess.run([args.bin, *database, "import", "--domain", "ulb", "--release", records], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    imported = time.time() - started
    server_env = dict(env, **dict(kv.split("=", 1) for kv in args.server_env))
    server = subprocess.Popen([args.bin, *database, "serve", "--bind", "127.0.0.1:0"], env=server_env,
                              stdout=subprocess.PIPE, text=True)
    try:
        port = None
        for line in server.stdout:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                port = m.group(1)
                break
        if port is None:
            sys.exit("the server did not start")
        threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()
        stop, peak = threading.Event(), []
        watcher = threading.Thread(target=peak_rss, args=(server.pid, stop, peak))
        watcher.start()
        results = [None] * args.harvesters
        started = time.time()
        threads = [threading.Thread(target=harvest, args=(f"http://127.0.0.1:{port}/oai", results, i))
                   for i in range(args.harvesters)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.time() - started
        stop.set()
        watcher.join()
    finally:
        server.terminate()
        server.wait()
        os.remove(db)
    report = {
        "bin": args.bin,
        "records": args.records,
        "record_mb": args.size_mb,
        "harvesters": args.harvesters,
        "import_seconds": round(imported, 1),
        "harvest_seconds": round(took, 1),
        "peak_rss_mb": round(peak[0] / 1024) if peak else None,
        "harvesters_results": results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
