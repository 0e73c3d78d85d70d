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
# PYTHON [python3] and AIRLOCK: read by lib.sh.
# shellcheck source=SCRIPTDIR/../lib.sh
source "$ROOT/benchmarks/lib.sh"

MAX_LIMIT=0
for l in ${LIMITS//,/ }; do
  [[ "$l" =~ ^[0-9]+$ && "$l" -ge 1 && "$l" -le 1000 ]] || die "LIMITS must be page sizes from 1 to 1000, not '$l'"
  (( l > MAX_LIMIT )) && MAX_LIMIT="$l"
done

# ------------------------------------------------------------------ installs

want_python
want_venv
apt_install "${PKGS[@]}"
ensure_venv "$VENV" "the medallion" medallion "" "medallion==$MEDALLION_VERSION" "taxii2-client==$TAXII2_CLIENT_VERSION"
BENCH=("$VENV/bin/python" "$HERE/bench.py")

build_airlock ""  # no way to run without Airlock: no hint

# ------------------------------------------------------------------ processes

make_work
RUNS="$OUT/runs.jsonl"
: >"$RUNS"
MEDALLION_PID="" AIRLOCK_PID=""

cleanup() {
  stop_pid "$MEDALLION_PID" TERM 30; MEDALLION_PID=""
  stop_pid "$AIRLOCK_PID" TERM 30; AIRLOCK_PID=""
  remove_work
}
on_exit cleanup

log "generating $COUNT STIX objects"
"${BENCH[@]}" generate "$COUNT" "$WORK/objects.json"

# ------------------------------------------------------------------ medallion

MEDALLION_COLLECTION="91a7b528-80eb-42ed-a74d-c6fbd5a26116"
"${BENCH[@]}" medallion-data "$WORK/objects.json" "$WORK/medallion-data.json" "$MEDALLION_COLLECTION"
MEDALLION_PORT="$(free_port)"
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
bootstrap_airlock "$DB"
start_airlock_serve airlock "$DB" AIRLOCK_LOG_LEVEL=warning
PUBLIC_ID="$("$VENV/bin/python" - "$AIRLOCK_URL" "$OFFICE" <<'EOF'
import sys
from taxii2client.v21 import Server
root = Server(sys.argv[1] + "/taxii2/", user="office", password=sys.argv[2]).default
print(next(c.id for c in root.collections if c.alias == "public"))
EOF
)"
AIRLOCK_COLLECTION="$AIRLOCK_URL/taxii2/airlock/collections/$PUBLIC_ID/"
log "loading $COUNT objects into Airlock's public collection through TAXII POST, $BATCH a request"
load_start="$(date +%s.%N)"
"${BENCH[@]}" load "${AIRLOCK_COLLECTION}objects/" office "$OFFICE" "$WORK/objects.json" "$BATCH" || die "loading Airlock failed"
LOAD_SECONDS="$(awk -v s="$load_start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')"
log "loaded in $LOAD_SECONDS s"

# ------------------------------------------------------------------ measurements

for limit in ${LIMITS//,/ }; do
  for server in airlock medallion; do
    if [[ "$server" == medallion ]]; then
      has "$MEDALLION_LIMITS" "$limit" || continue
      url="$MEDALLION_URL" user=bench password=bench-password repeat="$MEDALLION_REPEAT"
    else
      url="$AIRLOCK_COLLECTION" user=office password="$OFFICE" repeat="$REPEAT"
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

stop_pid "$AIRLOCK_PID" TERM 30; AIRLOCK_PID=""
stop_pid "$MEDALLION_PID" TERM 30; MEDALLION_PID=""
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
