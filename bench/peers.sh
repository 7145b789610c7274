#!/usr/bin/env bash
# Samsa side by side with Redis Streams and NATS JetStream on this machine, plus the physical limits
# (iperf3 loopback bandwidth, fio sequential writes with fdatasync). One run, one table.
#
# Workload, for each record size (default 1 KiB and 100 B): one producer writes N records with durable
# acknowledgement, then one consumer reads all of them back.
#   Samsa : `samsa perf produce --acks all` (acks=all is answered after the group-commit fsync), `samsa perf consume`
#           (Confluent.Kafka / librdkafka).
#   Redis : Streams (XADD / XRANGE 1000 at a time), appendonly yes + appendfsync always (fsync before replying),
#           StackExchange.Redis with a window of 1000 pipelined XADDs (bench/Samsa.PeerBench).
#   NATS  : JetStream, file storage, publish with PubAck, window of 1000 outstanding publishes; ordered consumer
#           (NATS.Net, bench/Samsa.PeerBench). NOTE: nats-server 2.9 (Debian 12) has no per-message fsync
#           (sync_interval=always came in 2.10): a PubAck means "written to the OS", not "on disk".
# Each system gets its own port and temp data dir; everything is killed and removed on exit.
#
# usage: bench/peers.sh [--records N] [--sizes "1024 100"] [--out FILE] [--samsa-dir DIR (a published samsa, skips the build)]
set -euo pipefail

RECORDS=1000000
SIZES="1024 100"
OUT=""
SAMSA_DIR=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --records) RECORDS="$2"; shift 2 ;;
    --sizes) SIZES="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --samsa-dir) SAMSA_DIR="$2"; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d /tmp/samsa-peers.XXXXXX)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
log() { echo "peers: $*" >&2; }

# --- tools ------------------------------------------------------------------------------------------------------
declare -A UNAVAILABLE=()
need() { # need <command> <debian package>
  command -v "$1" >/dev/null 2>&1 && return 0
  if [[ -z "${APT_UPDATED:-}" ]]; then apt-get update -qq >/dev/null 2>&1 || true; APT_UPDATED=1; fi
  if apt-cache policy "$2" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    log "installing $2"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 || true
  fi
  command -v "$1" >/dev/null 2>&1 || { UNAVAILABLE[$1]=1; log "$2 is not available: its column is marked n/a"; }
}
need redis-server redis-server
need nats-server nats-server
need iperf3 iperf3
need fio fio
need python3 python3

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}
wait_port() {
  for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  log "nothing listening on $1"; return 1
}
json() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print(eval(sys.argv[1], {}, {'d': d}))" "$1"; }

# --- builds -----------------------------------------------------------------------------------------------------
log "building samsa (Release) and the peer client"
if [[ -n "$SAMSA_DIR" ]]; then cp -r "$SAMSA_DIR" "$TMP/samsa"; else
  dotnet publish "$ROOT/src/Samsa" -c Release -o "$TMP/samsa" -v q -nologo >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; exit 1; }
fi
dotnet publish "$ROOT/bench/Samsa.PeerBench" -c Release -o "$TMP/peer" -v q -nologo >>"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; exit 1; }
SAMSA=(dotnet "$TMP/samsa/samsa.dll")
PEER=(dotnet "$TMP/peer/Samsa.PeerBench.dll")

declare -A R=() # R[system,phase,size]=records/s ; M[...]=MB/s
declare -A M=()
record() { R[$1,$2,$3]="$(echo "$4" | json 'd["recordsPerSec"]')"; M[$1,$2,$3]="$(echo "$4" | json 'd["mbPerSec"]')"; }

# --- physical limits --------------------------------------------------------------------------------------------
if [[ -z "${UNAVAILABLE[iperf3]:-}" ]]; then
  port=$(free_port)
  iperf3 -s -p "$port" >/dev/null 2>&1 & PIDS+=($!)
  sleep 1 # (a probe connection would count as iperf3's test client)
  IPERF=$(iperf3 -c 127.0.0.1 -p "$port" -t 5 -J | json 'round(d["end"]["sum_received"]["bits_per_second"]/8/1048576)')
  log "iperf3 loopback: $IPERF MB/s"
fi
if [[ -z "${UNAVAILABLE[fio]:-}" ]]; then
  FIO=$(fio --name=seq --filename="$TMP/fio.dat" --rw=write --bs=1m --size=512m --ioengine=sync --fdatasync=1 \
    --output-format=json | json 'round(d["jobs"][0]["write"]["bw_bytes"]/1048576)')
  FIO4K=$(fio --name=seq4k --filename="$TMP/fio4k.dat" --rw=write --bs=4k --size=64m --runtime=10 --ioengine=sync --fdatasync=1 \
    --output-format=json | json 'round(d["jobs"][0]["write"]["iops"])')
  rm -f "$TMP"/fio*.dat
  log "fio sequential write, fdatasync per 1 MiB: $FIO MB/s; per 4 KiB: $FIO4K fdatasyncs/s"
fi

# --- Samsa ------------------------------------------------------------------------------------------------------
port=$(free_port); http=$(free_port)
"${SAMSA[@]}" server -o "listeners=PLAINTEXT://127.0.0.1:$port" -o "log.dirs=$TMP/samsa-data" \
  -o "http.listener=http://127.0.0.1:$http" --log-level Warning >"$TMP/samsa.log" 2>&1 & SAMSA_PID=$!; PIDS+=($SAMSA_PID)
wait_port "$port"
for size in $SIZES; do
  log "samsa: produce $RECORDS x $size B (acks=all)"
  out=$("${SAMSA[@]}" perf produce -b "127.0.0.1:$port" --topic "perf-$size" --records "$RECORDS" --record-size "$size" --acks all --json -q)
  record samsa produce "$size" "$out"
  log "samsa: consume"
  out=$("${SAMSA[@]}" perf consume -b "127.0.0.1:$port" --topic "perf-$size" --records "$RECORDS" --json -q)
  record samsa consume "$size" "$out"
done
SAMSA_RSS_MB=$(( $(awk '/VmHWM/ {print $2}' "/proc/$SAMSA_PID/status") / 1024 ))
kill "$SAMSA_PID"; wait "$SAMSA_PID" 2>/dev/null || true; rm -rf "$TMP/samsa-data"

# --- Redis Streams ----------------------------------------------------------------------------------------------
if [[ -z "${UNAVAILABLE[redis-server]:-}" ]]; then
  port=$(free_port); mkdir -p "$TMP/redis"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$TMP/redis" --appendonly yes --appendfsync always --save "" \
    --daemonize no --logfile "$TMP/redis.log" & REDIS_PID=$!; PIDS+=($REDIS_PID)
  wait_port "$port"
  for size in $SIZES; do
    log "redis: produce $RECORDS x $size B (appendfsync always)"
    record redis produce "$size" "$("${PEER[@]}" redis produce "127.0.0.1:$port" "$RECORDS" "$size")"
    log "redis: consume"
    record redis consume "$size" "$("${PEER[@]}" redis consume "127.0.0.1:$port" "$RECORDS" "$size")"
  done
  kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; rm -rf "$TMP/redis"
fi

# --- NATS JetStream ---------------------------------------------------------------------------------------------
if [[ -z "${UNAVAILABLE[nats-server]:-}" ]]; then
  port=$(free_port); mkdir -p "$TMP/nats"
  nats-server -js -sd "$TMP/nats" -a 127.0.0.1 -p "$port" >"$TMP/nats.log" 2>&1 & NATS_PID=$!; PIDS+=($NATS_PID)
  wait_port "$port"
  for size in $SIZES; do
    log "nats: produce $RECORDS x $size B (JetStream file storage, PubAck)"
    record nats produce "$size" "$("${PEER[@]}" nats produce "127.0.0.1:$port" "$RECORDS" "$size")"
    log "nats: consume"
    record nats consume "$size" "$("${PEER[@]}" nats consume "127.0.0.1:$port" "$RECORDS" "$size")"
  done
  kill "$NATS_PID"; wait "$NATS_PID" 2>/dev/null || true; rm -rf "$TMP/nats"
fi

# --- table ------------------------------------------------------------------------------------------------------
cell() { local r="${R[$1,$2,$3]:-}"; [[ -z "$r" ]] && { echo "n/a"; return; }; printf "%.0f rec/s (%.1f MB/s)" "$r" "${M[$1,$2,$3]}"; }
ratio() { local a="${R[samsa,$1,$2]:-}" b="${R[$3,$1,$2]:-}"; [[ -z "$a" || -z "$b" ]] && { echo "n/a"; return; }; python3 -c "print(f'{$a/$b:.2f}x')"; }
limit_ratio() {
  local mb="${M[samsa,$1,$2]:-}" lim
  if [[ $1 == produce ]]; then lim="${FIO:-}"; else lim="${IPERF:-}"; fi
  [[ -z "$mb" || -z "$lim" ]] && { echo "n/a"; return; }
  python3 -c "print(f'{$mb/$lim*100:.1f}% of {$lim:.0f} MB/s')"
}
{
  echo "Records: $RECORDS per run; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ); samsa $(git -C "$ROOT" rev-parse --short HEAD)"
  echo "Limits: iperf3 loopback ${IPERF:-n/a} MB/s; fio seq write + fdatasync per 1 MiB ${FIO:-n/a} MB/s, per 4 KiB ${FIO4K:-n/a} fdatasync/s"
  echo "Samsa broker peak RSS: ${SAMSA_RSS_MB} MB"
  echo
  echo "| workload | Samsa | Redis Streams (fsync always) | NATS JetStream (file) | Samsa/Redis | Samsa/NATS | Samsa/limit |"
  echo "|---|---|---|---|---|---|---|"
  for size in $SIZES; do
    for phase in produce consume; do
      echo "| $phase $size B | $(cell samsa $phase $size) | $(cell redis $phase $size) | $(cell nats $phase $size) |" \
        "$(ratio $phase $size redis) | $(ratio $phase $size nats) | $(limit_ratio $phase $size) |"
    done
  done
} | tee "${OUT:-/dev/null}"
