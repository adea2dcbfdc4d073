#!/bin/sh
# The project's test command (make test; CI runs it too): format, vet and
# module checks, then every test with the race detector. The keyring tests
# run against a real Secret Service (gnome-keyring in a private D-Bus
# session); on a Debian machine without it, and as root, it is installed.
set -eu
cd "$(dirname "$0")/.."

need_keyring_pkgs() {
  ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v gnome-keyring-daemon >/dev/null 2>&1
}
if need_keyring_pkgs && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing gnome-keyring and dbus for the keyring tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnome-keyring dbus dbus-x11 >/dev/null
fi

echo "== gofmt, go vet, go mod tidy"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
cp go.mod /tmp/agcurl-go.mod.$$ && cp go.sum /tmp/agcurl-go.sum.$$
go mod tidy
if ! cmp -s go.mod /tmp/agcurl-go.mod.$$ || ! cmp -s go.sum /tmp/agcurl-go.sum.$$; then
  echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit" >&2
  mv /tmp/agcurl-go.mod.$$ go.mod; mv /tmp/agcurl-go.sum.$$ go.sum
  exit 1
fi
rm -f /tmp/agcurl-go.mod.$$ /tmp/agcurl-go.sum.$$

echo "== go test -race ./..."
# Under -race every test binary sleeps a second as it exits, for late race
# reports; the tests report races as they happen, so skip the sleep. The
# agcurl processes the cmd tests start skip it too (cmd/script_test.go). A
# GORACE of your own is kept: its options come later and win.
GORACE="atexit_sleep_ms=0${GORACE:+ $GORACE}"
export GORACE
if need_keyring_pkgs; then
  echo "!! gnome-keyring/dbus missing: the OS keyring tests are skipped" >&2
  exec go test -race -count=1 ./...
fi
AGCURL_TEST_KEYRING=1 exec scripts/with-keyring.sh go test -race -count=1 ./...
