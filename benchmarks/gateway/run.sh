#!/usr/bin/env bash
# Gateway benchmark: one local stub model (Debian's nginx on loopback, returning a fixed
# OpenAI chat completion) reached directly, through Airlock's access gateway (`airlock serve`,
# under /v1) and through the LiteLLM proxy. Measured with wrk (requests per second at
# saturation) and hey (latency at a fixed rate, `hey -q`). See benchmarks/README.md.
#
#   benchmarks/gateway/run.sh
#   TARGETS=direct,airlock REPEAT=1 benchmarks/gateway/run.sh
#
# Environment overrides (defaults in brackets):
#   TARGETS [direct,airlock,litellm]
#   DURATION [10]          seconds of each measured wrk or hey run
#   REPEAT [3]             measured runs of each kind (medians are reported)
#   WRK_THREADS [2]  WRK_CONNS [64]               saturation load
#   RATE_CONNS [2]   RATE_PER_CONN [500]          fixed rate: hey -c 2 -q 500 = 1,000/s, paced
#   BURST_CONNS [10] BURST_PER_CONN [100]         the same rate in bursts: hey -c 10 -q 100
#   LOW_CONNS [5]    LOW_PER_CONN [10]            the rate LiteLLM can hold: 50/s (all targets)
#   NGINX_WORKERS [1]
#   LITELLM_VERSION [1.102.4]  LITELLM_WORKERS [1]
#   AIRLOCK [<repo>/.build-release/release/airlock]  built with swift if missing
#   BENCH_OUT [benchmarks/gateway/out]  where results, logs and profiles go
#   KEEP_WORK [0]          1: keep the temporary folder (configs, database, logs)
#   PROFILE [0]            1: one more gateway saturation run under perf record (out/perf-airlock.*)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${BENCH_OUT:-$HERE/out}"
VENV="$HERE/.venv-litellm"

TARGETS="${TARGETS:-direct,airlock,litellm}"
DURATION="${DURATION:-10}"
REPEAT="${REPEAT:-3}"
WRK_THREADS="${WRK_THREADS:-2}"
WRK_CONNS="${WRK_CONNS:-64}"
RATE_CONNS="${RATE_CONNS:-2}"
RATE_PER_CONN="${RATE_PER_CONN:-500}"
BURST_CONNS="${BURST_CONNS:-10}"
BURST_PER_CONN="${BURST_PER_CONN:-100}"
LOW_CONNS="${LOW_CONNS:-5}"
LOW_PER_CONN="${LOW_PER_CONN:-10}"
NGINX_WORKERS="${NGINX_WORKERS:-1}"
LITELLM_VERSION="${LITELLM_VERSION:-1.102.4}"
LITELLM_WORKERS="${LITELLM_WORKERS:-1}"
KEEP_WORK="${KEEP_WORK:-0}"
PROFILE="${PROFILE:-0}"
# PYTHON [python3] and AIRLOCK: read by lib.sh.
# shellcheck source=SCRIPTDIR/../lib.sh
source "$ROOT/benchmarks/lib.sh"
HARNESS=("$PY" "$HERE/harness.py")

for t in ${TARGETS//,/ }; do
  case "$t" in direct|airlock|litellm) ;; *) die "unknown target '$t' (direct, airlock, litellm)";; esac
done
has "$TARGETS" direct || die "TARGETS must include direct: latency is reported as added over it"

# ------------------------------------------------------------------ installs

want_nginx nginx-light
command -v wrk >/dev/null || PKGS+=(wrk)
# hey is packaged in Debian (bookworm: 0.1.4); wrk2 is not, so hey -q holds the fixed rate.
command -v hey >/dev/null || PKGS+=(hey)
want_python
if has "$TARGETS" airlock; then
  command -v sqlite3 >/dev/null || PKGS+=(sqlite3)
  command -v jq >/dev/null || PKGS+=(jq)
  command -v openssl >/dev/null || PKGS+=(openssl)
fi
if has "$TARGETS" litellm; then want_venv; fi
apt_install "${PKGS[@]}"
find_nginx

if has "$TARGETS" litellm; then
  ensure_venv "$VENV" LiteLLM litellm fastapi,uvicorn,orjson "litellm[proxy]==$LITELLM_VERSION"
fi
if has "$TARGETS" airlock; then build_airlock "or run with TARGETS=direct,litellm"; fi

# ------------------------------------------------------------------ processes

make_work
RESULTS="$OUT/runs.jsonl"
: >"$RESULTS"

AIRLOCK_PID="" LITELLM_PID=""

stop_group() {  # the LiteLLM proxy runs in a session of its own: stop its whole group
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_group "$LITELLM_PID"; LITELLM_PID=""
  stop_pid "$AIRLOCK_PID" TERM 30; AIRLOCK_PID=""
  stop_nginx
  remove_work
}
on_exit cleanup

# ------------------------------------------------------------------ stub model: nginx

# What every client sends: a short chat request with a small max_tokens, as an evaluation would.
BODY='{"model":"stub","messages":[{"role":"user","content":"Say PONG."}],"max_tokens":16}'
export BENCH_BODY="$BODY"

start_nginx_stub "$WORK/nginx" "
    # POST to a static file is 405 in nginx: answer with return.
    location = /v1/chat/completions {
      return 200 '$STUB_COMPLETION';
    }"
STUB="http://127.0.0.1:$NGINX_PORT/v1"
"${HARNESS[@]}" check "$STUB/chat/completions" none "$BODY" || die "the stub does not answer"
log "stub model: nginx pid $NGINX_PID at $STUB ($NGINX_WORKERS worker)"

declare -A URL KEY PIDS
URL[direct]="$STUB/chat/completions"
KEY[direct]="sk-stub-not-checked"
PIDS[direct]=""

# ------------------------------------------------------------------ Airlock

LIMITS_SET_BY=""
if has "$TARGETS" airlock; then
  DB="$WORK/airlock.db"
  AIRLOCK_CREDENTIALS_KEY="$(openssl rand -base64 32)"
  export AIRLOCK_CREDENTIALS_KEY
  bootstrap_airlock "$DB" office-password-1

  make_program_grant "$DB" "$STUB"
  AUDIT_BEFORE="$(sqlite3 "$DB" "SELECT count(*) FROM audit_log")"

  start_airlock_serve airlock "$DB"
  URL[airlock]="$AIRLOCK_URL/v1/chat/completions"
  KEY[airlock]="$GRANT_KEY"
  PIDS[airlock]="$AIRLOCK_PID"
  "${HARNESS[@]}" check "${URL[airlock]}" "$GRANT_KEY" "$BODY" || die "the gateway does not answer"
  log "airlock serve: pid $AIRLOCK_PID at $AIRLOCK_URL"
fi

# ------------------------------------------------------------------ LiteLLM

litellm_pids() {  # the proxy and its workers, if any: every process of its session
  local pids
  pids="$(pgrep -s "$LITELLM_PID" 2>/dev/null | tr '\n' ' ' || true)"
  echo "${pids:-$LITELLM_PID}"
}
if has "$TARGETS" litellm; then
  LITELLM_PORT="$(free_port)"
  LITELLM_MASTER_KEY="sk-litellm-bench-master"
  cat >"$WORK/litellm.yaml" <<EOF
model_list:
  - model_name: stub
    litellm_params:
      model: openai/stub
      api_base: $STUB
      api_key: sk-stub-endpoint-key
litellm_settings:
  telemetry: false
  set_verbose: false
  json_logs: false
general_settings:
  master_key: $LITELLM_MASTER_KEY
EOF
  # setsid: the proxy gets a session of its own, so that it and any workers stop together.
  (cd "$WORK" && exec env LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR LITELLM_TELEMETRY=False \
    DISABLE_SCHEMA_UPDATE=True NO_DOCS=True \
    setsid "$VENV/bin/litellm" --config "$WORK/litellm.yaml" --host 127.0.0.1 --port "$LITELLM_PORT" \
      --num_workers "$LITELLM_WORKERS" --telemetry False) >"$LOGS/litellm.out" 2>"$LOGS/litellm.err" &
  LITELLM_PID=$!
  wait_port "$LITELLM_PORT" 120 || { tail -n 30 "$LOGS/litellm.err" >&2; die "LiteLLM did not start"; }
  URL[litellm]="http://127.0.0.1:$LITELLM_PORT/v1/chat/completions"
  KEY[litellm]="$LITELLM_MASTER_KEY"
  "${HARNESS[@]}" check "${URL[litellm]}" "$LITELLM_MASTER_KEY" "$BODY" || die "LiteLLM does not answer"
  PIDS[litellm]="$(litellm_pids)"
  log "LiteLLM proxy: pid $LITELLM_PID at http://127.0.0.1:$LITELLM_PORT ($LITELLM_WORKERS worker)"
fi

# ------------------------------------------------------------------ measurements

# Other processes' CPU during a run (a build, say) makes its figures low. The machine's busy
# time (/proc/stat) less that of this benchmark's own processes (nginx, the proxies, and the
# load generator, a child of this shell) says how much CPU went elsewhere.
# (`times` must run in this shell, not in a $(…) subshell, to see the load generator's time.)
ours_cpu() {  # sets OURS: CPU seconds of this benchmark's processes so far
  local pids
  pids="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ') ${AIRLOCK_PID:-}"
  [[ -z "${LITELLM_PID:-}" ]] || pids="$pids $(pgrep -s "$LITELLM_PID" | tr '\n' ' ')"
  times >"$WORK/times"
  OURS="$(awk -v a="$("${HARNESS[@]}" cpu $pids)" 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/);
    printf "%.2f", a + u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$WORK/times")"
}
BUSY0=0 OURS0=0 OTHER=0
measure_begin() { BUSY0="$("${HARNESS[@]}" busy)"; ours_cpu; OURS0="$OURS"; }
measure_end() {  # sets OTHER: seconds of CPU that went to other processes since measure_begin
  local busy1
  busy1="$("${HARNESS[@]}" busy)"; ours_cpu
  OTHER="$(awk -v b1="$busy1" -v o1="$OURS" -v b0="$BUSY0" -v o0="$OURS0" \
    'BEGIN { x = (b1 - b0) - (o1 - o0); printf "%.2f", x < 0 ? 0 : x }')"
}

saturation() {  # saturation TARGET RUN [KIND]
  local t="$1" run="$2" kind="${3:-saturation}" tmp="$WORK/wrk.json"
  local proxy_before=0
  [[ -z "${PIDS[$t]}" ]] || proxy_before="$("${HARNESS[@]}" cpu ${PIDS[$t]})"
  rm -f "$tmp"
  measure_begin
  BENCH_KEY="${KEY[$t]}" WRK_RESULT="$tmp" timeout $((DURATION + 30)) \
    wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${DURATION}s" --timeout 10s -s "$HERE/post.lua" "${URL[$t]}" \
    >"$LOGS/wrk-$t-$kind-$run.txt" 2>&1 || die "wrk failed on $t (see $LOGS/wrk-$t-$kind-$run.txt)"
  local proxy_after=0
  [[ -z "${PIDS[$t]}" ]] || proxy_after="$("${HARNESS[@]}" cpu ${PIDS[$t]})"
  measure_end
  "$PY" - "$t" "$run" "$kind" "$tmp" "$proxy_before" "$proxy_after" "$OTHER" >>"$RESULTS" <<'EOF'
import json, sys
t, run, kind, path, before, after, other = sys.argv[1:]
r = json.load(open(path))
r.update(target=t, kind=kind, run=int(run), other_cpu_seconds=float(other))
cpu = float(after) - float(before)
if cpu > 0 and r["requests"]:
    r["proxy_cpu_seconds"] = round(cpu, 2)
    r["proxy_cpu_us_per_request"] = round(cpu / r["requests"] * 1e6, 1)
print(json.dumps(r))
EOF
  log "  $t $kind run $run: $(tail -n1 "$RESULTS" | jq -r '"\(.rps) req/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, non-2xx \(.non2xx), errors \(.socket_errors), other processes \(.other_cpu_seconds) CPU-s"')"
}

fixed_rate() {  # fixed_rate TARGET KIND CONNS PER_CONN RUN (PER_CONN 0: back to back)
  local t="$1" kind="$2" c="$3" q="$4" run="$5" csv="$WORK/hey.csv" rate_args=()
  [[ "$q" -eq 0 ]] || rate_args=(-q "$q")
  local proxy_before=0 proxy_after=0
  [[ -z "${PIDS[$t]}" ]] || proxy_before="$("${HARNESS[@]}" cpu ${PIDS[$t]})"
  measure_begin
  timeout $((DURATION + 60)) hey -z "${DURATION}s" -c "$c" "${rate_args[@]}" -t 20 -m POST \
    -T application/json -H "Authorization: Bearer ${KEY[$t]}" -d "$BODY" -o csv "${URL[$t]}" \
    >"$csv" 2>"$LOGS/hey-$t-$kind-$run.err" || die "hey failed on $t (see $LOGS/hey-$t-$kind-$run.err)"
  [[ -z "${PIDS[$t]}" ]] || proxy_after="$("${HARNESS[@]}" cpu ${PIDS[$t]})"
  local cpu
  measure_end
  cpu="$(awk -v a="$proxy_after" -v b="$proxy_before" 'BEGIN { printf "%.2f", a - b }')"
  "${HARNESS[@]}" hey-stats "$csv" | jq -c --arg t "$t" --arg k "$kind" --argjson run "$run" \
    --argjson target_rate "$((c * q))" --argjson c "$c" --argjson cpu "$cpu" --argjson other "$OTHER" \
    '. + {target: $t, kind: $k, run: $run, connections: $c, target_rate: (if $target_rate > 0 then $target_rate else null end),
          other_cpu_seconds: $other}
       + (if $cpu > 0 and .requests > 0 then {proxy_cpu_seconds: $cpu, proxy_cpu_us_per_request: ($cpu / .requests * 1e6 | round)} else {} end)' \
    >>"$RESULTS"
  log "  $t $kind run $run: $(tail -n1 "$RESULTS" | jq -r '"\(.rate)/s, p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, errors \(.errors), other processes \(.other_cpu_seconds) CPU-s"')"
}

# PROFILE=1: one more saturation run of the gateway under `perf record` (CPU samples with call
# graphs), reported by shared object and by symbol into out/perf-airlock-*.txt.
profile_airlock() {
  command -v perf >/dev/null || { log "perf is not installed (Debian: linux-perf); no profile"; return 0; }
  local data="$OUT/perf-airlock.data"
  log "profiling airlock (perf record, ${DURATION}s under wrk)"
  perf record -q -F 999 -g -p "$AIRLOCK_PID" -o "$data" -- sleep "$DURATION" 2>"$LOGS/perf-record.err" &
  local perf_pid=$!
  saturation airlock 1 saturation_profiled
  wait "$perf_pid" || { log "perf record failed: $(tail -n1 "$LOGS/perf-record.err")"; return 0; }
  perf report -i "$data" --stdio --no-children --sort dso --percent-limit 0.5 -g none 2>/dev/null \
    | grep -v '^$' >"$OUT/perf-airlock-dso.txt" || true
  perf report -i "$data" --stdio --no-children --sort dso,symbol --percent-limit 0.3 -g none 2>/dev/null \
    | grep -v '^$' >"$OUT/perf-airlock-symbols.txt" || true
  perf report -i "$data" --stdio --children --sort symbol --percent-limit 2 -g none 2>/dev/null \
    | grep -v '^$' >"$OUT/perf-airlock-inclusive.txt" || true
  log "profile: $OUT/perf-airlock-{dso,symbols,inclusive}.txt (perf report -i $data)"
}

HIGH_RATE=$((RATE_CONNS * RATE_PER_CONN))
LOW_RATE=$((LOW_CONNS * LOW_PER_CONN))
for t in ${TARGETS//,/ }; do
  log "$t: ${URL[$t]}"
  # Warm-up: connections, caches, the proxies' first-request paths.
  BENCH_KEY="${KEY[$t]}" WRK_RESULT="$WORK/warm.json" timeout 60 \
    wrk -t1 -c4 -d3s --timeout 10s -s "$HERE/post.lua" "${URL[$t]}" >/dev/null 2>&1 || true
  for run in $(seq "$REPEAT"); do saturation "$t" "$run"; done
  if [[ "$t" != litellm ]]; then
    # LiteLLM cannot hold 1,000/s on this machine: it gets the low rate only.
    for run in $(seq "$REPEAT"); do fixed_rate "$t" rate_high "$RATE_CONNS" "$RATE_PER_CONN" "$run"; done
    # hey's connections tick together: ten connections send ten requests at once every 10 ms.
    fixed_rate "$t" rate_bursts "$BURST_CONNS" "$BURST_PER_CONN" 1
  fi
  fixed_rate "$t" rate_low "$LOW_CONNS" "$LOW_PER_CONN" 1
  fixed_rate "$t" single 1 0 1
  if [[ "$PROFILE" == 1 && "$t" == airlock ]]; then profile_airlock; fi
done

# ------------------------------------------------------------------ wrap-up

AUDITED=""
if has "$TARGETS" airlock; then
  # A graceful stop flushes the last call records; then count them.
  stop_pid "$AIRLOCK_PID" TERM 60; AIRLOCK_PID=""
  AUDITED="$(sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE action = 'gateway.call'")"
  TOKENS_USED="$(sqlite3 "$DB" "SELECT tokens_used FROM grants WHERE id='$GRANT'")"
  VERIFY="$(cd "$WORK" && "$AIRLOCK" audit verify --database "$DB" 2>&1 | tail -n1 || true)"
  log "audit log: $AUDITED gateway.call entries (of $(( $(sqlite3 "$DB" "SELECT count(*) FROM audit_log") - AUDIT_BEFORE )) new), tokens_used $TOKENS_USED; $VERIFY"
fi

AIRLOCK_VERSION="" LITELLM_INSTALLED=""
if has "$TARGETS" airlock; then AIRLOCK_VERSION="$("$AIRLOCK" --version 2>/dev/null | head -n1 || true)"; fi
if has "$TARGETS" litellm; then
  LITELLM_INSTALLED="$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("litellm"))')"
fi
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || true)"
git -C "$ROOT" diff --quiet HEAD -- Sources 2>/dev/null || COMMIT="$COMMIT+uncommitted"
env M_DATE="$(date -u +%FT%TZ)" M_NGINX="$("$NGINX" -v 2>&1 | sed 's/.*: //')" \
  M_WRK="$(wrk -v 2>&1 | head -n1)" M_HEY="$(dpkg-query -W -f='${Version}' hey 2>/dev/null || echo unknown)" \
  M_AIRLOCK="$AIRLOCK_VERSION" M_COMMIT="$COMMIT" M_BUILT="$(date -u -r "$AIRLOCK" +%FT%TZ 2>/dev/null || true)" M_LIMITS="$LIMITS_SET_BY" M_AUDITED="$AUDITED" \
  M_LITELLM="$LITELLM_INSTALLED" \
  "$PY" - "$OUT/meta.json" "$NGINX_WORKERS" "$LITELLM_WORKERS" "$DURATION" "$REPEAT" "$WRK_THREADS" "$WRK_CONNS" \
    "$HIGH_RATE" "$LOW_RATE" <<'EOF'
import json, os, platform, sys
e = os.environ
path, ngx_workers, llm_workers, duration, repeat, threads, conns, high, low = sys.argv[1:]
meta = {
    "date": e["M_DATE"], "cpus": os.cpu_count(), "kernel": platform.release(),
    "nginx": e["M_NGINX"], "nginx_workers": int(ngx_workers), "wrk": e["M_WRK"], "hey": e["M_HEY"],
    "airlock": e["M_AIRLOCK"] or None, "airlock_binary_built": e["M_BUILT"] or None,
    "repository_head_at_run": e["M_COMMIT"] or None,
    "airlock_limits_set_by": e["M_LIMITS"] or None,
    "airlock_audited_calls": int(e["M_AUDITED"]) if e["M_AUDITED"] else None,
    "litellm": e["M_LITELLM"] or None, "litellm_workers": int(llm_workers),
    "duration_s": int(duration), "repeat": int(repeat),
    "wrk_threads": int(threads), "wrk_connections": int(conns), "rate_high": int(high), "rate_low": int(low),
}
json.dump(meta, open(path, "w"), indent=2)
EOF
"${HARNESS[@]}" report "$RESULTS" "$OUT/results.json"
log "raw figures: $OUT/results.json, $OUT/meta.json; logs: $LOGS"
