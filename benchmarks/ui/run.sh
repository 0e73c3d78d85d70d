#!/usr/bin/env bash
# UI benchmark: one synthetic run of N samples (most two messages, AGENTIC of them tool-using
# agents of 200-400 messages, FAILED of them failed) shown two ways on loopback: Airlock's web UI
# (`airlock serve`, the run's results committed through the workers' API, its samples page) and
# UK AISI Inspect's log viewer (`inspect view`, the same records exported with `airlock export
# --format inspect`). Measures the samples page's server time (p50, p95) for the first page,
# filtered pages and a deep page; then, in headless Chromium driven by Playwright, the time from
# navigation to the first sample row, to a score-filtered list, and the browser's memory (PSS of
# its processes) and JavaScript heap, on both. See benchmarks/ui/README.md.
#
#   AIRLOCK=/path/to/airlock benchmarks/ui/run.sh
#   N=2000 benchmarks/ui/run.sh
#
# Environment overrides (defaults in brackets):
#   N [100000]        samples in the run (one epoch)
#   AGENTIC [0.02]    fraction of samples that are agentic transcripts (200-400 messages, tool calls)
#   FAILED [0.05]     fraction of attempts that failed (causes model, network, infrastructure)
#   REPEAT [50]       timed requests per page (after five warm-ups)
#   TRIALS [3]        browser trials per tool (the median is reported)
#   THREADS [8]       connections committing the results
#   TOOLS [airlock,inspect]  which viewers the browser measures
#   VENV [<repo>/.venv, else benchmarks/ui/.venv]  Python with playwright==1.65.3 and inspect-ai==0.3.285
#   KEEP_WORK [0]  BENCH_OUT [benchmarks/ui/out]
#   AIRLOCK [<repo>/.build-release/release/airlock]  built with swift if missing
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${BENCH_OUT:-$HERE/out}"

N="${N:-100000}"
AGENTIC="${AGENTIC:-0.02}"
FAILED="${FAILED:-0.05}"
REPEAT="${REPEAT:-50}"
TRIALS="${TRIALS:-3}"
THREADS="${THREADS:-8}"
TOOLS="${TOOLS:-airlock,inspect}"
KEEP_WORK="${KEEP_WORK:-0}"
PLAYWRIGHT_VERSION=1.65.3
INSPECT_VERSION=0.3.285
# shellcheck source=SCRIPTDIR/../lib.sh
source "$ROOT/benchmarks/lib.sh"

[[ "$N" =~ ^[0-9]+$ && "$N" -ge 200 ]] || die "N must be a number of samples, at least 200"

# ------------------------------------------------------------------ installs

want_python
want_venv
command -v chromium >/dev/null || PKGS+=(chromium)
command -v sqlite3 >/dev/null || PKGS+=(sqlite3)
command -v jq >/dev/null || PKGS+=(jq)
command -v openssl >/dev/null || PKGS+=(openssl)
apt_install "${PKGS[@]}"
PINS=("playwright==$PLAYWRIGHT_VERSION" "inspect-ai==$INSPECT_VERSION")
if [[ -z "${VENV:-}" ]]; then
  # The repository's venv (make's TEST_PYPI pins both) when it has them; else one of our own.
  if venv_ok "$ROOT/.venv" inspect playwright.sync_api,inspect_ai "${PINS[@]}"; then VENV="$ROOT/.venv"; else VENV="$HERE/.venv"; fi
fi
if [[ "$VENV" == "$HERE/.venv" ]]; then
  ensure_venv "$VENV" "the UI benchmark's" inspect playwright.sync_api,inspect_ai "${PINS[@]}"
else
  venv_ok "$VENV" inspect playwright.sync_api,inspect_ai "${PINS[@]}" || die "VENV=$VENV lacks ${PINS[*]}"
fi
build_airlock "or set AIRLOCK to a built binary"
BENCH=("$VENV/bin/python" "$HERE/bench.py")

# ------------------------------------------------------------------ processes

make_work
AIRLOCK_PID="" INSPECT_PID=""
cleanup() {
  stop_pid "$INSPECT_PID" TERM 10; INSPECT_PID=""
  stop_pid "$AIRLOCK_PID" TERM 30; AIRLOCK_PID=""
  remove_work
}
on_exit cleanup
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

log "generating $N samples ($AGENTIC agentic, $FAILED failed) in $WORK"
t0="$(now)"
"${BENCH[@]}" generate "$N" "$AGENTIC" "$FAILED" "$WORK" >"$OUT/data.json"
log "generated in $(since "$t0") s: $(cat "$OUT/data.json")"

# Inspect's side: the run folder exported to a .eval log, alone in its log folder.
mkdir -p "$WORK/inspect-logs"
t0="$(now)"
"$AIRLOCK" export "$WORK/run" --format inspect --output "$WORK/inspect-logs/ui-bench.eval" >"$LOGS/export.out" 2>&1 ||
  die "airlock export failed: $(tail -n 5 "$LOGS/export.out")"
EXPORT_SECONDS="$(since "$t0")"
log "exported to Inspect's .eval in $EXPORT_SECONDS s ($(du -k "$WORK/inspect-logs/ui-bench.eval" | cut -f1) KiB)"

# Airlock's side: a program with a grant (the model is never called), the run submitted under
# it, and its results committed by a worker user through the API, as `airlock worker` would.
DB="$WORK/airlock.db"
AIRLOCK_CREDENTIALS_KEY="$(openssl rand -base64 32)"
export AIRLOCK_CREDENTIALS_KEY
bootstrap_airlock "$DB" office-password-1
make_program_grant "$DB" "http://127.0.0.1:9/v1"
start_airlock_serve airlock "$DB" AIRLOCK_LOG_LEVEL=warning -- --queue embedded --slots 0
export AIRLOCK_SERVER="$AIRLOCK_URL"
log "airlock serve: pid $AIRLOCK_PID at $AIRLOCK_URL ($AIRLOCK)"
OFFICE_ORG="$(al "$OFFICE" org list --limit 200 | jq -r '.items[] | select(.kind == "program_office") | .id')"
printf '%s\n' 'worker-password-1' | al "$OFFICE" org add-user "$OFFICE_ORG" --email worker@office.example \
  --name "Worker" --role worker --password-stdin >/dev/null
WORKER_KEY="$(login worker@office.example worker-password-1)"
t0="$(now)"
submit() { al "$EVAL" runs submit "$WORK/task/task.yaml" --version "$VERSION" --grant "$GRANT" --name ui-bench --timeout 600 "$@"; }
RUN="$(submit 2>"$LOGS/submit.err" | jq -r .id || true)"
[[ "$RUN" == run_* ]] || die "runs submit failed: $(head -c 400 "$LOGS/submit.err")"
log "submitted $RUN in $(since "$t0") s; committing $N results with $THREADS connections"
"${BENCH[@]}" commit "$AIRLOCK_URL" "$WORKER_KEY" "$RUN" "$WORK/run/samples.jsonl" "$THREADS" >"$OUT/commit.json"
log "committed: $(cat "$OUT/commit.json")"
kept="$(sqlite3 "$DB" "SELECT count(*) FROM run_attempts WHERE run_id = '$RUN'")"
[[ "$kept" -eq "$N" ]] || die "$kept results kept, not $N"
for _ in $(seq 600); do
  state="$(al "$EVAL" runs get "$RUN" 2>/dev/null | jq -r .state || true)"
  [[ "$state" == finished || "$state" == failed ]] && break
  sleep 0.5
done
log "run $RUN is $state; database $(du -k "$DB" | cut -f1) KiB"

# ------------------------------------------------------------------ server time

COOKIE="$("${BENCH[@]}" sign-in "$AIRLOCK_URL" admin@eval.example evaluator-password-1)"
log "server time: $REPEAT requests a page"
"${BENCH[@]}" server-times "$AIRLOCK_URL" "$COOKIE" "$EVAL" "$RUN" "$N" "$(cat "$OUT/data.json")" "$REPEAT" "$OUT/server.json" >/dev/null

# ------------------------------------------------------------------ the browser

INSPECT_PORT="$(free_port)"
"$VENV/bin/inspect" view --log-dir "$WORK/inspect-logs" --host 127.0.0.1 --port "$INSPECT_PORT" >"$LOGS/inspect.out" 2>&1 &
INSPECT_PID=$!
wait_port "$INSPECT_PORT" 60 || die "inspect view did not start: $(tail -n 5 "$LOGS/inspect.out")"
INSPECT_URL="http://127.0.0.1:$INSPECT_PORT"
log "inspect view: pid $INSPECT_PID at $INSPECT_URL"
"$VENV/bin/python" "$HERE/browser.py" --tools "$TOOLS" --trials "$TRIALS" --airlock "$AIRLOCK_URL" --cookie "$COOKIE" --run "$RUN" \
  --inspect "$INSPECT_URL" --log ui-bench.eval --data "$OUT/data.json" --out "$OUT/browser.json"

# ------------------------------------------------------------------ report

"$PY" - "$OUT" "$N" "$AGENTIC" "$FAILED" "$EXPORT_SECONDS" "$AIRLOCK" "$(chromium --version 2>/dev/null | head -n 1)" <<'PYEOF'
import json, os, sys
out, n, agentic, failed, export_seconds, airlock, chromium = sys.argv[1:]
data = json.load(open(f"{out}/data.json"))
commit = json.load(open(f"{out}/commit.json"))
server = json.load(open(f"{out}/server.json"))
browser = json.load(open(f"{out}/browser.json"))
print(f"\n{int(n):,} samples ({data['agentic']:,} agentic, {data['failed']:,} failed, {data['messages']:,} messages, "
      f"{data['record_bytes'] / 2**20:.0f} MiB of records); committed at {commit['rate']:,.0f}/s ({commit['seconds']} s); "
      f"exported to .eval in {export_seconds} s\n")
print("Airlock samples page, server time (loopback HTTP, whole response)")
print(f"{'page':<44} {'rows':>5} {'p50 ms':>8} {'p95 ms':>8} {'API p50':>8}")
for p in server["pages"]:
    flag = "" if p["p95_ms"] < 50 else "  (over 50 ms)"
    rows = "-" if p["query"].startswith("transcript") else p["rows"]
    print(f"{p['query']:<44} {rows:>5} {p['p50_ms']:>8.1f} {p['p95_ms']:>8.1f} {p['api_p50_ms']:>8.1f}{flag}")
tools = browser["tools"]
def cell(tool, key, scale=1, fmt="{:.2f}"):
    v = tools.get(tool, {}).get(key)
    return fmt.format(v / scale) if v is not None else "-"
print(f"\nChromium (headless, median of {browser['trials']})")
print(f"{'':<34} {'Inspect View':>14} {'Airlock':>10} {'ratio':>8}")
rows = [("first sample row (s)", "first_row_s", 1, "{:.2f}"), ("score-filtered list (s)", "filter_s", 1, "{:.2f}"),
        ("Chromium memory, PSS (MiB)", "pss_bytes", 2**20, "{:.0f}"), ("JavaScript heap (MiB)", "js_heap_bytes", 2**20, "{:.1f}")]
for label, key, scale, fmt in rows:
    a, i = tools.get("airlock", {}).get(key), tools.get("inspect", {}).get(key)
    ratio = f"{i / a:.1f}x" if a and i else "-"
    print(f"{label:<34} {cell('inspect', key, scale, fmt):>14} {cell('airlock', key, scale, fmt):>10} {ratio:>8}")
floor = browser["blank"]["pss_bytes"]
above = {t: tools[t]["pss_bytes"] - floor for t in tools}
a, i = above.get("airlock"), above.get("inspect")
print(f"{'  above a blank tab (' + format(floor / 2**20, '.0f') + ' MiB)':<34} {format(i / 2**20, '.0f') if i is not None else '-':>14} "
      f"{format(a / 2**20, '.0f') if a is not None else '-':>10} {format(i / a, '.1f') + 'x' if a and i else '-':>8}")
json.dump({"n": int(n), "agentic": float(agentic), "failed": float(failed), "data": data, "commit": commit,
           "export_seconds": float(export_seconds), "server": server, "browser": browser, "airlock": airlock, "chromium": chromium},
          open(f"{out}/results.json", "w"), indent=1)
PYEOF
