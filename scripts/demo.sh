#!/bin/sh
# The main job end to end against the bundled local provider and API, no
# Authgear account needed: start them, configure a profile in a temporary
# config dir with file storage (so no keyring is needed), log in with the
# stand-in browser that approves the sign-in, then whoami, fetch, token,
# logout, and show that a fetch after logout asks for a login.
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== building agcurl, the local provider and the stand-in browser"
go build -o "$work/bin/agcurl" .
go build -o "$work/bin/devserver" ./internal/cmd/devserver
go build -o "$work/bin/testbrowser" ./internal/cmd/testbrowser

"$work/bin/devserver" -env-file "$work/env" >"$work/devserver.log" 2>&1 &
pid=$!
i=0
while [ ! -s "$work/env" ]; do
  i=$((i + 1))
  if [ $i -gt 100 ]; then echo "the local provider did not start:" >&2; cat "$work/devserver.log" >&2; exit 1; fi
  sleep 0.1
done
. "$work/env"
echo "   provider (OpenID issuer): $ISSUER"
echo "   protected API:            $API"

export PATH="$work/bin:$PATH"
export AGCURL_CONFIG_DIR="$work/config" AGCURL_STORAGE=file BROWSER=testbrowser

step() {
  echo
  echo "== $1"
  shift
  echo "\$ $*"
  "$@"
}

step "configure: check the provider's discovery document and save the profile" \
  agcurl configure --endpoint "$ISSUER" --client-id "$CLIENT_ID"
step "login: PKCE + loopback redirect; the stand-in browser approves the sign-in" \
  agcurl login --browser --port 0
step "whoami: who the provider's userinfo endpoint says we are" \
  agcurl whoami
step "fetch: the protected API validates the token and answers with its claims" \
  agcurl fetch "$API/v1/me"
step "fetch -v: the trace shows the Authorization header redacted" \
  agcurl fetch -sS -v -o /dev/null "$API/v1/me"
echo
echo "== token: prints a valid access token (shown here by its length only, to keep it off the screen)"
echo "\$ agcurl token | wc -c"
agcurl token | wc -c
step "status: where the session lives and when the token expires" \
  agcurl status
step "logout: revoke at the provider and forget the session" \
  agcurl logout
echo
echo "== fetch after logout fails with exit code 4 (login required)"
echo "\$ agcurl fetch $API/v1/me"
set +e
agcurl fetch "$API/v1/me"
code=$?
set -e
echo "exit code: $code"
[ "$code" = 4 ] || { echo "expected exit code 4" >&2; exit 1; }
echo
echo "Demo finished: every step worked against the local provider."
