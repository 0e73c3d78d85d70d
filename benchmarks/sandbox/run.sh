#!/usr/bin/env bash
# Sandbox benchmark: start-up, exec round trip and teardown latency of COUNT sandboxes, then the
# failure rate with IN_FLIGHT at once. Needs root; installs bubblewrap and iproute2 if missing.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
"$HERE/../../scripts/install-debian-packages.sh" bubblewrap iproute2 procps
cd "$HERE"
swift build -c release --product SandboxBenchmark
exec .build/release/SandboxBenchmark "${COUNT:-1000}" "${IN_FLIGHT:-16}"
