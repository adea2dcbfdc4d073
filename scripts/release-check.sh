#!/bin/sh
# Validates the release configuration without publishing anything:
# goreleaser (pinned; built into .tools/, outside the product's go.mod)
# checks .goreleaser.yaml, builds a snapshot release for every platform,
# and the deb package is inspected for the binary, man pages and
# completions.
set -eu
cd "$(dirname "$0")/.."
GORELEASER_VERSION=v2.15.1
GOBIN="$PWD/.tools/goreleaser-$GORELEASER_VERSION"
export GOBIN
if [ ! -x "$GOBIN/goreleaser" ]; then
  echo "== building goreleaser $GORELEASER_VERSION (once)"
  go install "github.com/goreleaser/goreleaser/v2@$GORELEASER_VERSION"
fi
gr="$GOBIN/goreleaser"
"$gr" check
"$gr" release --snapshot --clean --skip=publish

echo "== inspecting the packages"
deb=$(ls dist/*_amd64.deb)
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/agcurl ./usr/share/man/man1/agcurl.1 ./usr/share/man/man1/agcurl-fetch.1 \
  ./usr/share/bash-completion/completions/agcurl ./usr/share/zsh/vendor-completions/_agcurl \
  ./usr/share/fish/vendor_completions.d/agcurl.fish; do
  echo "$contents" | grep -q " $path\$" || { echo "$deb lacks $path" >&2; exit 1; }
done
echo "$deb holds the binary, man pages and completions"
tar tzf dist/agcurl_*_linux_amd64.tar.gz | grep -qx 'completions/agcurl.bash'
unzip -l dist/agcurl_*_windows_amd64.zip | grep -q 'agcurl.exe'
ls dist/*.rpm dist/checksums.txt dist/homebrew/Casks/agcurl.rb >/dev/null
dist/agcurl_linux_amd64_v1/agcurl version | grep -q '^agcurl version 0.0.0-SNAPSHOT'
echo "release check passed"
