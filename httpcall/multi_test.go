package httpcall

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// sequenceTokens hands out token-1, then token-2 on each refresh, ...
type sequenceTokens struct {
	asked, refreshed atomic.Int32
	n                atomic.Int32
	err              error
}

func (s *sequenceTokens) AccessToken(context.Context) (string, error) {
	s.asked.Add(1)
	if s.err != nil {
		return "", s.err
	}
	return "token-" + strconv.Itoa(int(s.n.Load())+1), nil
}

func (s *sequenceTokens) Refresh(context.Context, string) (string, error) {
	s.refreshed.Add(1)
	return "token-" + strconv.Itoa(int(s.n.Add(1))+1), nil
}

func TestSharedTokens(t *testing.T) {
	src := &sequenceTokens{}
	st := &SharedTokens{Source: src}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tok, err := st.AccessToken(ctx); tok != "token-1" || err != nil {
				t.Errorf("AccessToken: %q, %v", tok, err)
			}
		}()
	}
	wg.Wait()
	if n := src.asked.Load(); n != 1 {
		t.Errorf("the source was asked %d times", n)
	}
	// Several transfers rejected with token-1: one refresh, all get token-2.
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tok, err := st.Refresh(ctx, "token-1"); tok != "token-2" || err != nil {
				t.Errorf("Refresh: %q, %v", tok, err)
			}
		}()
	}
	wg.Wait()
	if tok, _ := st.AccessToken(ctx); tok != "token-2" || src.refreshed.Load() != 1 {
		t.Errorf("after the refresh: %q, %d refreshes", tok, src.refreshed.Load())
	}
	// token-2 rejected too: refreshed again.
	if tok, _ := st.Refresh(ctx, "token-2"); tok != "token-3" || src.refreshed.Load() != 2 {
		t.Errorf("second refresh: %q, %d refreshes", tok, src.refreshed.Load())
	}
	// An error is shared too, and not asked again.
	failing := &sequenceTokens{err: errors.New("login required")}
	fs := &SharedTokens{Source: failing}
	for range 3 {
		if _, err := fs.AccessToken(ctx); err == nil {
			t.Error("no error")
		}
	}
	if n := failing.asked.Load(); n != 1 {
		t.Errorf("a failing source was asked %d times", n)
	}
}
