#!/usr/bin/env python3
"""Helpers and the client for benchmarks/taxii/run.sh.

  bench.py wait-url URL SECONDS                        exit 0 once URL answers (any HTTP status)
  bench.py generate COUNT OUT.json                     COUNT deterministic STIX 2.1 objects, TLP:CLEAR
  bench.py medallion-data OBJECTS.json OUT.json ID     medallion 3.0.0's memory-backend data file
  bench.py load URL USER PASSWORD OBJECTS.json BATCH   POST the objects to a collection, BATCH a request
  bench.py page NAME COLLECTION_URL USER PASSWORD LIMIT REPEATS EXPECTED
                                                       page through the collection with taxii2-client;
                                                       one JSON line per repeat on stdout
  bench.py report RUNS.jsonl OUT.json                  the table and the ratios
"""
import json
import statistics
import sys
import time
import uuid

TAXII = "application/taxii+json;version=2.1"
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def wait_url(url, seconds):
    import requests

    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return 0
        except requests.RequestException:
            time.sleep(0.1)
    return 1


def generate(count, out):
    """Indicators, vulnerabilities and notes in turn; ids from a fixed namespace, so every run
    serves the same objects."""
    namespace = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
    objects = []
    for n in range(int(count)):
        kind = ("indicator", "vulnerability", "note")[n % 3]
        created = "2026-%02d-%02dT%02d:%02d:%02d.000Z" % (1 + n % 12, 1 + n % 28, n % 24, n % 60, (n * 7) % 60)
        obj = {
            "type": kind, "spec_version": "2.1", "id": "%s--%s" % (kind, uuid.uuid5(namespace, "%s-%d" % (kind, n))),
            "created": created, "modified": created, "object_marking_refs": [CLEAR],
        }
        if kind == "indicator":
            obj.update(
                name="Model-assisted scan source %d" % n, indicator_types=["malicious-activity"], pattern_type="stix",
                pattern="[ipv4-addr:value = '198.51.%d.%d']" % (n // 250 % 250, n % 250), valid_from=created)
        elif kind == "vulnerability":
            obj.update(
                name="AIRLOCK-2026-%05d" % n,
                description="A finding of a pre-release review: prompt injection through tool output (%d)." % n,
                external_references=[{"source_name": "airlock", "external_id": "AIRLOCK-2026-%05d" % n}])
        else:
            obj.update(
                abstract="Mitigation %d" % n,
                content="Filter tool output before it reaches the model; rotate the exposed credentials (%d)." % n,
                object_refs=["vulnerability--%s" % uuid.uuid5(namespace, "vulnerability-%d" % (n - n % 3 + 1))])
        objects.append(obj)
    with open(out, "w") as f:
        json.dump(objects, f)


def medallion_data(objects_path, out, collection_id):
    """The memory backend's file as medallion 3.0.0 keeps it after POSTs: discovery, one API root,
    one collection with the objects and their manifest entries (`date_added` a microsecond apart,
    in order)."""
    objects = json.load(open(objects_path))
    base = 1_800_000_000_000_000
    manifest = []
    for n, obj in enumerate(objects):
        micros = base + n
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(micros // 1_000_000)) + ".%06dZ" % (micros % 1_000_000)
        manifest.append({
            "id": obj["id"], "date_added": stamp, "version": obj["modified"],
            "media_type": "application/stix+json;version=2.1",
        })
    data = {
        "/discovery": {
            "title": "medallion benchmark", "description": "benchmarks/taxii", "default": "/api1/",
            "api_roots": ["/api1/"],
        },
        "api1": {
            "information": {
                "title": "api1", "description": "benchmark", "versions": [TAXII], "max_content_length": 100 * 1024 * 1024,
            },
            "status": [],
            "collections": [{
                "id": collection_id, "title": "benchmark", "description": "STIX objects",
                "can_read": True, "can_write": True, "media_types": ["application/stix+json;version=2.1"],
                "objects": objects, "manifest": manifest,
            }],
        },
    }
    with open(out, "w") as f:
        json.dump(data, f)


def load(url, user, password, objects_path, batch):
    import requests

    objects = json.load(open(objects_path))
    batch = int(batch)
    session = requests.Session()
    session.auth = (user, password)
    added = 0
    for start in range(0, len(objects), batch):
        body = json.dumps({"objects": objects[start:start + batch]})
        response = session.post(url, data=body, headers={"Accept": TAXII, "Content-Type": TAXII})
        response.raise_for_status()
        status = response.json()
        if status.get("failure_count"):
            print("load: failures: %s" % status.get("failures", [])[:3], file=sys.stderr)
            return 1
        added += status["success_count"]
    if added != len(objects):
        print("load: added %d of %d" % (added, len(objects)), file=sys.stderr)
        return 1
    return 0


def page(name, collection_url, user, password, limit, repeats, expected):
    """Pages through the whole collection with taxii2-client's Collection.get_objects, `limit`
    a request and `next` after, as as_pages does; times every request (the client's parsing
    included, the same for both servers)."""
    from taxii2client.v21 import Collection

    limit, repeats, expected = int(limit), int(repeats), int(expected)
    # Reading the collection resource opens the connection. No objects page first: each of
    # medallion's first pages costs what it costs every time, and Airlock's first pass includes
    # loading the collection into memory.
    collection = Collection(collection_url, user=user, password=password)
    for run in range(1, repeats + 1):
        latencies = []
        count = 0
        started = time.perf_counter()
        envelope = None
        while envelope is None or envelope.get("more"):
            kwargs = {"limit": limit}
            if envelope is not None:
                kwargs["next"] = envelope["next"]
            t0 = time.perf_counter()
            envelope = collection.get_objects(**kwargs)
            latencies.append(time.perf_counter() - t0)
            count += len(envelope.get("objects", []))
        elapsed = time.perf_counter() - started
        if count != expected:
            print("%s: paged %d objects, expected %d" % (name, count, expected), file=sys.stderr)
            return 1
        print(json.dumps({
            "server": name, "limit": limit, "run": run, "objects": count, "pages": len(latencies),
            "seconds": round(elapsed, 4), "objects_per_second": round(count / elapsed, 1),
            "latencies_ms": [round(x * 1000, 3) for x in latencies],
        }), flush=True)
    return 0


def percentile(values, p):
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def report(runs_path, out):
    runs = [json.loads(line) for line in open(runs_path) if line.strip()]
    summary = {}
    for limit in sorted({r["limit"] for r in runs}):
        row = {}
        for server in ("medallion", "airlock"):
            mine = [r for r in runs if r["server"] == server and r["limit"] == limit]
            if not mine:
                continue
            latencies = [x for r in mine for x in r["latencies_ms"]]
            row[server] = {
                "repeats": len(mine), "pages_per_pass": mine[0]["pages"],
                "objects_per_second_median": round(statistics.median(r["objects_per_second"] for r in mine), 1),
                "objects_per_second_runs": [r["objects_per_second"] for r in mine],
                "page_p50_ms": round(percentile(latencies, 50), 2), "page_p99_ms": round(percentile(latencies, 99), 2),
                "page_max_ms": round(max(latencies), 2),
                "first_page_ms_median": round(statistics.median(r["latencies_ms"][0] for r in mine), 2),
            }
        if "medallion" in row and "airlock" in row:
            row["ratio_objects_per_second"] = round(
                row["airlock"]["objects_per_second_median"] / row["medallion"]["objects_per_second_median"], 1)
            row["ratio_p99"] = round(row["medallion"]["page_p99_ms"] / row["airlock"]["page_p99_ms"], 1)
        summary[str(limit)] = row
    json.dump(summary, open(out, "w"), indent=2)
    print("| limit | server | objects/s (median) | page p50 | page p99 | first page | pages a pass |")
    print("|---|---|---|---|---|---|---|")
    for limit, row in summary.items():
        for server in ("medallion", "airlock"):
            if server in row:
                r = row[server]
                print("| %s | %s | %s | %.2f ms | %.2f ms | %.2f ms | %d |" % (
                    limit, server, "{:,.0f}".format(r["objects_per_second_median"]), r["page_p50_ms"], r["page_p99_ms"],
                    r["first_page_ms_median"], r["pages_per_pass"]))
        if "ratio_objects_per_second" in row:
            bar = "met" if row["ratio_objects_per_second"] >= 10 else "NOT met"
            print("| %s | Airlock / medallion | %.0fx (10x bar %s) | | %.0fx lower | | |" % (
                limit, row["ratio_objects_per_second"], bar, row["ratio_p99"]))
    return 0


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    commands = {
        "wait-url": wait_url, "generate": generate, "medallion-data": medallion_data,
        "load": load, "page": page, "report": report,
    }
    sys.exit(commands[command](*args) or 0)
