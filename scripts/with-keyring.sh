#!/bin/sh
# Run a command inside a private D-Bus session with an unlocked
# gnome-keyring (a real Secret Service), as on a Linux desktop:
#   dbus-run-session -- scripts/with-keyring.sh go test ./...
# Called without a D-Bus session, it starts one around itself.
set -eu
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  exec dbus-run-session -- "$0" "$@"
fi
# A throwaway data dir keeps the test keyring away from the user's own.
XDG_DATA_HOME="$(mktemp -d)"
export XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
# Unlocking with a password on stdin creates and unlocks the login keyring,
# which becomes the default collection.
eval "$(printf 'agcurl-test' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
"$@"
