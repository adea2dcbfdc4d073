#!/usr/bin/env bash
# Benchmarks agcurl against curl, side by side, on the bundled local API:
#  (a) small authorized GETs, one process per call, interleaved round by
#      round: curl -H "Authorization: Bearer ...", agcurl fetch with the
#      session in a file, agcurl fetch with the session in the OS keyring
#      (a real gnome-keyring in a private D-Bus session) as on a desktop
#      (with $XDG_RUNTIME_DIR, so the access token is cached) and with every
#      call reading the keyring (without), and a bare Go client, the floor
#      for any Go binary; medians and their ratios;
#  (b) 20 agcurl fetches in parallel with an expired access token (one
#      process refreshes, the others wait for it) against 20 with a valid
#      one: wall time;
#  (c) requests through `agcurl proxy` against direct ones, when
#      scripts/bench-proxy.sh and the proxy command exist: it runs with
#      AGCURL (the agcurl binary), AGCURL_CONFIG_DIR (a profile logged in,
#      file storage), ISSUER, API (the local API's base URL), TOKEN (a valid
#      access token) and CLIENT_CPU (a taskset prefix, or empty) in its
#      environment, and prints a Markdown section;
#  (d) a 1 GiB download: throughput and peak RSS;
#  (e) a 1 GiB upload (agcurl --data-binary @file vs curl -T file).
# Prints the figures; with -o FILE also writes them as Markdown. Needs bash,
# curl and GNU time (/usr/bin/time); the keyring column needs
# dbus-run-session and gnome-keyring-daemon (apt-get install dbus
# gnome-keyring), and is left out without them.
#
# N (rounds of (a), default 200), SIZE (bytes of (d) and (e)), PAR (the
# parallel fetches of (b), default 20) and BASELINE (the path of another
# agcurl build, e.g. an older release: adds its keyring figures to (a))
# can be set in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

# The keyring column runs in a D-Bus session of its own with an unlocked
# gnome-keyring, never the desktop's: start one around this script.
if [ -z "${AGCURL_BENCH_KEYRING:-}" ]; then
  if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
    AGCURL_BENCH_KEYRING=1 exec dbus-run-session -- scripts/with-keyring.sh "$0" "$@" \
      2> >(grep -v 'Failed to set fd limit\|Activating service\|Successfully activated\|^GNOME_KEYRING_CONTROL=' >&2)
  fi
  AGCURL_BENCH_KEYRING=0
fi

N=${N:-200}
SIZE=${SIZE:-1073741824}
PAR=${PAR:-20}
BASELINE=${BASELINE:-}
md=""
[ "${1:-}" = "-o" ] && md=$2
[ -n "$md" ] && case $md in /*) ;; *) md=$PWD/$md ;; esac

for tool in curl /usr/bin/time; do
  command -v $tool >/dev/null 2>&1 || { echo "bench needs $tool (apt-get install curl time)" >&2; exit 1; }
done

load() { [ -r /proc/loadavg ] && cut -d' ' -f1 /proc/loadavg || echo "?"; }
load_start=$(load)
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
export BROWSER="$work/testbrowser"
# A runtime directory of the benchmark's own, as a desktop's $XDG_RUNTIME_DIR.
mkdir -m 700 "$work/run"
export XDG_RUNTIME_DIR="$work/run"
unset AGCURL_STORAGE AGCURL_PROFILE AGCURL_ACCESS_TOKEN AGCURL_REFRESH_TOKEN AGCURL_ENDPOINT AGCURL_CLIENT_ID
file_dir="$work/config-file" keyring_dir="$work/config-keyring"
login() { # login CONFIG_DIR [--insecure-storage]
  AGCURL_CONFIG_DIR=$1 "$work/agcurl" configure --endpoint "$ISSUER" --client-id "$CLIENT_ID" 2>>"$work/login.log" &&
    AGCURL_CONFIG_DIR=$1 "$work/agcurl" login --browser --port 0 "${@:2}" 2>>"$work/login.log"
}
login "$file_dir" --insecure-storage || { cat "$work/login.log" >&2; exit 1; }
keyring=0 no_keyring="dbus-run-session and gnome-keyring-daemon are needed (apt-get install dbus gnome-keyring)"
if [ "$AGCURL_BENCH_KEYRING" = 1 ]; then
  if login "$keyring_dir" && AGCURL_CONFIG_DIR=$keyring_dir "$work/agcurl" status | grep -q 'storage: *keyring'; then
    keyring=1
  else
    no_keyring="the login with keyring storage failed"
    echo "bench: $no_keyring:" >&2
    cat "$work/login.log" >&2
  fi
fi
TOKEN=$(AGCURL_CONFIG_DIR=$file_dir "$work/agcurl" token)
export TOKEN
URL="$API/v1/me"

now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

# (a) Every round runs each client once, in an order that rotates from
# round to round, so that a slow moment of the machine hits them alike.
clients=(curl file bare)
[ $keyring = 1 ] && clients+=(keyring keyring-read)
if [ -n "$BASELINE" ] && [ $keyring = 1 ]; then clients+=(baseline); fi
run() { # run CLIENT: one call, output discarded
  case $1 in
  curl) $client_cpu curl -sf -H "Authorization: Bearer $TOKEN" "$URL" ;;
  file) AGCURL_CONFIG_DIR=$file_dir $client_cpu "$work/agcurl" fetch -sf "$URL" ;;
  keyring) AGCURL_CONFIG_DIR=$keyring_dir $client_cpu "$work/agcurl" fetch -sf "$URL" ;;
  keyring-read) AGCURL_CONFIG_DIR=$keyring_dir XDG_RUNTIME_DIR= $client_cpu "$work/agcurl" fetch -sf "$URL" ;;
  baseline) AGCURL_CONFIG_DIR=$keyring_dir XDG_RUNTIME_DIR= $client_cpu "$BASELINE" fetch -sf "$URL" ;;
  bare) $client_cpu "$work/barego" "$URL" ;;
  esac >/dev/null
}
for c in "${clients[@]}"; do run "$c" || { echo "bench: $c fails" >&2; exit 1; }; done # warm up
blocks=4
for ((r = 0; r < N; r++)); do
  k=${#clients[@]}
  for ((j = 0; j < k; j++)); do
    c=${clients[$(((r + j) % k))]}
    t0=$(now_us)
    run "$c" || { echo "bench: $c failed in round $r" >&2; exit 1; }
    t1=$(now_us)
    echo $((t1 - t0)) >>"$work/a.$c"
    echo $((t1 - t0)) >>"$work/a.$c.$((r * blocks / N))"
  done
done
declare -A med
for c in "${clients[@]}"; do med[$c]=$(median <"$work/a.$c"); done
by_block() { # by_block CLIENT: its median / curl's median, block by block
  local b out=""
  for ((b = 0; b < blocks; b++)); do
    out="$out $(ratio "$(median <"$work/a.$1.$b")" "$(median <"$work/a.curl.$b")")"
  done
  echo "${out# }"
}
cell() { [ -n "${med[$1]:-}" ] && echo "${med[$1]} µs" || echo "n/a"; }
rcell() { [ -n "${med[$1]:-}" ] && ratio "${med[$1]}" "${med[curl]}" || echo "n/a"; }
bcell() { [ -n "${med[$1]:-}" ] && by_block "$1" || echo "n/a"; }
report_a="| $N rounds, one process per call | curl | agcurl, file | agcurl, keyring (desktop) | agcurl, keyring read every call | bare Go client |
|---|---|---|---|---|---|
| median per call | $(cell curl) | $(cell file) | $(cell keyring) | $(cell keyring-read) | $(cell bare) |
| median / curl's median | 1.00 | $(rcell file) | $(rcell keyring) | $(rcell keyring-read) | $(rcell bare) |
| the same, in $blocks blocks of rounds | | $(bcell file) | $(bcell keyring) | $(bcell keyring-read) | $(bcell bare) |"
if [ -n "${med[baseline]:-}" ]; then
  report_a="$report_a

\`BASELINE\` (another agcurl build, keyring read every call), in the same rounds: ${med[baseline]} µs per call, $(rcell baseline) of curl's (by block: $(bcell baseline))."
fi
[ $keyring = 1 ] || report_a="$report_a

No keyring columns: $no_keyring."

# (b) The session in a file, its expiry moved into the past before every
# expired round: exactly one process refreshes (they all take the session
# lock; the others find the refreshed token when they get it).
session_file="$file_dir/sessions/default.json"
expire() { sed -i -E 's/"expiry":"[^"]*"/"expiry":"2000-01-01T00:00:00Z"/' "$session_file"; }
parallel() { # parallel: PAR fetches at once; prints the wall time in µs
  local t0 t1 i pids=()
  t0=$(now_us)
  for ((i = 0; i < PAR; i++)); do
    AGCURL_CONFIG_DIR=$file_dir "$work/agcurl" fetch -sf "$URL" >/dev/null &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || { echo "bench: a parallel fetch failed" >&2; exit 1; }; done
  t1=$(now_us)
  echo $((t1 - t0))
}
for r in 1 2 3 4 5 6 7; do
  before=$(grep -o '"access_token":"[^"]*"' "$session_file")
  expire
  parallel >>"$work/b.expired"
  after=$(grep -o '"access_token":"[^"]*"' "$session_file")
  [ "$before" != "$after" ] || { echo "bench: the expired session was not refreshed" >&2; exit 1; }
  parallel >>"$work/b.valid"
  [ "$after" = "$(grep -o '"access_token":"[^"]*"' "$session_file")" ] || { echo "bench: a valid session was refreshed" >&2; exit 1; }
done
b_expired=$(median <"$work/b.expired") b_valid=$(median <"$work/b.valid")
report_b="| $PAR agcurl fetches in parallel (file storage, both cores), median of 7 | wall time |
|---|---|
| valid access token | $((b_valid / 1000)) ms |
| expired access token: one refresh, the others wait for it | $((b_expired / 1000)) ms |
| expired / valid | $(ratio "$b_expired" "$b_valid") |"

# (c) Written separately (scripts/bench-proxy.sh prints a Markdown section).
if [ -f scripts/bench-proxy.sh ] && "$work/agcurl" proxy --help >/dev/null 2>&1; then
  report_c=$(AGCURL="$work/agcurl" AGCURL_CONFIG_DIR=$file_dir ISSUER=$ISSUER API=$API TOKEN=$TOKEN \
    CLIENT_CPU="$client_cpu" bash scripts/bench-proxy.sh)
else
  report_c="Skipped: this build has no \`agcurl proxy\` command or no scripts/bench-proxy.sh."
fi

# (d), (e)
export AGCURL_CONFIG_DIR=$file_dir
dl() { # dl CMD...: "seconds maxrss_kib", the fastest of 5 runs
  for run in 1 2 3 4 5; do
    t0=$(now_us)
    $client_cpu /usr/bin/time -f "%M" -o "$work/rss" "$@" >/dev/null
    t1=$(now_us)
    echo "$(awk "BEGIN { printf \"%.4f\", ($t1 - $t0) / 1e6 }") $(cat "$work/rss")" >"$work/time.$run"
  done
  sort -n "$work"/time.? | head -1
}
BIG="$API/v1/bytes?n=$SIZE"
set -- $(dl curl -s -H "Authorization: Bearer $TOKEN" -o /dev/null "$BIG"); dl_curl_s=$1; dl_curl_rss=$2
set -- $(dl "$work/agcurl" fetch -s -o /dev/null "$BIG"); dl_ag_s=$1; dl_ag_rss=$2

head -c "$SIZE" /dev/zero >"$work/upload.bin"
set -- $(dl curl -s -H "Authorization: Bearer $TOKEN" -T "$work/upload.bin" -o /dev/null "$API/v1/echo"); up_curl_s=$1; up_curl_rss=$2
set -- $(dl "$work/agcurl" fetch -s --data-binary @"$work/upload.bin" -o /dev/null "$API/v1/echo"); up_ag_s=$1; up_ag_rss=$2
rm -f "$work/upload.bin"

mib() { awk "BEGIN { printf \"%.1f\", $1 / 1024 }"; }
tput() { awk "BEGIN { printf \"%.0f\", $SIZE / 1048576 / $1 }"; }
label=$(awk "BEGIN { s = $SIZE / 1048576; if (s >= 1024) printf \"%g GiB\", s / 1024; else printf \"%g MiB\", s }")
report_d="| transfer (agcurl: file storage) | curl | agcurl | agcurl / curl |
|---|---|---|---|
| $label download, throughput | $(tput "$dl_curl_s") MiB/s | $(tput "$dl_ag_s") MiB/s | $(ratio "$dl_curl_s" "$dl_ag_s") |
| $label download, peak RSS | $(mib "$dl_curl_rss") MiB | $(mib "$dl_ag_rss") MiB | |
| $label upload (curl -T, agcurl --data-binary @file), throughput | $(tput "$up_curl_s") MiB/s | $(tput "$up_ag_s") MiB/s | $(ratio "$up_curl_s" "$up_ag_s") |
| $label upload, peak RSS | $(mib "$up_curl_rss") MiB | $(mib "$up_ag_rss") MiB | |"

printf '%s\n\n%s\n\n%s\n\n%s\n' "$report_a" "$report_b" "$report_c" "$report_d"
[ -n "$md" ] || exit 0
cat >"$md" <<EOT
# Benchmarks

agcurl and curl side by side against the bundled local API (\`internal/testop\`), which
checks every token by introspection at the bundled provider, for both tools alike.
"bare Go client" is \`internal/cmd/barego\`: a Go program that only GETs one URL with a
bearer token, the floor for any Go binary. agcurl's per-call figures include reading the
profile and the stored session (no network call but the request: no discovery, no
refresh): from a 0600 file (\`--insecure-storage\`), or from the OS keyring, here a real
gnome-keyring in a D-Bus session of the benchmark's own. "keyring (desktop)" has a
\`\$XDG_RUNTIME_DIR\`, as a Linux desktop does, so a valid access token comes from agcurl's
copy of it there; "keyring read every call" has none, so every call reads the session
from the keyring (see [security.md](security.md#reading-the-session-from-the-os-keyring)).
The server runs on core 0 and the clients on core 1 (taskset); the D-Bus and keyring
daemons are not pinned. The machine may be busy with other work: the clients run
interleaved, one call of each per round in rotating order, and the figures are medians
and ratios of medians; the block-by-block ratios show how steady they were. Transfers
take the fastest of five runs; peak RSS is GNU time's maximum resident set size.

Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -sm), $(curl --version | head -1 | cut -d' ' -f1-2), $(go version | cut -d' ' -f3)$( [ $keyring = 1 ] && echo ", gnome-keyring $(gnome-keyring-daemon --version 2>/dev/null | head -1 | sed 's/.* //')");
load average $load_start at the start, $(load) at the end.

## Small authorized requests

$report_a

## Parallel fetches and one refresh

$report_b

## Through \`agcurl proxy\`

$report_c

## Large transfers

$report_d

Produced by \`make bench\` (scripts/bench.sh, N=$N, PAR=$PAR, SIZE=$SIZE$( [ -n "$BASELINE" ] && echo ", BASELINE: $("$BASELINE" version | head -1)")), which rewrites this file.
EOT
