#!/usr/bin/env python3
"""Helpers for benchmarks/gateway/run.sh (standard library only).

  harness.py check URL KEY BODY              one POST; exit 0 on a 200 with usage
  harness.py hey-stats CSV                   hey -o csv output -> one JSON line
  harness.py cpu PID...                      user+system CPU seconds of the processes
  harness.py busy                            CPU seconds the whole machine has been busy
  harness.py report RESULTS.jsonl OUT.json   table, ratios and bars from the measurements
"""
import json
import os
import statistics
import sys
import urllib.error
import urllib.request


def check(url, key, body):
    request = urllib.request.Request(
        url, data=body.encode(), method="POST",
        headers={"content-type": "application/json", "authorization": "Bearer " + key})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
            status = response.status
    except urllib.error.HTTPError as error:
        print(f"{url}: {error.code} {error.read()[:400]!r}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1
    text = answer.get("choices", [{}])[0].get("message", {}).get("content")
    if status != 200 or "usage" not in answer or text != "PONG":
        print(f"{url}: unexpected answer {answer!r}", file=sys.stderr)
        return 1
    return 0


def percentile(sorted_values, p):
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def hey_stats(path):
    """hey -o csv: response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset."""
    times, statuses, offsets = [], {}, []
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) < 8 or parts[0] == "response-time":
                continue
            try:
                seconds = float(parts[0])
                offset = float(parts[7])
            except ValueError:
                continue
            times.append(round(seconds * 1000.0, 3))
            offsets.append(offset)
            statuses[parts[6]] = statuses.get(parts[6], 0) + 1
    times.sort()
    span = (max(offsets) - min(offsets)) if len(offsets) > 1 else 0.0
    ok = statuses.get("200", 0)
    out = {
        "requests": len(times),
        "ok": ok,
        "errors": len(times) - ok,
        "statuses": statuses,
        "rate": round(len(times) / span, 1) if span > 0 else None,
        "mean_ms": round(statistics.fmean(times), 3) if times else None,
        "p50_ms": percentile(times, 50),
        "p90_ms": percentile(times, 90),
        "p99_ms": percentile(times, 99),
        "max_ms": times[-1] if times else None,
    }
    print(json.dumps(out))


def cpu(pids):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # After the command: state is fields[0]; utime, stime are stat fields 14, 15.
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    print(f"{total / tick:.2f}")


def machine_busy():
    """Seconds of CPU the whole machine has spent busy since boot (all CPUs, /proc/stat)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    print(f"{(user + nice + system + irq + softirq + steal) / os.sysconf('SC_CLK_TCK'):.2f}")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, unit="", digits=2):
    if value is None:
        return "n/a"
    if isinstance(value, float) and digits == 0:
        return f"{value:,.0f}{unit}"
    return f"{value:,.{digits}f}{unit}"


def report(results_path, out_path):
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    targets = []
    for row in rows:
        if row["target"] not in targets:
            targets.append(row["target"])

    def pick(target, kind):
        return [r for r in rows if r["target"] == target and r["kind"] == kind]

    summary = {}
    for t in targets:
        sat = pick(t, "saturation")
        s = {
            "saturation_rps": median([r["rps"] for r in sat]),
            "saturation_rps_runs": [r["rps"] for r in sat],
            "saturation_non2xx": sum(r.get("non2xx", 0) for r in sat),
            "saturation_socket_errors": sum(r.get("socket_errors", 0) for r in sat),
            "saturation_p50_ms": median([r.get("p50_ms") for r in sat]),
            "saturation_p99_ms": median([r.get("p99_ms") for r in sat]),
            "proxy_cpu_us_per_request": median([r.get("proxy_cpu_us_per_request") for r in sat]),
        }
        for kind in ("rate_high", "rate_bursts", "rate_low", "single"):
            runs = pick(t, kind)
            if not runs:
                continue
            s[kind] = {
                "target_rate": runs[0].get("target_rate"),
                "achieved_rate": median([r.get("rate") for r in runs]),
                "p50_ms": median([r.get("p50_ms") for r in runs]),
                "p90_ms": median([r.get("p90_ms") for r in runs]),
                "p99_ms": median([r.get("p99_ms") for r in runs]),
                "mean_ms": median([r.get("mean_ms") for r in runs]),
                "errors": sum(r.get("errors", 0) for r in runs),
                "proxy_cpu_us_per_request": median([r.get("proxy_cpu_us_per_request") for r in runs]),
                "runs": len(runs),
            }
        summary[t] = s

    lines = []
    w = lines.append
    w("")
    w("Saturation (wrk, median of runs):")
    w(f"  {'target':<8} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'proxy CPU/req':>14}")
    for t in targets:
        s = summary[t]
        cpu_text = fmt(s["proxy_cpu_us_per_request"], " us", 1) if s["proxy_cpu_us_per_request"] else "-"
        w(f"  {t:<8} {fmt(s['saturation_rps'], '', 0):>10} {fmt(s['saturation_p50_ms']):>8} "
          f"{fmt(s['saturation_p99_ms']):>8} {s['saturation_non2xx'] + s['saturation_socket_errors']:>8} {cpu_text:>14}")

    for kind, title in (("rate_high", "Fixed rate, paced (hey -q)"), ("rate_bursts", "Fixed rate in bursts (hey -q, many connections)"),
                        ("rate_low", "Low fixed rate (hey -q)"),
                        ("single", "One connection, back to back (hey -c 1)")):
        present = [t for t in targets if kind in summary[t]]
        if not present:
            continue
        w("")
        w(f"{title}:")
        w(f"  {'target':<8} {'asked/s':>8} {'got/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
          f"{'+p50 ms':>8} {'+p99 ms':>8} {'errors':>7} {'proxy CPU/req':>14}")
        base = summary.get("direct", {}).get(kind)
        for t in present:
            r = summary[t][kind]
            add50 = add99 = None
            if base and t != "direct" and r["p50_ms"] is not None and base["p50_ms"] is not None:
                add50 = r["p50_ms"] - base["p50_ms"]
                add99 = r["p99_ms"] - base["p99_ms"]
                r["added_p50_ms"] = round(add50, 4)
                r["added_p99_ms"] = round(add99, 4)
            w(f"  {t:<8} {fmt(r['target_rate'], '', 0) if r['target_rate'] else 'max':>8} "
              f"{fmt(r['achieved_rate'], '', 0):>8} {fmt(r['p50_ms']):>8} {fmt(r['p90_ms']):>8} {fmt(r['p99_ms']):>8} "
              f"{fmt(add50) if add50 is not None else '-':>8} {fmt(add99) if add99 is not None else '-':>8} {r['errors']:>7} "
              f"{fmt(r['proxy_cpu_us_per_request'], ' us', 0) if r['proxy_cpu_us_per_request'] else '-':>14}")

    ratios = {}
    direct = summary.get("direct", {}).get("saturation_rps")
    airlock = summary.get("airlock", {}).get("saturation_rps")
    litellm = summary.get("litellm", {}).get("saturation_rps")
    if airlock and litellm:
        ratios["airlock_over_litellm"] = airlock / litellm
    if airlock and direct:
        ratios["airlock_over_direct"] = airlock / direct
    if litellm and direct:
        ratios["litellm_over_direct"] = litellm / direct
    w("")
    w("Ratios at saturation:")
    if "airlock_over_litellm" in ratios:
        w(f"  Airlock / LiteLLM: {ratios['airlock_over_litellm']:,.1f}x")
    if "airlock_over_direct" in ratios:
        w(f"  Airlock / direct:  {ratios['airlock_over_direct'] * 100:.1f}% of the direct path's rate")
    if "litellm_over_direct" in ratios:
        w(f"  LiteLLM / direct:  {ratios['litellm_over_direct'] * 100:.2f}%")

    bars = {}
    high = summary.get("airlock", {}).get("rate_high")
    if high and "added_p99_ms" in high:
        bars["added_p99_under_1ms_at_fixed_rate"] = high["added_p99_ms"] < 1.0 and high["errors"] == 0
    if "airlock_over_litellm" in ratios:
        bars["at_least_100x_litellm_at_saturation"] = ratios["airlock_over_litellm"] >= 100
    w("")
    w("Bars:")
    if high and "added_p99_ms" in high:
        w(f"  Airlock adds under 1 ms at p99 at {fmt(high['target_rate'], '', 0)}/s: "
          f"{'met' if bars['added_p99_under_1ms_at_fixed_rate'] else 'NOT met'} "
          f"(+{high['added_p99_ms']:.2f} ms p99, +{high['added_p50_ms']:.2f} ms p50)")
    if "at_least_100x_litellm_at_saturation" in bars:
        w(f"  Airlock at least 100x LiteLLM at saturation: "
          f"{'met' if bars['at_least_100x_litellm_at_saturation'] else 'NOT met'} "
          f"({ratios['airlock_over_litellm']:,.1f}x)")
    # A run during which other processes took more than 5% of a core is not clean.
    def seconds(r):
        return r.get("seconds") or (r["requests"] / r["rate"] if r.get("rate") else 10)

    disturbed = [r for r in rows if r.get("other_cpu_seconds", 0) > 0.05 * seconds(r)]
    w("")
    if disturbed:
        w(f"WARNING: other processes used CPU during {len(disturbed)} of {len(rows)} runs "
          f"(up to {max(r['other_cpu_seconds'] for r in disturbed):.1f} CPU-s in one): their figures may be off; "
          "rerun on an idle machine")
    else:
        most = max((r.get("other_cpu_seconds", 0) for r in rows), default=0)
        w(f"Machine quiet: other processes used at most {most:.2f} CPU-s during any run")
    print("\n".join(lines))
    with open(out_path, "w") as f:
        json.dump({"summary": summary, "ratios": ratios, "bars": bars, "disturbed_runs": len(disturbed), "runs": rows},
                  f, indent=2)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    command, args = argv[1], argv[2:]
    if command == "check":
        return check(*args)
    if command == "hey-stats":
        hey_stats(*args)
        return 0
    if command == "busy":
        machine_busy()
        return 0
    if command == "cpu":
        cpu(args)
        return 0
    if command == "report":
        return report(*args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
