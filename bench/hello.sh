#!/usr/bin/env bash
# Hello world, carafe against uWSGI (--http11-socket), 1 process with the
# same threads, under the same wrk load; servers alternate, RUNS runs each,
# and the median requests/s of each is printed. The full side-by-side
# harness (make bench) comes with the benchmark issue; this is the quick
# check the foundation issue asks for.
#
#   bench/hello.sh [THREADS] [RUNS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-8} runs=${2:-3} secs=${3:-10}
app=bench/apps/hello
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)" >&2; exit 1; }
command -v uwsgi >/dev/null || { echo "bench: uwsgi is missing (apt-get install uwsgi uwsgi-plugin-python3)" >&2; exit 1; }
[ -x bin/carafe ] || { echo "bench: bin/carafe is missing (make build)" >&2; exit 1; }

start_server() { # name port
  case $1 in
    carafe) exec bin/carafe --http 127.0.0.1:$2 --chdir $app --module wsgi --threads "$threads" --disable-logging ;;
    uwsgi) exec uwsgi --plugin python3 --http11-socket 127.0.0.1:$2 --chdir $app --module wsgi \
             --threads "$threads" --processes 1 --disable-logging ;;
  esac >/tmp/bench-$1.log 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null http://127.0.0.1:$2/ && return 0
    sleep 0.1
  done
  echo "bench: $1 did not start; its log:" >&2; cat /tmp/bench-$1.log >&2; kill $pid; exit 1
}

declare -A results
port=18300
for run in $(seq "$runs"); do
  for server in carafe uwsgi; do
    port=$((port + 1))
    start_server $server $port
    wrk -t2 -c64 -d2s http://127.0.0.1:$port/ >/dev/null   # warm-up
    rps=$(wrk -t2 -c64 -d"${secs}s" http://127.0.0.1:$port/ | awk '/^Requests\/sec/ {print $2}')
    kill -INT $pid; wait $pid 2>/dev/null || true
    results[$server]+="$rps "
    echo "run $run $server: $rps req/s"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
c=$(echo "${results[carafe]}" | median) u=$(echo "${results[uwsgi]}" | median)
echo "median over $runs runs, wrk -t2 -c64 -d${secs}s, 1 process x $threads threads:"
echo "  carafe $c req/s, uwsgi $u req/s, ratio $(awk -v a="$c" -v b="$u" 'BEGIN {printf "%.2f", a/b}')"
