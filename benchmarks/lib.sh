# shellcheck shell=bash
# Set-up shared by the benchmark scripts (benchmarks/*/run.sh): log lines, Debian packages, Python
# venvs, the Airlock release binary, free ports, the nginx stub model, `airlock serve`, and
# stopping what a script started. Each run.sh sets HERE (its folder, whose name names the
# benchmark in log lines and temporary folders) and ROOT (the repository), then
#
#   source "$ROOT/benchmarks/lib.sh"
#
# Read from the environment here: PYTHON [python3], AIRLOCK [<repo>/.build-release/release/airlock].
# Read from the script: NGINX_WORKERS (start_nginx_stub), OUT and KEEP_WORK (make_work, remove_work).

BENCH_NAME="$(basename "$HERE")"
PY="${PYTHON:-python3}"

# ------------------------------------------------------------------ messages

# log MESSAGE...: one line on stderr, prefixed with the benchmark's name ("[engine-bench] ...").
log() { printf '[%s-bench] %s\n' "$BENCH_NAME" "$*" >&2; }

# die MESSAGE...: log "error: MESSAGE" and exit 1.
die() { log "error: $*"; exit 1; }

# has LIST ITEM: whether the comma-separated LIST (TOOLS, TARGETS, ...) holds ITEM.
has() { [[ ",$1," == *",$2,"* ]]; }

# ------------------------------------------------------------------ Debian packages

# Run apt as root: through sudo unless this is root already.
SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then SUDO=(sudo); fi
APT_UPDATED=0
# PKGS: the Debian packages a script wants; collected with want_* (or PKGS+=), then apt_install "${PKGS[@]}".
PKGS=()

# want_nginx PACKAGE: want PACKAGE (nginx, nginx-light) when there is no nginx.
want_nginx() { command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || PKGS+=("$1"); }

# want_python: want python3 when $PY is not there.
want_python() { command -v "$PY" >/dev/null || PKGS+=(python3); }

# want_venv: want python3-venv when $PY is missing or cannot make a venv (Debian splits ensurepip off).
want_venv() {
  if ! command -v "$PY" >/dev/null || ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then PKGS+=(python3-venv); fi
}

# apt_install [PACKAGE...]: apt-get install the packages (nothing when none are named), after one
# apt-get update per run. While it installs, a policy-rc.d that denies service starts (put in place
# only if none exists) keeps a package's postinst, nginx's above all, from starting a system
# service such as nginx on port 80.
apt_install() {
  [[ $# -gt 0 ]] || return 0
  if [[ ${#SUDO[@]} -gt 0 ]] && ! command -v sudo >/dev/null; then die "need root (or sudo) to apt-get install: $*"; fi
  if [[ "$APT_UPDATED" -eq 0 ]]; then
    log "apt-get update"
    "${SUDO[@]}" apt-get update -qq
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  local made_policy=0 rc=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || rc=$?
  if [[ "$made_policy" -eq 1 ]]; then "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; fi
  [[ "$rc" -eq 0 ]] || die "apt-get install $* failed ($rc)"
}

# find_nginx: set NGINX to the nginx binary (after apt_install); die when there is none.
find_nginx() {
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
  [[ -x "$NGINX" ]] || die "nginx not found after install"
}

# ------------------------------------------------------------------ Python venvs

# venv_ok VENV PROGRAM IMPORTS PIN...: whether VENV/bin/PROGRAM is there, every PIN
# (name[extras]==version) is installed at that version, and the modules in IMPORTS
# (comma-separated, may be empty) import.
venv_ok() {
  local venv="$1" program="$2" imports="$3"; shift 3
  [[ -x "$venv/bin/$program" ]] && "$venv/bin/python" - "$imports" "$@" <<'EOF' 2>/dev/null
import importlib, sys
from importlib.metadata import version
for pin in sys.argv[2:]:
    name, wanted = pin.split("==")
    name = name.split("[")[0]
    assert version(name) == wanted, (name, version(name))
for module in filter(None, sys.argv[1].split(",")):
    importlib.import_module(module)
EOF
}

# ensure_venv VENV WHAT PROGRAM IMPORTS PIN...: unless venv_ok passes, make VENV afresh with $PY
# and pip install the PINs into it; die ("WHAT venv is not usable") when it still does not pass.
ensure_venv() {
  local venv="$1" what="$2" program="$3" imports="$4"; shift 4
  venv_ok "$venv" "$program" "$imports" "$@" && return 0
  log "creating $venv with $*"
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "$@"
  venv_ok "$venv" "$program" "$imports" "$@" || die "$what venv is not usable"
}

# ------------------------------------------------------------------ the Airlock binary

# AIRLOCK: the binary under test. Unless set, the release build in .build-release (apart from
# the debug build in .build that make uses), which build_airlock makes when it is missing.
AIRLOCK_SET_BY_USER=0
if [[ -n "${AIRLOCK:-}" ]]; then AIRLOCK_SET_BY_USER=1; fi
AIRLOCK="${AIRLOCK:-$ROOT/.build-release/release/airlock}"

# build_airlock [HINT]: build $AIRLOCK with swift when it is missing; die when AIRLOCK was set
# to something that is not an executable, or when there is no swift (HINT: how to run without it).
build_airlock() {
  [[ ! -x "$AIRLOCK" ]] || return 0
  [[ "$AIRLOCK_SET_BY_USER" -eq 0 ]] || die "AIRLOCK=$AIRLOCK is not an executable"
  command -v swift >/dev/null || die "no Airlock binary at $AIRLOCK and no swift to build it${1:+ ($1)}"
  log "building Airlock: swift build -c release --product airlock --scratch-path .build-release"
  (cd "$ROOT" && swift build -c release --product airlock --scratch-path .build-release)
  [[ -x "$AIRLOCK" ]] || die "build finished but $AIRLOCK is missing"
}

# bootstrap_airlock DB [PASSWORD]: a fresh program store in DB (run in $WORK, output in
# $LOGS/bootstrap.out), with no AIRLOCK_* client settings left from the caller's environment; the
# office's admin gets PASSWORD when one is given. Sets OFFICE, the admin's API key.
bootstrap_airlock() {
  local db="$1" password="${2:-}"
  local args=(db bootstrap --database "$db" --organisation "Program Office" --email office@bench.example --name "Office Admin")
  unset AIRLOCK_DATABASE_URL AIRLOCK_API_KEY AIRLOCK_SERVER AIRLOCK_PASSWORD
  if [[ -n "$password" ]]; then
    (cd "$WORK" && printf '%s\n' "$password" | "$AIRLOCK" "${args[@]}" --password-stdin) >"$LOGS/bootstrap.out"
  else
    (cd "$WORK" && "$AIRLOCK" "${args[@]}") >"$LOGS/bootstrap.out"
  fi
  OFFICE="$(sed -n 's/^API key (shown once): //p' "$LOGS/bootstrap.out")"
  [[ "$OFFICE" == alk_* ]] || die "db bootstrap printed no API key"
}

# start_airlock_serve NAME DB [VAR=VALUE...] [-- ARG...]: `airlock serve` on DB at a port of its
# choosing on 127.0.0.1, with the VARs in its environment and the ARGs after its own, output in
# $LOGS/NAME.out and .err. Waits up to 30 s for its "serving on" line; sets AIRLOCK_PID and
# AIRLOCK_URL (http://127.0.0.1:PORT).
start_airlock_serve() {
  local name="$1" db="$2" line=""; shift 2
  local vars=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do vars+=("$1"); shift; done
  [[ $# -eq 0 ]] || shift
  env "${vars[@]}" "$AIRLOCK" serve --database "$db" --host 127.0.0.1 --port 0 "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err" &
  AIRLOCK_PID=$!
  for _ in $(seq 300); do
    line="$(grep -m1 -o 'airlock: serving on http://[0-9.]*:[0-9]*' "$LOGS/$name.out" 2>/dev/null || true)"
    [[ -n "$line" ]] && break
    kill -0 "$AIRLOCK_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$line" ]] || { cat "$LOGS/$name.err" >&2; die "airlock serve did not start"; }
  # shellcheck disable=SC2034  # for the caller
  AIRLOCK_URL="${line#airlock: serving on }"
}

# ------------------------------------------------------------------ a program with a grant

# make_program_grant DB STUB: through a setup `airlock serve` on DB (bootstrapped already, see
# bootstrap_airlock, with AIRLOCK_CREDENTIALS_KEY exported), a developer whose model version has
# the OpenAI endpoint STUB, an evaluator with an approved and consented grant on it whose limits
# do not bind (raised in the store after the API made it within its ranges), and a grant key; the
# setup server is stopped again. Sets DEV_ORG, EVAL_ORG, DEV and EVAL (admins' session tokens),
# VERSION, GRANT, GRANT_KEY and LIMITS_SET_BY; defines al KEY ARGS... (the CLI with that key)
# and login EMAIL PASSWORD.
make_program_grant() {
  local db="$1" stub="$2"
  start_airlock_serve airlock-setup "$db"
  log "setting up the program store through $AIRLOCK_URL"
  export AIRLOCK_SERVER="$AIRLOCK_URL"
  al() { local key="$1"; shift; AIRLOCK_API_KEY="$key" "$AIRLOCK" "$@"; }
  login() { AIRLOCK_PASSWORD="$2" "$AIRLOCK" login --email "$1" | sed -n 's/^export AIRLOCK_API_KEY=//p'; }
  DEV_ORG="$(al "$OFFICE" org create "Bench Lab" --kind model_developer | jq -r .id)"
  EVAL_ORG="$(al "$OFFICE" org create "Bench Evaluator" --kind evaluator | jq -r .id)"
  printf '%s\n' 'developer-password-1' | al "$OFFICE" org add-user "$DEV_ORG" --email admin@lab.example \
    --name "Lab Admin" --role admin --password-stdin >/dev/null
  printf '%s\n' 'evaluator-password-1' | al "$OFFICE" org add-user "$EVAL_ORG" --email admin@eval.example \
    --name "Eval Admin" --role admin --password-stdin >/dev/null
  DEV="$(login admin@lab.example developer-password-1)"
  EVAL="$(login admin@eval.example evaluator-password-1)"
  printf '%s\n' "Bench Lab gives notice of each model before release." >"$WORK/terms.txt"
  al "$DEV" commitment create --terms-file "$WORK/terms.txt" --from "$(date -u +%F)" >/dev/null
  MODEL="$(al "$DEV" model create "Stub" --description "nginx returning a fixed completion" | jq -r .id)"
  export STUB_ENDPOINT_KEY="sk-stub-endpoint-key"
  al "$DEV" model notice "$MODEL" --version 1.0 --release "$(date -u -d '+100 days' +%F)" \
    --endpoint-url "$stub" --endpoint-model stub --credentials-env STUB_ENDPOINT_KEY >"$WORK/version.json"
  VERSION="$(jq -r .id "$WORK/version.json")"
  al "$OFFICE" model move "$VERSION" --to in_review >/dev/null
  # The grant starts at the first whole second after the notice (the CLI sends whole seconds).
  next_second() {
    "$PY" -c 'import sys, datetime as d
t = d.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).replace(microsecond=0) + d.timedelta(seconds=1)
print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))' "$1"
  }
  # Limits that do not bind: huge quota, rate and concurrency. The API keeps each within its
  # documented range (docs/server.md), narrower than this: the grant is made within the API's
  # ranges, then raised in the store before the measured server starts.
  QUOTA=1000000000000000 RPM=100000000 CONCURRENT=100000
  grant_args=(grant create --version "$VERSION" --grantee "$EVAL_ORG" --purpose capability_evaluation
    --from "$(next_second "$(jq -r .window_opens_at "$WORK/version.json")")" --until "$(jq -r .access_ends_by "$WORK/version.json")")
  GRANT="$(al "$OFFICE" "${grant_args[@]}" --tokens 1000000000 --rpm 100000 --concurrent 1000 2>"$LOGS/grant.err" | jq -r .id)"
  [[ "$GRANT" == grt_* ]] || { cat "$LOGS/grant.err" >&2; die "grant create failed"; }
  LIMITS_SET_BY="sqlite"
  al "$OFFICE" grant approve "$GRANT" >/dev/null
  al "$DEV" grant consent "$GRANT" >/dev/null
  GRANT_KEY="$(al "$EVAL" grant key "$GRANT" --name bench | jq -r .secret)"
  [[ "$GRANT_KEY" == alg_* ]] || die "no grant key"
  (umask 077; printf '%s\n' "$GRANT_KEY" >"$WORK/grant.key")  # for KEEP_WORK=1 sessions by hand
  unset AIRLOCK_SERVER
  stop_pid "$AIRLOCK_PID" TERM 30; AIRLOCK_PID=""
  sqlite3 "$db" "UPDATE grants SET requests_per_minute=$RPM, max_concurrent=$CONCURRENT, token_quota=$QUOTA WHERE id='$GRANT'"
  log "grant $GRANT: $(sqlite3 "$db" "SELECT 'rpm ' || requests_per_minute || ', concurrent ' || max_concurrent || ', quota ' || token_quota || ', tpm ' || ifnull(tokens_per_minute, 'none') FROM grants WHERE id='$GRANT'") (set via $LIMITS_SET_BY)"
}

# ------------------------------------------------------------------ ports and processes

# free_port: print a TCP port that is free on 127.0.0.1 now.
free_port() {
  "$PY" -c 'import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])'
}

# wait_port PORT SECONDS: until 127.0.0.1:PORT accepts a connection; status 1 after SECONDS.
wait_port() {
  "$PY" - "$1" "$2" <<'EOF'
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5):
            sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

# stop_pid PID SIGNAL SECONDS: send SIGNAL, wait up to SECONDS for the process to end, then KILL
# it and reap it. Nothing when PID is empty or already gone.
stop_pid() {
  local pid="$1" sig="$2" secs="$3"
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq $((secs * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# on_exit FUNCTION: run FUNCTION (which stops what the script started) when the script exits,
# also on Ctrl-C or TERM, which exit with status 130.
on_exit() {
  # shellcheck disable=SC2064  # FUNCTION's name, expanded now on purpose
  trap "$1" EXIT
  trap 'exit 130' INT TERM
}

# make_work: a fresh temporary folder WORK (/tmp/airlock-NAME-bench.*) and a fresh LOGS ($OUT/logs).
make_work() {
  mkdir -p "$OUT"
  WORK="$(mktemp -d "/tmp/airlock-$BENCH_NAME-bench.XXXXXX")"
  LOGS="$OUT/logs"
  rm -rf "$LOGS"
  mkdir -p "$LOGS"
}

# remove_work: delete WORK, or with KEEP_WORK=1 keep it and say where it is.
remove_work() {
  if [[ "$KEEP_WORK" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}

# ------------------------------------------------------------------ the nginx stub model

# One fixed OpenAI chat completion ("PONG", with usage) for the callers' LOCATIONS. No '$' or "'" in it.
# shellcheck disable=SC2034
STUB_COMPLETION='{"id":"chatcmpl-stub","object":"chat.completion","created":1700000000,"model":"stub","choices":[{"index":0,"message":{"role":"assistant","content":"PONG"},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}'
NGINX_PID="" NGINX_PORT=""

# start_nginx_stub DIR LOCATIONS [MAIN]: $NGINX (see find_nginx) in the foreground of a child,
# with its prefix, config, logs and temporary files in DIR (made afresh), $NGINX_WORKERS workers,
# no access log, keep-alive without a request limit, listening on a free port of 127.0.0.1.
# LOCATIONS: the server's location blocks (anything else answers 404 with an OpenAI-style
# error); MAIN: lines for the main context (load_module). Tries five ports; dies with nginx's
# error log when none works. Sets NGINX_PID and NGINX_PORT; stop_nginx stops it.
start_nginx_stub() {
  local dir="$1" locations="$2" main="${3:-}"
  rm -rf "$dir"
  mkdir -p "$dir/logs" "$dir/tmp"
  for _ in 1 2 3 4 5; do
    NGINX_PORT="$(free_port)"
    if nginx_stub_on "$dir" "$NGINX_PORT" "$locations" "$main"; then return 0; fi
    log "nginx failed to start on port $NGINX_PORT; retrying"
    NGINX_PORT=""
  done
  cat "$dir/logs/error.log" >&2 || true
  die "could not start nginx"
}

# nginx_stub_on DIR PORT LOCATIONS MAIN: one try of start_nginx_stub, on PORT.
nginx_stub_on() {
  local dir="$1" port="$2" locations="$3" main="$4"
  cat >"$dir/nginx.conf" <<EOF
# Generated by benchmarks/$BENCH_NAME/run.sh (benchmarks/lib.sh): stub OpenAI chat-completions server.
$main
worker_processes $NGINX_WORKERS;
worker_rlimit_nofile 16384;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  client_body_buffer_size 256k;
  client_max_body_size 16m;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  default_type application/json;
  server {
    listen 127.0.0.1:$port;
$locations
    location / {
      return 404 '{"error":{"message":"not found in stub","type":"invalid_request_error"}}';
    }
  }
}
EOF
  "$NGINX" -t -q -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" || return 1
  "$NGINX" -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf" &
  NGINX_PID=$!
  if ! wait_port "$port" 10; then stop_nginx; return 1; fi
  kill -0 "$NGINX_PID" 2>/dev/null
}

# stop_nginx: stop the stub gracefully (QUIT, up to 5 s), then KILL.
stop_nginx() { stop_pid "$NGINX_PID" QUIT 5; NGINX_PID=""; }
