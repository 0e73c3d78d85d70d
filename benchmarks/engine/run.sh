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
#   AIRLOCK [<repo>/.build/release/airlock]  built with swift if missing
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
AIRLOCK_SET_BY_USER=0
if [[ -n "${AIRLOCK:-}" ]]; then AIRLOCK_SET_BY_USER=1; fi
AIRLOCK="${AIRLOCK:-$ROOT/.build/release/airlock}"

ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so
TIME_BIN=/usr/bin/time
PY="${PYTHON:-python3}"
HARNESS=("$PY" "$HERE/harness.py")

log() { printf '[engine-bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

has() { [[ ",$1," == *",$2,"* ]]; }

for s in ${SCENARIOS//,/ }; do
  case "$s" in instant|slow) ;; *) die "unknown scenario '$s' (instant, slow)";; esac
done
for t in ${TOOLS//,/ }; do
  case "$t" in inspect|airlock) ;; *) die "unknown tool '$t' (inspect, airlock)";; esac
done

# ------------------------------------------------------------------ installs

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then SUDO=(sudo); fi

APT_UPDATED=0
apt_install() {
  if [[ ${#SUDO[@]} -gt 0 ]] && ! command -v sudo >/dev/null; then
    die "need root (or sudo) to apt-get install: $*"
  fi
  if [[ "$APT_UPDATED" -eq 0 ]]; then
    log "apt-get update"
    "${SUDO[@]}" apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  # Keep the package's postinst from starting the system nginx on port 80: a
  # policy-rc.d that denies service starts, only if none exists already.
  local made_policy=0 rc=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null || rc=$?
  if [[ "$made_policy" -eq 1 ]]; then "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; fi
  [[ "$rc" -eq 0 ]] || die "apt-get install $* failed ($rc)"
}

NGINX="${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}"
pkgs=()
[[ -x "$NGINX" ]] || pkgs+=(nginx)
[[ -f "$ECHO_MODULE" ]] || pkgs+=(libnginx-mod-http-echo)
[[ -x "$TIME_BIN" ]] || pkgs+=(time)
command -v "$PY" >/dev/null || pkgs+=(python3)
if has "$TOOLS" inspect && command -v "$PY" >/dev/null \
   && ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
  pkgs+=(python3-venv)
fi
if [[ ${#pkgs[@]} -gt 0 ]]; then apt_install "${pkgs[@]}"; fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$NGINX" ]] || die "nginx not found after install"

venv_ok() {
  [[ -x "$VENV/bin/inspect" ]] && "$VENV/bin/python" - "$INSPECT_VERSION" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
assert version("inspect_ai") == sys.argv[1]
import openai  # noqa: F401
EOF
}

if has "$TOOLS" inspect && ! venv_ok; then
  log "creating $VENV with inspect-ai==$INSPECT_VERSION openai==$OPENAI_VERSION"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "inspect-ai==$INSPECT_VERSION" "openai==$OPENAI_VERSION"
  venv_ok || die "Inspect venv is not usable"
fi

if has "$TOOLS" airlock && [[ ! -x "$AIRLOCK" ]]; then
  if [[ "$AIRLOCK_SET_BY_USER" -eq 1 ]]; then
    die "AIRLOCK=$AIRLOCK is not an executable"
  fi
  command -v swift >/dev/null || die "no Airlock binary at $AIRLOCK and no swift to build it (or run with TOOLS=inspect)"
  log "building Airlock: swift build -c release --product airlock"
  (cd "$ROOT" && swift build -c release --product airlock)
  [[ -x "$AIRLOCK" ]] || die "build finished but $AIRLOCK is missing"
fi

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

NGX="$OUT/nginx"
rm -rf "$NGX"
mkdir -p "$NGX/logs" "$NGX/tmp"
# One fixed OpenAI chat completion ("PONG", with usage). No '$' or "'" in it.
COMPLETION='{"id":"chatcmpl-stub","object":"chat.completion","created":1700000000,"model":"stub","choices":[{"index":0,"message":{"role":"assistant","content":"PONG"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}'
SLOW_S="$(awk -v ms="$SLOW_MS" 'BEGIN { printf "%.3f", ms / 1000 }')"

NGINX_PID=""
cleanup() {
  if [[ -n "$NGINX_PID" ]] && kill -0 "$NGINX_PID" 2>/dev/null; then
    kill -QUIT "$NGINX_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NGINX_PID" 2>/dev/null || true
    wait "$NGINX_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_nginx() {
  local port="$1"
  cat >"$NGX/nginx.conf" <<EOF
# Generated by benchmarks/engine/run.sh: stub OpenAI chat-completions server.
load_module $ECHO_MODULE;
worker_processes $NGINX_WORKERS;
worker_rlimit_nofile 16384;
daemon off;
master_process on;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $NGX/tmp/body;
  proxy_temp_path $NGX/tmp/proxy;
  fastcgi_temp_path $NGX/tmp/fastcgi;
  uwsgi_temp_path $NGX/tmp/uwsgi;
  scgi_temp_path $NGX/tmp/scgi;
  client_body_buffer_size 256k;
  client_max_body_size 16m;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  default_type application/json;
  server {
    listen 127.0.0.1:$port;
    location = /instant/v1/chat/completions {
      return 200 '$COMPLETION';
    }
    location = /slow/v1/chat/completions {
      echo_sleep $SLOW_S;
      echo_exec @completion;
    }
    location @completion {
      return 200 '$COMPLETION';
    }
    location / {
      return 404 '{"error":{"message":"not found in stub","type":"invalid_request_error"}}';
    }
  }
}
EOF
  "$NGINX" -t -q -p "$NGX" -e "$NGX/logs/error.log" -c "$NGX/nginx.conf" || return 1
  "$NGINX" -p "$NGX" -e "$NGX/logs/error.log" -c "$NGX/nginx.conf" &
  NGINX_PID=$!
  if ! "${HARNESS[@]}" wait-port "$port" 10; then
    cleanup; NGINX_PID=""; return 1
  fi
  kill -0 "$NGINX_PID" 2>/dev/null
}

PORT=""
for _ in 1 2 3 4 5; do
  PORT="$("${HARNESS[@]}" free-port)"
  if start_nginx "$PORT"; then break; fi
  log "nginx failed to start on port $PORT; retrying"
  PORT=""
done
[[ -n "$PORT" ]] || { cat "$NGX/logs/error.log" >&2 || true; die "could not start nginx"; }
STUB="http://127.0.0.1:$PORT"
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
