#!/usr/bin/env bash
# Throughput and end-to-end latency vs offered load: `samsa perf end-to-end` (acks=all, fsync group commit,
# linger 0) at a series of target rates against a Release `samsa server` in a temp dir, then a PNG plot with gnuplot.
#
# usage: bench/sweep.sh [--size 1024] [--seconds 5] [--rates "5000 10000 20000 40000 60000 80000"] [--out docs/benchmarks-latency.png]
#                       [--samsa-dir DIR (a published samsa, skips the build)]
set -euo pipefail
SIZE=1024; SECONDS_PER_POINT=5; RATES="5000 10000 20000 40000 60000 80000"; SAMSA_DIR=""
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/docs/benchmarks-latency.png"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --size) SIZE="$2"; shift 2 ;;
    --seconds) SECONDS_PER_POINT="$2"; shift 2 ;;
    --rates) RATES="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --samsa-dir) SAMSA_DIR="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
command -v gnuplot >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null
TMP="$(mktemp -d /tmp/samsa-sweep.XXXXXX)"
SERVER=""
trap '[[ -n "$SERVER" ]] && { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; }; rm -rf "$TMP"' EXIT INT TERM
if [[ -n "$SAMSA_DIR" ]]; then cp -r "$SAMSA_DIR" "$TMP/samsa"; else dotnet publish "$ROOT/src/Samsa" -c Release -o "$TMP/samsa" -v q -nologo >/dev/null; fi
port=$((20000 + RANDOM % 20000))
dotnet "$TMP/samsa/samsa.dll" server -o "listeners=PLAINTEXT://127.0.0.1:$port" -o "log.dirs=$TMP/data" \
  -o "http.listener=http://127.0.0.1:$((port + 1))" --log-level Warning >"$TMP/server.log" 2>&1 & SERVER=$!
for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
dotnet "$TMP/samsa/samsa.dll" perf end-to-end -b "127.0.0.1:$port" --topic warmup --duration 3 --record-size "$SIZE" --throughput 20000 -q --json >/dev/null
DATA="${OUT%.png}.tsv"
echo -e "# target\tachieved_rec_s\tp50_ms\tp99_ms\tp999_ms\tmax_ms" >"$DATA"
for rate in $RATES; do
  out=$(dotnet "$TMP/samsa/samsa.dll" perf end-to-end -b "127.0.0.1:$port" --topic "sweep-$rate" --duration "$SECONDS_PER_POINT" \
    --record-size "$SIZE" --throughput "$rate" --linger-ms 0 --acks all -q --json)
  echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); l=d['latencyMs']; print(f\"$rate\t{d['recordsPerSec']}\t{l['p50']}\t{l['p99']}\t{l['p99.9']}\t{l['max']}\")" | tee -a "$DATA"
done
gnuplot <<EOF
set terminal pngcairo size 900,520 noenhanced
set output "$OUT"
set title "samsa perf end-to-end: ${SIZE} B, acks=all+fsync, linger 0, 1 partition, 2-core VM"
set xlabel "offered load (records/s)"
set ylabel "latency produce -> consume (ms)"
set y2label "achieved (records/s)"
set logscale y
set ytics nomirror
set y2tics
set key top left
set grid
plot "$DATA" using 1:3 with linespoints title "p50", \
     "$DATA" using 1:4 with linespoints title "p99", \
     "$DATA" using 1:5 with linespoints title "p99.9", \
     "$DATA" using 1:2 axes x1y2 with linespoints dashtype 2 title "achieved records/s (right)"
EOF
echo "wrote $OUT and $DATA" >&2
