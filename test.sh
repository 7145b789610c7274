#!/usr/bin/env bash
# Runs every test project (unit, broker integration with a real Kafka client) and ends with
# one plain summary line "N passed, N failed". Needs only the .NET 10 SDK; restores what it needs.
set -uo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log="$(mktemp)"
dotnet build Samsa.sln -c Release 2>&1 | tail -n 30
build_rc=${PIPESTATUS[0]}
if [ "$build_rc" -ne 0 ]; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
# Two phases: the single-node projects run in parallel (Samsa.NodeTests.slnf), then the cluster project on its own,
# because its tests start several real node processes each and must not compete with the others for CI's two cores.
total_passed=0; total_failed=0; rc_all=0
run_phase() {
  dotnet test "$@" -c Release --no-build 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local passed failed
  passed=$(grep -E '^\s+succeeded: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  failed=$(grep -E '^\s+failed: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  passed=${passed:-0}; failed=${failed:-0}
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
  total_passed=$((total_passed + passed)); total_failed=$((total_failed + failed))
  if [ "$rc" -ne 0 ]; then rc_all=$rc; fi
}
run_phase --solution Samsa.NodeTests.slnf
run_phase --project tests/Samsa.Cluster.Tests/Samsa.Cluster.Tests.csproj
rm -f "$log"
echo "$total_passed passed, $total_failed failed"
[ "$rc_all" -eq 0 ]
