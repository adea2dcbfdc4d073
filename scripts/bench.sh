#!/bin/sh
# Benchmarks agcurl against curl, side by side, on the bundled local API:
#  (a) wall time of N sequential small authorized GETs with a cached token
#      (agcurl fetch vs curl -H "Authorization: Bearer ..." vs a bare Go
#      client, the floor for any Go binary);
#  (b) a 1 GiB download: throughput and peak RSS;
#  (c) a 1 GiB upload (agcurl --data-binary @file vs curl -T file): peak RSS.
# Prints the figures and ratios to curl; with -o FILE also writes them as
# Markdown. Needs curl and GNU time (/usr/bin/time).
set -eu
cd "$(dirname "$0")/.."
N=${N:-200}
SIZE=${SIZE:-1073741824}
md=""
[ "${1:-}" = "-o" ] && md=$2

for tool in curl /usr/bin/time; do
  command -v $tool >/dev/null 2>&1 || { echo "bench needs $tool (apt-get install curl time)" >&2; exit 1; }
done

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM

go build -o "$work/agcurl" .
go build -o "$work/devserver" ./internal/cmd/devserver
go build -o "$work/testbrowser" ./internal/cmd/testbrowser
go build -o "$work/barego" ./internal/cmd/barego
# With two or more cores, the server gets core 0 and the clients core 1, so
# that they do not take turns on one core: single runs are far less noisy.
server_cpu="" client_cpu=""
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  server_cpu="taskset -c 0" client_cpu="taskset -c 1"
fi
$server_cpu "$work/devserver" -env-file "$work/env" >"$work/devserver.log" 2>&1 &
pid=$!
while [ ! -s "$work/env" ]; do sleep 0.1; done
. "$work/env"
export AGCURL_CONFIG_DIR="$work/config" AGCURL_STORAGE=file BROWSER="$work/testbrowser"
"$work/agcurl" configure --endpoint "$ISSUER" --client-id "$CLIENT_ID" 2>/dev/null
"$work/agcurl" login --browser --port 0 2>/dev/null
TOKEN=$("$work/agcurl" token)
export TOKEN
URL="$API/v1/me"

now() { date +%s%N; }
loop() { # loop NAME CMD...: run CMD N times, print ms per call
  name=$1; shift
  $client_cpu "$@" >/dev/null # warm up
  t0=$(now)
  i=0
  while [ $i -lt "$N" ]; do $client_cpu "$@" >/dev/null; i=$((i + 1)); done
  t1=$(now)
  echo $(( (t1 - t0) / N / 1000 ))
}
per_curl=$(loop curl curl -s -H "Authorization: Bearer $TOKEN" "$URL")
per_agcurl=$(loop agcurl "$work/agcurl" fetch -s "$URL")
per_bare=$(loop barego "$work/barego" "$URL")
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

dl() { # dl CMD...: "seconds maxrss_kib", the fastest of 5 runs
  for run in 1 2 3 4 5; do
    t0=$(now)
    $client_cpu /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null
    t1=$(now)
    echo "$(awk "BEGIN { printf \"%.4f\", ($t1 - $t0) / 1e9 }") $(cat "$work/rss")" > "$work/time.$run"
  done
  sort -n "$work"/time.? | head -1
}
BIG="$API/v1/bytes?n=$SIZE"
set -- $(dl curl -s -H "Authorization: Bearer $TOKEN" -o /dev/null "$BIG"); dl_curl_s=$1; dl_curl_rss=$2
set -- $(dl "$work/agcurl" fetch -s -o /dev/null "$BIG"); dl_ag_s=$1; dl_ag_rss=$2

head -c "$SIZE" /dev/zero > "$work/upload.bin"
set -- $(dl curl -s -H "Authorization: Bearer $TOKEN" -T "$work/upload.bin" -o /dev/null "$API/v1/echo"); up_curl_s=$1; up_curl_rss=$2
set -- $(dl "$work/agcurl" fetch -s --data-binary @"$work/upload.bin" -o /dev/null "$API/v1/echo"); up_ag_s=$1; up_ag_rss=$2
rm -f "$work/upload.bin"

mib() { awk "BEGIN { printf \"%.1f\", $1 / 1024 }"; }
tput() { awk "BEGIN { printf \"%.0f\", $SIZE / 1048576 / $1 }"; }
label=$(awk "BEGIN { s = $SIZE / 1048576; if (s >= 1024) printf \"%g GiB\", s / 1024; else printf \"%g MiB\", s }")
report=$(cat <<EOT
| measure | curl | agcurl | bare Go client | agcurl / curl |
|---|---|---|---|---|
| $N sequential authorized GETs, per call | ${per_curl} µs | ${per_agcurl} µs | ${per_bare} µs | $(ratio "$per_agcurl" "$per_curl") |
| $label download, throughput | $(tput "$dl_curl_s") MiB/s | $(tput "$dl_ag_s") MiB/s | | $(ratio "$dl_curl_s" "$dl_ag_s") |
| $label download, peak RSS | $(mib "$dl_curl_rss") MiB | $(mib "$dl_ag_rss") MiB | | |
| $label upload (curl -T, agcurl --data-binary @file), throughput | $(tput "$up_curl_s") MiB/s | $(tput "$up_ag_s") MiB/s | | $(ratio "$up_curl_s" "$up_ag_s") |
| $label upload, peak RSS | $(mib "$up_curl_rss") MiB | $(mib "$up_ag_rss") MiB | | |
EOT
)
echo "$report"
if [ -n "$md" ]; then
  {
    echo "# Benchmarks"
    echo
    echo "agcurl and curl side by side against the bundled local API (\`internal/testop\`), which"
    echo "checks every token by introspection at the bundled provider, for both tools alike."
    echo "\"bare Go client\" is \`internal/cmd/barego\`: a Go program that only GETs one URL with a"
    echo "bearer token, the floor for any Go binary. agcurl's per-call figure includes reading the"
    echo "profile and the cached session (no network call but the request: no discovery, no refresh)."
    echo "The server runs on core 0 and the clients on core 1 (taskset). Transfers take the fastest"
    echo "of five runs; peak RSS is GNU time's maximum resident set size."
    echo
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -sm), $(curl --version | head -1 | cut -d' ' -f1-2), $(go version | cut -d' ' -f3)."
    echo
    echo "$report"
    echo
    echo "Produced by \`make bench\` (scripts/bench.sh, N=$N, SIZE=$SIZE), which rewrites this file."
  } > "$md"
fi
