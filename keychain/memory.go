package keychain

import (
	"encoding/json"
	"fmt"
	"sync"
)

// MemoryStore keeps sessions in memory. It is meant for tests and for
// sessions that must not outlive the process. The zero value is ready to use.
type MemoryStore struct {
	mu       sync.Mutex
	sessions map[string][]byte
}

// Name implements Store.
func (m *MemoryStore) Name() string { return "memory" }

// Load implements Store. It returns a copy, as the other backends do.
func (m *MemoryStore) Load(profile string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.sessions[profile]
	if !ok {
		return nil, fmt.Errorf("profile %q: %w", profile, ErrNotFound)
	}
	var s Session
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Save implements Store.
func (m *MemoryStore) Save(profile string, s *Session) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sessions == nil {
		m.sessions = map[string][]byte{}
	}
	m.sessions[profile] = b
	return nil
}

// Delete implements Store.
func (m *MemoryStore) Delete(profile string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, profile)
	return nil
}
