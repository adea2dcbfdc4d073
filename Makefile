# The commands CI and people run. See README.md.
.PHONY: all build test demo lint e2e bench docs release-check

all: build

build:
	go build -o agcurl .

# Everything: gofmt/vet/tidy checks, then all tests with -race, the keyring
# ones against a real gnome-keyring (installed when missing, as root on Debian).
test:
	scripts/test.sh

# Only the end-to-end scripts (testdata/script/*.txtar), their commands'
# own tests, and the tests that run agcurl as a process.
e2e:
	go test -count=1 -run 'TestScript|TestParallel|TestKilledRefresh|TestSecondLogin|TestColourOnATerminal' ./cmd

lint:
	gofmt -l . | (! grep .)
	go vet ./...

# The main job end to end against the bundled local provider and API.
demo:
	scripts/demo.sh

# agcurl against curl, side by side; rewrites docs/benchmarks.md.
bench:
	scripts/bench.sh -o docs/benchmarks.md

# Regenerate completions/, docs/commands/ and docs/man/ (a test checks them).
docs:
	go run ./internal/cmd/gendocs

# goreleaser check and a snapshot release, nothing published.
release-check:
	scripts/release-check.sh
