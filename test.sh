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
dotnet test --solution Samsa.sln -c Release --no-build 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(grep -E '^\s+succeeded: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -E '^\s+failed: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
passed=${passed:-0}; failed=${failed:-0}
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ]
