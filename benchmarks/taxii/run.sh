#!/usr/bin/env bash
# TAXII benchmark: the same 10,000 STIX 2.1 objects served by Airlock's TAXII 2.1 server
# (`airlock serve`, release build, SQLite) and by OASIS's reference server medallion 3.0.0
# (memory backend), paged through with the same client (taxii2-client 2.3.0): objects per
# second and page latency, side by side. See benchmarks/taxii/README.md.
#
#   benchmarks/taxii/run.sh
#   COUNT=2000 REPEAT=2 benchmarks/taxii/run.sh
#
# Environment overrides (defaults in brackets):
#   COUNT [10000]          STIX objects in the collection
#   REPEAT [3]             Airlock's full passes through the collection per page size
#   LIMITS [100,1000]      page sizes (`limit`); medallion's max_page_size is set to the largest
#   MEDALLION_REPEAT [1]   medallion's passes per page size
#   MEDALLION_LIMITS [100] the page sizes medallion is measured at: its memory backend matches
#                          every manifest entry against every object on a first page (quadratic),
#                          about 7 minutes a pass at 10,000 objects on 2 cores
#   BATCH [1000]           objects per POST when loading Airlock
#   MEDALLION_VERSION [3.0.0]  TAXII2_CLIENT_VERSION [2.3.0]
#   AIRLOCK [<repo>/.build-release/release/airlock]  built with swift if missing
#   BENCH_OUT [benchmarks/taxii/out]  where results and logs go
#   KEEP_WORK [0]          1: keep the temporary folder (data files, database, logs)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${BENCH_OUT:-$HERE/out}"
VENV="$HERE/.venv-medallion"

COUNT="${COUNT:-10000}"
REPEAT="${REPEAT:-3}"
LIMITS="${LIMITS:-100,1000}"
MEDALLION_REPEAT="${MEDALLION_REPEAT:-1}"
MEDALLION_LIMITS="${MEDALLION_LIMITS:-100}"
BATCH="${BATCH:-1000}"
MEDALLION_VERSION="${MEDALLION_VERSION:-3.0.0}"
TAXII2_CLIENT_VERSION="${TAXII2_CLIENT_VERSION:-2.3.0}"
KEEP_WORK="${KEEP_WORK:-0}"
AIRLOCK_SET_BY_USER=0
if [[ -n "${AIRLOCK:-}" ]]; then AIRLOCK_SET_BY_USER=1; fi
AIRLOCK="${AIRLOCK:-$ROOT/.build-release/release/airlock}"
PY="${PYTHON:-python3}"

log() { printf '[taxii-bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

MAX_LIMIT=0
for l in ${LIMITS//,/ }; do
  [[ "$l" =~ ^[0-9]+$ && "$l" -ge 1 && "$l" -le 1000 ]] || die "LIMITS must be page sizes from 1 to 1000, not '$l'"
  (( l > MAX_LIMIT )) && MAX_LIMIT="$l"
done

# ------------------------------------------------------------------ installs

if ! command -v "$PY" >/dev/null || ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
  SUDO=()
  if [[ "$(id -u)" -ne 0 ]]; then SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
fi
venv_ok() {
  [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" - "$MEDALLION_VERSION" "$TAXII2_CLIENT_VERSION" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
assert version("medallion") == sys.argv[1], version("medallion")
assert version("taxii2-client") == sys.argv[2], version("taxii2-client")
EOF
}
if ! venv_ok; then
  log "creating $VENV with medallion==$MEDALLION_VERSION taxii2-client==$TAXII2_CLIENT_VERSION"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "medallion==$MEDALLION_VERSION" "taxii2-client==$TAXII2_CLIENT_VERSION"
  venv_ok || die "the medallion venv is not usable"
fi
BENCH=("$VENV/bin/python" "$HERE/bench.py")

if [[ ! -x "$AIRLOCK" ]]; then
  [[ "$AIRLOCK_SET_BY_USER" -eq 0 ]] || die "AIRLOCK=$AIRLOCK is not an executable"
  command -v swift >/dev/null || die "no Airlock binary at $AIRLOCK and no swift to build it"
  log "building Airlock: swift build -c release --product airlock --scratch-path .build-release"
  (cd "$ROOT" && swift build -c release --product airlock --scratch-path .build-release)
  [[ -x "$AIRLOCK" ]] || die "build finished but $AIRLOCK is missing"
fi

# ------------------------------------------------------------------ processes

mkdir -p "$OUT"
WORK="$(mktemp -d /tmp/airlock-taxii-bench.XXXXXX)"
LOGS="$OUT/logs"
rm -rf "$LOGS"
mkdir -p "$LOGS"
RUNS="$OUT/runs.jsonl"
: >"$RUNS"
MEDALLION_PID="" AIRLOCK_PID=""

stop_pid() {  # stop_pid PID: TERM, wait up to 30 s, then KILL
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$MEDALLION_PID"; MEDALLION_PID=""
  stop_pid "$AIRLOCK_PID"; AIRLOCK_PID=""
  if [[ "$KEEP_WORK" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "generating $COUNT STIX objects"
"${BENCH[@]}" generate "$COUNT" "$WORK/objects.json"

# ------------------------------------------------------------------ medallion

MEDALLION_COLLECTION="91a7b528-80eb-42ed-a74d-c6fbd5a26116"
"${BENCH[@]}" medallion-data "$WORK/objects.json" "$WORK/medallion-data.json" "$MEDALLION_COLLECTION"
MEDALLION_PORT="$("${BENCH[@]}" free-port)"
cat >"$WORK/medallion.json" <<EOF
{
  "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
              "filename": "$WORK/medallion-data.json"},
  "users": {"bench": "bench-password"},
  "taxii": {"max_page_size": $MAX_LIMIT}
}
EOF
log "starting medallion $MEDALLION_VERSION on 127.0.0.1:$MEDALLION_PORT (memory backend, max_page_size $MAX_LIMIT)"
"$VENV/bin/medallion" --host 127.0.0.1 --port "$MEDALLION_PORT" "$WORK/medallion.json" \
  >"$LOGS/medallion.out" 2>"$LOGS/medallion.err" &
MEDALLION_PID=$!
started=0
for _ in $(seq 120); do
  kill -0 "$MEDALLION_PID" 2>/dev/null || break
  if "${BENCH[@]}" wait-url "http://127.0.0.1:$MEDALLION_PORT/taxii2/" 0.5; then started=1; break; fi
done
[[ "$started" == 1 ]] || { tail -n 30 "$LOGS/medallion.err" >&2; die "medallion did not start"; }
MEDALLION_URL="http://127.0.0.1:$MEDALLION_PORT/api1/collections/$MEDALLION_COLLECTION/"

# ------------------------------------------------------------------ Airlock

DB="$WORK/airlock.db"
unset AIRLOCK_DATABASE_URL AIRLOCK_API_KEY AIRLOCK_SERVER AIRLOCK_PASSWORD
(cd "$WORK" && "$AIRLOCK" db bootstrap --database "$DB" --organisation "Program Office" --email office@bench.example \
  --name "Office Admin") >"$LOGS/bootstrap.out"
OFFICE="$(sed -n 's/^API key (shown once): //p' "$LOGS/bootstrap.out")"
[[ "$OFFICE" == alk_* ]] || die "db bootstrap printed no API key"
AIRLOCK_LOG_LEVEL=warning "$AIRLOCK" serve --database "$DB" --host 127.0.0.1 --port 0 >"$LOGS/airlock.out" 2>"$LOGS/airlock.err" &
AIRLOCK_PID=$!
line=""
for _ in $(seq 300); do
  line="$(grep -m1 -o 'airlock: serving on http://[0-9.]*:[0-9]*' "$LOGS/airlock.out" 2>/dev/null || true)"
  [[ -n "$line" ]] && break
  kill -0 "$AIRLOCK_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$line" ]] || { cat "$LOGS/airlock.err" >&2; die "airlock serve did not start"; }
AIRLOCK_BASE="${line#airlock: serving on }"
PUBLIC_ID="$("$VENV/bin/python" - "$AIRLOCK_BASE" "$OFFICE" <<'EOF'
import sys
from taxii2client.v21 import Server
root = Server(sys.argv[1] + "/taxii2/", user="office", password=sys.argv[2]).default
print(next(c.id for c in root.collections if c.alias == "public"))
EOF
)"
AIRLOCK_URL="$AIRLOCK_BASE/taxii2/airlock/collections/$PUBLIC_ID/"
log "loading $COUNT objects into Airlock's public collection through TAXII POST, $BATCH a request"
load_start="$(date +%s.%N)"
"${BENCH[@]}" load "${AIRLOCK_URL}objects/" office "$OFFICE" "$WORK/objects.json" "$BATCH" || die "loading Airlock failed"
LOAD_SECONDS="$(awk -v s="$load_start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')"
log "loaded in $LOAD_SECONDS s"

# ------------------------------------------------------------------ measurements

for limit in ${LIMITS//,/ }; do
  for server in airlock medallion; do
    if [[ "$server" == medallion ]]; then
      [[ ",$MEDALLION_LIMITS," == *",$limit,"* ]] || continue
      url="$MEDALLION_URL" user=bench password=bench-password repeat="$MEDALLION_REPEAT"
    else
      url="$AIRLOCK_URL" user=office password="$OFFICE" repeat="$REPEAT"
    fi
    log "$server: paging through $COUNT objects, limit $limit, $repeat passes"
    "${BENCH[@]}" page "$server" "$url" "$user" "$password" "$limit" "$repeat" "$COUNT" >>"$RUNS" \
      || die "$server failed (logs in $LOGS)"
    tail -n "$repeat" "$RUNS" | "$VENV/bin/python" -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print("[taxii-bench]   run %d: %d pages, %.2f s, %.0f objects/s" % (r["run"], r["pages"], r["seconds"], r["objects_per_second"]), file=sys.stderr)'
  done
done

# ------------------------------------------------------------------ wrap-up

stop_pid "$AIRLOCK_PID"; AIRLOCK_PID=""
stop_pid "$MEDALLION_PID"; MEDALLION_PID=""
env M_DATE="$(date -u +%FT%TZ)" M_AIRLOCK="$("$AIRLOCK" --version 2>/dev/null | head -n1 || true)" \
  "$VENV/bin/python" - "$OUT/meta.json" "$COUNT" "$REPEAT" "$LIMITS" "$BATCH" "$MEDALLION_VERSION" "$TAXII2_CLIENT_VERSION" \
    "$MEDALLION_REPEAT" "$MEDALLION_LIMITS" "$LOAD_SECONDS" <<'EOF'
import json, os, platform, sys
path, count, repeat, limits, batch, medallion, client, m_repeat, m_limits, load_seconds = sys.argv[1:]
json.dump({
    "date": os.environ["M_DATE"], "cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
    "airlock": os.environ["M_AIRLOCK"] or None, "medallion": medallion, "taxii2_client": client, "objects": int(count),
    "airlock_repeat": int(repeat), "limits": [int(x) for x in limits.split(",")],
    "medallion_repeat": int(m_repeat), "medallion_limits": [int(x) for x in m_limits.split(",")],
    "airlock_load_batch": int(batch), "airlock_load_seconds": float(load_seconds),
}, open(path, "w"), indent=2)
EOF
"${BENCH[@]}" report "$RUNS" "$OUT/results.json"
log "raw figures: $OUT/runs.jsonl, $OUT/results.json, $OUT/meta.json; logs: $LOGS"
