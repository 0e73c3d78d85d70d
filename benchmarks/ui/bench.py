#!/usr/bin/env python3
"""The UI benchmark's data and HTTP side (benchmarks/ui/run.sh): standard library only.

  bench.py generate N AGENTIC FAILED WORK
      WORK/task/{task.yaml,data.jsonl}: N samples; WORK/run/{header.json,samples.jsonl}: an
      `airlock eval` run folder holding one synthetic record per sample (deterministic). Prints
      a JSON summary (counts, words to search for, expected matches of each filter).
  bench.py commit URL KEY RUN SAMPLES THREADS
      POSTs every record of SAMPLES to /api/v1/runs/RUN/attempts as a worker would, THREADS
      connections at once; prints {seconds, committed, kept, rate}.
  bench.py sign-in URL EMAIL PASSWORD
      Signs in through the /sign-in form; prints the session cookie's value.
  bench.py server-times URL COOKIE KEY RUN N EXPECT REPEAT OUT
      Times the samples page (and the attempts API) for each query: first page, filtered pages,
      a deep page (cursor found by paging to about 90% of the run); REPEAT timed requests after
      five warm-ups, each on a kept-alive connection; writes OUT (JSON) and prints it.
"""
import hashlib
import http.client
import json
import os
import random
import re
import statistics
import sys
import threading
import time
from urllib.parse import quote, urlencode, urlparse

TOPICS = ["algebra", "biology", "chemistry", "history", "geography", "physics", "poetry", "law", "medicine", "music"]
LEVELS = ["easy", "medium", "hard"]
CAUSES = ["model", "network", "infrastructure"]
SCORE_VALUES = [0.0, 0.5, 1.0]
# Search words: RARE in one sample of 1,000 (in the model's answer), COMMON in every transcript.
RARE = "zeppelin"
COMMON = "question"
TOOLS = ["bash", "python", "read_file"]
STARTED = 1796634000.0  # 2026-12-07, fixed so that reruns write the same bytes


def sample_id(i):
    return f"s{i:06d}"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def agentic_messages(rng, i, prompt, answer):
    """A tool-using agent's transcript: system, user, then assistant/tool turns (200-400 messages in all)."""
    messages = [
        {"role": "system", "content": "You are an agent with a shell. Use the tools, then give the answer."},
        {"role": "user", "content": prompt},
    ]
    turns = rng.randint(99, 199)  # each an assistant message with a call and the tool's reply
    for t in range(turns):
        tool = TOOLS[t % len(TOOLS)]
        call_id = f"call_{i}_{t}"
        if tool == "bash":
            arguments = {"cmd": f"grep -rn 'pattern{t}' /srv/data/part{t % 17}.txt | head -n {5 + t % 20}"}
        elif tool == "python":
            arguments = {"code": f"import math\nprint(sum(math.sqrt(k) for k in range({t * 37})))"}
        else:
            arguments = {"path": f"/srv/data/notes/{t % 31}.md"}
        messages.append({"role": "assistant", "content": f"Step {t}: checking with {tool}.",
                         "tool_calls": [{"id": call_id, "name": tool, "arguments": json.dumps(arguments)}]})
        output = "\n".join(f"part{t % 17}.txt:{k * 13 + t}: line {k} of the output of step {t}, value {rng.randint(0, 99999)}"
                           for k in range(rng.randint(2, 8)))
        messages.append({"role": "tool", "content": output, "tool_call_id": call_id, "tool_name": tool})
    messages.append({"role": "assistant", "content": answer})
    return messages


def record(i, n_agentic_every, failed_every, rng):
    sid = sample_id(i)
    topic = TOPICS[i % len(TOPICS)]
    level = LEVELS[(i // 10) % len(LEVELS)]
    a, b = rng.randint(1, 999), rng.randint(1, 999)
    prompt = f"Question {i} ({topic}, {level}): what is {a} + {b}? Reply with the number."
    target = str(a + b)
    agentic = n_agentic_every and i % n_agentic_every == n_agentic_every // 2
    failed = failed_every and i % failed_every == 3
    value = SCORE_VALUES[(i * 7) % len(SCORE_VALUES)]
    answer = target if value == 1.0 else (f"About {target}." if value == 0.5 else str(a + b + 1))
    if i % 1000 == 500:
        answer += f" (computed on the {RARE})"
    metadata = {"level": level, "topic": topic, "agentic": bool(agentic)}
    started = STARTED + i * 0.01
    if agentic:
        messages = agentic_messages(rng, i, prompt, answer)
    else:
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
    if failed:
        messages = messages[:-1] if len(messages) > 2 else messages[:1]
    calls = []
    for m in messages:
        if m["role"] == "assistant":
            calls.append({"seconds": 0.05, "retries": 0, "cached": False, "usage": {"input_tokens": 40, "output_tokens": 12},
                          "stop_reason": "tool_calls" if m.get("tool_calls") else "stop"})
    usage = {"input_tokens": 40 * len(calls), "output_tokens": 12 * len(calls)}
    rec = {"sample_id": sid, "epoch": 1, "status": "failed" if failed else "scored", "input": prompt, "target": [target],
           "messages": messages}
    if failed:
        cause = CAUSES[(i // failed_every) % len(CAUSES)]
        rec.update({"scores": {}, "usage": usage, "calls": calls, "metadata": metadata,
                    "failure": {"cause": cause, "message": f"{cause} failure on attempt {i}: the call did not complete"}})
    else:
        rec.update({"completion": answer, "scores": {"exact": {"value": value, "answer": answer}}, "usage": usage, "calls": calls,
                    "metadata": metadata})
    if agentic:
        rec["stop_reason"] = "answered"
    seconds = 0.05 * max(1, len(calls))
    rec.update({"started": started, "total_seconds": seconds + 0.001, "model_seconds": seconds})
    return rec, {"agentic": bool(agentic), "failed": bool(failed), "value": None if failed else value, "topic": topic,
                 "rare": i % 1000 == 500 and not failed, "messages": len(messages)}


def generate(n, agentic, failed, work):
    n = int(n)
    agentic_every = round(1 / float(agentic)) if float(agentic) > 0 else 0
    failed_every = round(1 / float(failed)) if float(failed) > 0 else 0
    task_dir, run_dir = os.path.join(work, "task"), os.path.join(work, "run")
    os.makedirs(task_dir, exist_ok=True)
    os.makedirs(run_dir, exist_ok=True)
    task_yaml = os.path.join(task_dir, "task.yaml")
    data = os.path.join(task_dir, "data.jsonl")
    with open(task_yaml, "w") as f:
        f.write("name: ui-bench\ndataset: {path: data.jsonl}\nsolvers: [generate]\nscorers: [exact]\ngeneration: {max_tokens: 8}\n")
    rng = random.Random(42)
    counts = {"samples": n, "agentic": 0, "failed": 0, "scored": 0, "score_1": 0, "score_half": 0, "topic_chemistry": 0,
              "rare": 0, "messages": 0, "record_bytes": 0, "largest_record_bytes": 0}
    ids, values, causes, usage = [], [], {}, {"input_tokens": 0, "output_tokens": 0}
    longest = (0, None)
    with open(data, "w") as d, open(os.path.join(run_dir, "samples.jsonl"), "w") as s:
        for i in range(n):
            rec, facts = record(i, agentic_every, failed_every, rng)
            ids.append(rec["sample_id"])
            row = {"id": rec["sample_id"], "input": rec["input"], "target": rec["target"][0], "metadata": rec["metadata"]}
            d.write(json.dumps(row, separators=(",", ":")) + "\n")
            line = json.dumps(rec, separators=(",", ":"))
            s.write(line + "\n")
            if rec["status"] == "scored":
                values.append(rec["scores"]["exact"]["value"])
            else:
                causes[rec["failure"]["cause"]] = causes.get(rec["failure"]["cause"], 0) + 1
            for k in usage:
                usage[k] += rec["usage"][k]
            if facts["agentic"] and not facts["failed"] and facts["messages"] > longest[0]:
                longest = (facts["messages"], rec["sample_id"])
            counts["agentic"] += facts["agentic"]
            counts["failed"] += facts["failed"]
            counts["scored"] += not facts["failed"]
            counts["score_1"] += facts["value"] == 1.0
            counts["score_half"] += facts["value"] == 0.5
            counts["topic_chemistry"] += facts["topic"] == "chemistry"
            counts["rare"] += facts["rare"]
            counts["messages"] += facts["messages"]
            counts["record_bytes"] += len(line)
            counts["largest_record_bytes"] = max(counts["largest_record_bytes"], len(line))
    definition = {
        "dataset": {"fields": {"choices": "choices", "id": "id", "input": "input", "list_separator": "|", "metadata": "metadata",
                               "metadata_columns": [], "target": "target"}, "path": "data.jsonl", "shuffle": False},
        "epochs": {"count": 1, "reducer": "mean"}, "generation": {"max_tokens": 8}, "limits": {}, "metrics": {}, "model_roles": {},
        "name": "ui-bench", "scorers": [{"exact": {"ignore_case": True}}], "solvers": [{"generate": {}}],
    }
    header = {
        "airlock_version": "0.1.0", "cache": False, "created": STARTED, "epochs": 1, "format": "airlock-run/1",
        "max_connections": 32, "max_samples": 32, "model": {"base_url": "http://127.0.0.1:9/v1", "name": "openai/stub"},
        "roles": {}, "run_id": "uibench", "sample_ids": ids, "seed": 42, "settings": {"max_tokens": 8},
        "task": {"dataset_file": os.path.abspath(data), "dataset_sha256": sha256(data), "definition": definition,
                 "file": os.path.abspath(task_yaml), "file_sha256": sha256(task_yaml), "name": "ui-bench"},
    }
    with open(os.path.join(run_dir, "header.json"), "w") as f:
        json.dump(header, f, indent=1, sort_keys=True)
    # results.json as `airlock eval` writes it at a run's end (a mean with a t interval), so
    # that the export is of a finished run.
    mean = statistics.fmean(values) if values else 0.0
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0
    summary = {"count": len(values), "lower": mean - 1.96 * se, "method": "t", "name": "mean", "stderr": se, "upper": mean + 1.96 * se,
               "value": mean}
    results = {"attempts": n, "completed": STARTED + n * 0.01 + 60, "failed": n - len(values), "failures_by_cause": causes,
               "limits_reached": 0, "reducer": "mean", "samples": n, "scored": len(values),
               "scorers": [{"epochs": [summary], "name": "exact", "overall": summary}], "usage": usage}
    with open(os.path.join(run_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    counts.update({"rare_word": RARE, "common_word": COMMON, "longest_sample": longest[1], "longest_messages": longest[0]})
    print(json.dumps(counts))


# ------------------------------------------------------------------ HTTP


def connect(url):
    u = urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def commit(url, key, run, samples, threads):
    threads = int(threads)
    lock = threading.Lock()
    stats = {"committed": 0, "kept": 0, "errors": []}
    f = open(samples, "rb")

    def work():
        conn = connect(url)
        while True:
            with lock:
                line = f.readline()
            if not line or stats["errors"]:
                break
            rec = json.loads(line)
            body = json.dumps({"sample_id": rec["sample_id"], "epoch": rec["epoch"], "status": rec["status"], "record": line.decode().strip(),
                               "gateway_call_ids": [], "worker": "ui-bench", "round": None}).encode()
            for attempt in range(5):
                try:
                    conn.request("POST", f"/api/v1/runs/{run}/attempts", body,
                                 {"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
                    resp = conn.getresponse()
                    text = resp.read()
                    break
                except (ConnectionError, http.client.HTTPException):
                    conn.close()
                    conn = connect(url)
                    time.sleep(0.2 * (attempt + 1))
            else:
                with lock:
                    stats["errors"].append(f"{rec['sample_id']}: connection failed")
                break
            with lock:
                if resp.status not in (200, 201):
                    stats["errors"].append(f"{rec['sample_id']}: {resp.status} {text[:300]!r}")
                else:
                    stats["committed"] += 1
                    stats["kept"] += resp.status == 201
                    if stats["committed"] % 10000 == 0:
                        print(f"[ui-bench] committed {stats['committed']}", file=sys.stderr, flush=True)
        conn.close()

    t0 = time.monotonic()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.monotonic() - t0
    if stats["errors"]:
        print("\n".join(stats["errors"][:5]), file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"seconds": round(seconds, 2), "committed": stats["committed"], "kept": stats["kept"],
                      "rate": round(stats["committed"] / seconds, 1), "threads": threads}))


def sign_in(url, email, password):
    conn = connect(url)
    conn.request("GET", "/sign-in")
    resp = conn.getresponse()
    page = resp.read().decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    cookies = "; ".join(c.split(";")[0] for k, c in resp.getheaders() if k.lower() == "set-cookie")
    body = urlencode({"form_token": token, "email": email, "password": password, "next": "/"})
    u = urlparse(url)
    conn.request("POST", "/sign-in", body, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookies,
                                            "Origin": f"http://{u.netloc}"})
    resp = conn.getresponse()
    resp.read()
    for k, c in resp.getheaders():
        if k.lower() == "set-cookie" and c.startswith("airlock_session="):
            value = c.split(";")[0].split("=", 1)[1]
            if value:
                print(value)
                return
    sys.exit(f"sign-in failed: {resp.status}")


def percentile(values, p):
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


NEXT = re.compile(r'<a href="(/runs/[^"]+/samples\?[^"]*)" rel="next">')


def server_times(url, cookie, key, run, n, expect, repeat, out):
    n, repeat = int(n), int(repeat)
    expect = json.loads(expect)
    conn = connect(url)

    def get(path, api=False):
        headers = {"Authorization": f"Bearer {key}"} if api else {"Cookie": f"airlock_session={cookie}"}
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        ms = (time.perf_counter() - t0) * 1000
        if resp.status != 200:
            sys.exit(f"GET {path}: {resp.status} {body[:300]!r}")
        return ms, body.decode()

    def rows(html):
        return html.count("<tr><td><a href=")

    base = f"/runs/{run}/samples"
    api = f"/api/v1/runs/{run}/attempts"
    # The deep page: 90% of the way through the run in sample order, its cursor found by paging
    # through the API (200 a page), whose cursors are the page's.
    target_rows = int(n * 0.9)
    cursor, seen, t0 = None, 0, time.perf_counter()
    while seen + 200 <= target_rows:
        _, body = get(f"{api}?limit=200" + (f"&cursor={quote(cursor)}" if cursor else ""), api=True)
        page = json.loads(body)
        seen += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    walk = time.perf_counter() - t0
    # And the deep page of the score order, found the same way.
    score_cursor, score_seen = None, 0
    while score_seen + 200 <= target_rows * expect["scored"] // n:
        _, body = get(f"{api}?limit=200&sort=-score" + (f"&cursor={quote(score_cursor)}" if score_cursor else ""), api=True)
        page = json.loads(body)
        score_seen += len(page["items"])
        score_cursor = page.get("next_cursor")
        if not score_cursor:
            break
    queries = [
        ("first page", "", min(100, n)),
        ("status=failed", "status=failed", min(100, expect["failed"])),
        ("cause=network", "cause=network", None),
        ("score range 0.4-0.6", "score_min=0.4&score_max=0.6", min(100, expect["score_half"])),
        ("metadata topic=chemistry", "field=topic&value=chemistry", min(100, expect["topic_chemistry"])),
        (f"q={expect['rare_word']} (1 in 1,000)", f"q={expect['rare_word']}", min(100, expect["rare"])),
        (f"q={expect['common_word']} (every sample)", f"q={expect['common_word']}", min(100, n)),
        ("sort=-score", "sort=-score", min(100, expect["scored"])),
        (f"deep page ({seen:,} rows in)", f"cursor={quote(cursor)}" if cursor else "", 100 if cursor else min(100, n)),
        (f"deep page by score ({score_seen:,} in)", f"sort=-score&cursor={quote(score_cursor)}" if score_cursor else "sort=-score", None),
        ("last page, filtered (status=failed, deep)", None, None),
    ]
    # A filtered list's deep page: the failed attempts' last page with rows, found by following `next`.
    failed_path, hops = f"{base}?status=failed", 0
    _, html = get(failed_path)
    while hops < 10000:
        m = NEXT.search(html)
        if not m:
            break
        _, following = get(m.group(1).replace("&amp;", "&"))
        if rows(following) == 0:
            break
        failed_path, html, hops = m.group(1).replace("&amp;", "&"), following, hops + 1
    queries[-1] = (f"status=failed, last page ({hops} pages in)", failed_path.split("?", 1)[1], None)
    if expect.get("longest_sample"):
        queries.append((f"transcript, {expect['longest_messages']} messages", f"/{expect['longest_sample']}/1", None))
    results = []
    for name, query, want in queries:
        transcript = query is not None and query.startswith("/")
        path = base + query if transcript else (f"{base}?{query}" if query else base)
        for _ in range(5):
            _, html = get(path)
        got = rows(html)
        if want is not None and got != want:
            sys.exit(f"{name}: {got} rows on the page, expected {want} ({path})")
        times = [get(path)[0] for _ in range(repeat)]
        api_path = (f"{api}?sample_id={expect['longest_sample']}&epoch=1" if transcript
                    else f"{api}?limit=100" + (f"&{query}" if query else ""))
        for _ in range(3):
            get(api_path, api=True)
        api_times = [get(api_path, api=True)[0] for _ in range(max(10, repeat // 2))]
        results.append({"query": name, "path": path, "rows": got, "n": repeat, "p50_ms": round(percentile(times, 50), 2),
                        "p95_ms": round(percentile(times, 95), 2), "max_ms": round(max(times), 2),
                        "api_p50_ms": round(percentile(api_times, 50), 2), "api_p95_ms": round(percentile(api_times, 95), 2)})
        print(f"[ui-bench] {name}: {got} rows, p50 {results[-1]['p50_ms']} ms, p95 {results[-1]['p95_ms']} ms "
              f"(API p50 {results[-1]['api_p50_ms']} ms)", file=sys.stderr, flush=True)
    report = {"pages": results, "deep_cursor_walk_seconds": round(walk, 2), "deep_path": f"{base}?cursor={quote(cursor)}" if cursor else base}
    with open(out, "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report))


if __name__ == "__main__":
    commands = {"generate": generate, "commit": commit, "sign-in": sign_in, "server-times": server_times}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    commands[sys.argv[1]](*sys.argv[2:])
