#!/usr/bin/env bash
# Engine benchmark: the same task through Inspect and through Airlock against
# one local nginx stub model server. See README.md for what is measured.
#
#   benchmarks/engine/run.sh                     # both scenarios, both tools
#   SCENARIOS=slow TOOLS=inspect N_SLOW=1000 benchmarks/engine/run.sh
#
# Environment overrides (defaults in brackets):
#   SCENARIOS [instant,slow]   TOOLS [inspect,airlock]
#   N_INSTANT [2000]  CONN_INSTANT [64]   N_SLOW [10000]  CONN_SLOW [256]
#   SLOW_MS [50]      stub latency of the slow scenario
#   AIRLOCK [<repo>/.build-release/release/airlock]  built with swift if missing
#   INSPECT_VERSION [0.3.285]  OPENAI_VERSION [3.54.0]  (pip pins for the venv)
#   INSPECT_ARGS / AIRLOCK_ARGS  extra arguments appended to each command
#   NGINX_WORKERS [1]  RUN_TIMEOUT [1800] seconds per tool run
#   STRICT [0]  1: exit 2 when a bar (CPU/sample ratio, % of ideal rate) fails
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$HERE/out"
VENV="$HERE/.venv"

SCENARIOS="${SCENARIOS:-instant,slow}"
TOOLS="${TOOLS:-inspect,airlock}"
N_INSTANT="${N_INSTANT:-2000}"
N_SLOW="${N_SLOW:-10000}"
CONN_INSTANT="${CONN_INSTANT:-64}"
CONN_SLOW="${CONN_SLOW:-256}"
SLOW_MS="${SLOW_MS:-50}"
INSPECT_VERSION="${INSPECT_VERSION:-0.3.285}"
OPENAI_VERSION="${OPENAI_VERSION:-3.54.0}"
INSPECT_ARGS="${INSPECT_ARGS:-}"
AIRLOCK_ARGS="${AIRLOCK_ARGS:-}"
NGINX_WORKERS="${NGINX_WORKERS:-1}"
RUN_TIMEOUT="${RUN_TIMEOUT:-1800}"
STRICT="${STRICT:-0}"
# PYTHON [python3] and AIRLOCK: read by lib.sh.
# shellcheck source=SCRIPTDIR/../lib.sh
source "$ROOT/benchmarks/lib.sh"

ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so
TIME_BIN=/usr/bin/time
HARNESS=("$PY" "$HERE/harness.py")

for s in ${SCENARIOS//,/ }; do
  case "$s" in instant|slow) ;; *) die "unknown scenario '$s' (instant, slow)";; esac
done
for t in ${TOOLS//,/ }; do
  case "$t" in inspect|airlock) ;; *) die "unknown tool '$t' (inspect, airlock)";; esac
done

# ------------------------------------------------------------------ installs

want_nginx nginx
[[ -f "$ECHO_MODULE" ]] || PKGS+=(libnginx-mod-http-echo)
[[ -x "$TIME_BIN" ]] || PKGS+=(time)
want_python
if has "$TOOLS" inspect; then want_venv; fi
apt_install "${PKGS[@]}"
find_nginx

if has "$TOOLS" inspect; then
  ensure_venv "$VENV" Inspect inspect openai "inspect-ai==$INSPECT_VERSION" "openai==$OPENAI_VERSION"
fi
if has "$TOOLS" airlock; then build_airlock "or run with TOOLS=inspect"; fi

# ------------------------------------------------------------------ datasets

mkdir -p "$OUT"
RUNS="$OUT/runs"
rm -rf "$RUNS"
mkdir -p "$RUNS"

scenario_n() { if [[ "$1" == instant ]]; then echo "$N_INSTANT"; else echo "$N_SLOW"; fi; }
scenario_conn() { if [[ "$1" == instant ]]; then echo "$CONN_INSTANT"; else echo "$CONN_SLOW"; fi; }
scenario_ms() { if [[ "$1" == instant ]]; then echo 0; else echo "$SLOW_MS"; fi; }

for s in ${SCENARIOS//,/ }; do
  n="$(scenario_n "$s")"
  "${HARNESS[@]}" dataset "$n" "$OUT/pong-$n.jsonl"
  "${HARNESS[@]}" task-yaml "$HERE/task.yaml" "pong-$n.jsonl" "$OUT/task-$s.yaml"
done

# ------------------------------------------------------------------ stub server

SLOW_S="$(awk -v ms="$SLOW_MS" 'BEGIN { printf "%.3f", ms / 1000 }')"
on_exit stop_nginx
start_nginx_stub "$OUT/nginx" "
    location = /instant/v1/chat/completions {
      return 200 '$STUB_COMPLETION';
    }
    location = /slow/v1/chat/completions {
      echo_sleep $SLOW_S;
      echo_exec @completion;
    }
    location @completion {
      return 200 '$STUB_COMPLETION';
    }" "load_module $ECHO_MODULE;"
STUB="http://127.0.0.1:$NGINX_PORT"
log "stub server: nginx pid $NGINX_PID at $STUB ($NGINX_WORKERS worker)"
if has "$SCENARIOS" instant; then "${HARNESS[@]}" check-stub "$STUB/instant/v1" 0; fi
if has "$SCENARIOS" slow; then "${HARNESS[@]}" check-stub "$STUB/slow/v1" "$SLOW_MS"; fi

# ------------------------------------------------------------------ runs

versions_json() {
  local iv="" ov="" av=""
  if has "$TOOLS" inspect; then
    iv="$("$VENV/bin/python" -c 'from importlib.metadata import version as v; print(v("inspect_ai"))')"
    ov="$("$VENV/bin/python" -c 'from importlib.metadata import version as v; print(v("openai"))')"
  fi
  if has "$TOOLS" airlock; then av="$(timeout 10 "$AIRLOCK" --version 2>/dev/null | head -n1 || true)"; fi
  "$PY" - "$iv" "$ov" "$av" "$("$NGINX" -v 2>&1)" "$SCENARIOS" "$TOOLS" "$AIRLOCK" <<'EOF'
import json, sys
iv, ov, av, nv, scen, tools, airlock = sys.argv[1:]
print(json.dumps({
    "versions": {"inspect_ai": iv or None, "openai": ov or None,
                 "airlock": av or None, "nginx": nv},
    "airlock_binary": airlock if "airlock" in tools.split(",") else None,
    "scenarios": scen.split(","),
    "tools": tools.split(","),
}, indent=2))
EOF
}
versions_json >"$RUNS/meta.json"

run_tool() {
  local tool="$1" scen="$2"
  local n conns ms base logdir outfile timefile rc=0
  n="$(scenario_n "$scen")"
  conns="$(scenario_conn "$scen")"
  ms="$(scenario_ms "$scen")"
  base="$STUB/$scen/v1"
  logdir="$OUT/$tool-logs-$scen"
  outfile="$RUNS/$scen-$tool.out"
  timefile="$RUNS/$scen-$tool.time"
  rm -rf "$logdir"
  mkdir -p "$logdir"

  local -a cmd extra
  read -r -a extra <<<"$( [[ $tool == inspect ]] && echo "$INSPECT_ARGS" || echo "$AIRLOCK_ARGS" )"
  if [[ "$tool" == inspect ]]; then
    cmd=(env OPENAI_BASE_URL="$base" OPENAI_API_KEY=stub
         "$VENV/bin/inspect" eval inspect_task.py
         -T "dataset=$OUT/pong-$n.jsonl"
         --model openai/stub -M responses_api=false
         --max-connections "$conns" --max-samples "$conns"
         --log-dir "$logdir"
         --no-log-realtime --no-score-display --display plain)
  else
    cmd=(env -u OPENAI_BASE_URL OPENAI_API_KEY=stub
         "$AIRLOCK" eval "$OUT/task-$scen.yaml"
         --model openai/stub --model-base-url "$base"
         --max-connections "$conns" --max-samples "$conns"
         --log-dir "$logdir" --no-progress)
  fi
  cmd+=("${extra[@]}")

  local load_before
  load_before="$(cut -d' ' -f1 /proc/loadavg)"
  log "$scen / $tool: $n samples, $conns connections, load average $load_before (output: ${outfile#"$ROOT"/})"
  # cwd is this folder: Inspect wants a relative task path.
  (cd "$HERE" && timeout --kill-after=10 "$RUN_TIMEOUT" \
      "$TIME_BIN" -f '%e %U %S %M' -o "$timefile" "${cmd[@]}") >"$outfile" 2>&1 || rc=$?
  if [[ "$rc" -ne 0 ]]; then
    log "$scen / $tool exited with status $rc; last lines of its output:"
    tail -n 20 "$outfile" >&2 || true
  fi
  local ipy=""
  if [[ "$tool" == inspect ]]; then ipy="$VENV/bin/python"; fi
  "${HARNESS[@]}" record --scenario "$scen" --tool "$tool" --samples "$n" \
    --connections "$conns" --latency-ms "$ms" --exit-code "$rc" --load-before "$load_before" \
    --time-file "$timefile" --log-dir "$logdir" --output-file "$outfile" \
    --command-line "${cmd[*]}" --inspect-python "$ipy" --out "$RUNS/$scen-$tool.json"
}

for s in ${SCENARIOS//,/ }; do
  for t in inspect airlock; do   # Inspect first, then Airlock
    if has "$TOOLS" "$t"; then run_tool "$t" "$s"; fi
  done
done

report_args=()
if [[ "$STRICT" == 1 ]]; then report_args+=(--strict); fi
"${HARNESS[@]}" report "$RUNS" "$OUT/results.json" "${report_args[@]}"
