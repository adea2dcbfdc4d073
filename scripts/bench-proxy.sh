#!/bin/sh
# Benchmarks `agcurl proxy` on the bundled local provider and API:
#  (a) a 1 GiB upload and a 1 GiB download through a fresh proxy: the
#      throughput, and the proxy's peak RSS, checked against 32 MiB (the
#      bodies are streamed, never held);
#  (b) requests per second and latency with C concurrent keep-alive clients
#      for D, through the proxy and directly with the token, on an
#      authorized path (/v1/me: the API checks each token by introspection at
#      the provider) and an open one (/public: nothing but the proxying).
# The load comes from internal/cmd/benchload, a Go program: no other tool is
# needed. Prints a Markdown section on stdout (scripts/bench.sh includes it);
# exits 1 when the proxy's peak RSS is over the limit. Peak RSS is read from
# /proc (Linux); elsewhere it is reported as unknown and not checked.
#
#   C=32 D=5s SIZE=1073741824 RSS_LIMIT_MIB=32 scripts/bench-proxy.sh
set -eu
cd "$(dirname "$0")/.."
C=${C:-32}
D=${D:-5s}
SIZE=${SIZE:-1073741824}
RSS_LIMIT_MIB=${RSS_LIMIT_MIB:-32}

work=$(mktemp -d)
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for prog in agcurl:. devserver:./internal/cmd/devserver testbrowser:./internal/cmd/testbrowser benchload:./internal/cmd/benchload; do
  go build -o "$work/${prog%%:*}" "${prog#*:}"
done
"$work/devserver" -env-file "$work/env" >"$work/devserver.log" 2>&1 &
pids="$pids $!"
while [ ! -s "$work/env" ]; do sleep 0.1; done
. "$work/env"
export AGCURL_CONFIG_DIR="$work/config" AGCURL_STORAGE=file BROWSER="$work/testbrowser"
"$work/agcurl" configure --endpoint "$ISSUER" --client-id "$CLIENT_ID" --api-base "$API" 2>/dev/null
"$work/agcurl" login --browser --port 0 2>/dev/null
TOKEN=$("$work/agcurl" token)

"$work/agcurl" proxy --quiet --listen 127.0.0.1:0 >"$work/proxy.url" 2>"$work/proxy.log" &
proxy_pid=$!
pids="$pids $proxy_pid"
tries=0
while [ ! -s "$work/proxy.url" ]; do
  tries=$((tries + 1))
  if [ $tries -gt 100 ]; then echo "bench-proxy: the proxy did not start:" >&2; cat "$work/proxy.log" >&2; exit 1; fi
  sleep 0.1
done
PROXY=$(head -1 "$work/proxy.url")

field() { # field NAME LINE...: the value after NAME in benchload's line
  name=$1; shift
  echo "$*" | awk -v k="$name" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}
peak_rss_kib() { # the proxy's peak resident set size so far, in KiB
  if [ -r "/proc/$proxy_pid/status" ]; then
    awk '/^VmHWM:/ { print $2 }' "/proc/$proxy_pid/status"
  fi
}

# (a) Transfers first, on the fresh proxy, so that its peak RSS is theirs.
start_rss=$(peak_rss_kib)
up_proxy=$(TOKEN= "$work/benchload" upload -n "$SIZE" "$PROXY/v1/echo")
down_proxy=$(TOKEN= "$work/benchload" download "$PROXY/v1/bytes?n=$SIZE")
peak_rss=$(peak_rss_kib)
up_direct=$(TOKEN=$TOKEN "$work/benchload" upload -n "$SIZE" "$API/v1/echo")
down_direct=$(TOKEN=$TOKEN "$work/benchload" download "$API/v1/bytes?n=$SIZE")

# (b) Requests per second.
me_direct=$(TOKEN=$TOKEN "$work/benchload" load -c "$C" -d "$D" "$API/v1/me")
me_proxy=$(TOKEN= "$work/benchload" load -c "$C" -d "$D" "$PROXY/v1/me")
pub_direct=$(TOKEN= "$work/benchload" load -c "$C" -d "$D" "$API/public")
pub_proxy=$(TOKEN= "$work/benchload" load -c "$C" -d "$D" "$PROXY/public")

ratio() { awk "BEGIN { if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"-\" }"; }
mib() { awk "BEGIN { printf \"%.1f\", $1 / 1024 }"; }
label=$(awk "BEGIN { s = $SIZE / 1048576; if (s >= 1024) printf \"%g GiB\", s / 1024; else printf \"%g MiB\", s }")
row_load() { # row_load LABEL DIRECT PROXY
  d=$2 p=$3
  echo "| $1, requests/s | $(field rps "$d") | $(field rps "$p") | $(ratio "$(field rps "$p")" "$(field rps "$d")") |"
  echo "| $1, latency p50 / p99 | $(field p50_ms "$d") / $(field p99_ms "$d") ms | $(field p50_ms "$p") / $(field p99_ms "$p") ms | |"
}
errors=$(( $(field errors "$me_direct") + $(field errors "$me_proxy") + $(field errors "$pub_direct") + $(field errors "$pub_proxy") ))

verdict=0
if [ -n "$peak_rss" ]; then
  rss_text="$(mib "$peak_rss") MiB (at start: $(mib "$start_rss") MiB)"
  if [ "$peak_rss" -le $((RSS_LIMIT_MIB * 1024)) ]; then
    rss_text="$rss_text: under the $RSS_LIMIT_MIB MiB limit"
  else
    rss_text="$rss_text: OVER the $RSS_LIMIT_MIB MiB limit"
    verdict=1
  fi
else
  rss_text="unknown (no /proc here)"
fi

cat <<EOT
## agcurl proxy

Through \`agcurl proxy\` against straight to the bundled API, with $C concurrent keep-alive
clients for $D each (\`internal/cmd/benchload\`). Direct requests carry the token themselves;
through the proxy they carry none and the proxy attaches it. /v1/me has every token checked by
introspection at the bundled provider; /public is the proxying alone. Measured $(date -u +%Y-%m-%d)
on $(nproc 2>/dev/null || echo "?") cores, $(uname -sm), $(go version | cut -d' ' -f3); no CPU pinning.

| measure | direct | through agcurl proxy | proxy / direct |
|---|---|---|---|
$(row_load "GET /v1/me" "$me_direct" "$me_proxy")
$(row_load "GET /public" "$pub_direct" "$pub_proxy")
| $label upload (Content-Length, made on the fly), MiB/s | $(field mibps "$up_direct") | $(field mibps "$up_proxy") | $(ratio "$(field mibps "$up_proxy")" "$(field mibps "$up_direct")") |
| $label download, MiB/s | $(field mibps "$down_direct") | $(field mibps "$down_proxy") | $(ratio "$(field mibps "$down_proxy")" "$(field mibps "$down_direct")") |

Peak RSS of the proxy over the $label upload and the $label download: $rss_text.
Failed requests during the load runs: $errors.

Produced by \`scripts/bench-proxy.sh\` (C=$C, D=$D, SIZE=$SIZE, RSS_LIMIT_MIB=$RSS_LIMIT_MIB).
EOT
exit $verdict
