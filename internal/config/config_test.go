package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestConfigRoundTripAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(dir)
	if err != nil || len(c.Profiles) != 0 {
		t.Fatalf("missing config should be empty: %v", err)
	}
	err = Update(context.Background(), dir, func(c *Config) error {
		c.Profiles["default"] = &Profile{Endpoint: "https://x", ClientID: "c"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A failing change writes nothing.
	boom := errors.New("boom")
	if err := Update(context.Background(), dir, func(c *Config) error {
		c.Profiles["default"].ClientID = "changed"
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	c, _ = Load(dir)
	if c.Profiles["default"].ClientID != "c" {
		t.Fatal("failed update was written")
	}
	fi, _ := os.Stat(filepath.Join(dir, FileName))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v", fi.Mode().Perm())
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"profiles":{"bad name":{}}}`), 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "invalid profile") {
		t.Fatalf("want invalid profile error, got %v", err)
	}
}

func TestConcurrentConfigUpdatesAreNotLost(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "p" + string(rune('a'+i))
			if err := Update(context.Background(), dir, func(c *Config) error {
				c.Profiles[name] = &Profile{Endpoint: "https://x", ClientID: name}
				return nil
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c, err := Load(dir)
	if err != nil || len(c.Profiles) != 20 {
		t.Fatalf("want 20 profiles, got %d (%v)", len(c.Profiles), err)
	}
}
