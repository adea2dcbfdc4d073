package keychain

import (
	"context"
	"testing"
	"time"

	"github.com/agcurl/agcurl/internal/fileutil"
)

func TestLockSessionExcludes(t *testing.T) {
	dir := t.TempDir()
	tryLock := func(lock func(ctx context.Context) (func(), error)) (func(), error) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		return lock(ctx)
	}
	session := func(profile string) func(context.Context) (func(), error) {
		return func(ctx context.Context) (func(), error) { return LockSession(ctx, dir, profile) }
	}

	unlock, err := tryLock(session("p"))
	if err != nil {
		t.Fatal(err)
	}
	if u, err := tryLock(session("p")); err == nil {
		u()
		t.Fatal("a second LockSession on the same profile succeeded while the first was held")
	}
	// Code that still names the lock itself is excluded too.
	if u, err := tryLock(func(ctx context.Context) (func(), error) { return fileutil.Lock(ctx, dir, "session-p") }); err == nil {
		u()
		t.Fatal(`fileutil.Lock(dir, "session-p") succeeded while LockSession held profile p`)
	}
	other, err := tryLock(session("q"))
	if err != nil {
		t.Fatalf("LockSession on another profile: %v", err)
	}
	other()
	unlock()
	again, err := tryLock(session("p"))
	if err != nil {
		t.Fatalf("LockSession after unlock: %v", err)
	}
	again()
}
