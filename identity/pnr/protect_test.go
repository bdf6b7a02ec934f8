package pnr

import (
	"bytes"
	"errors"
	"testing"
)

func testKey(id string, fill byte) Key {
	return Key{ID: id, Secret: bytes.Repeat([]byte{fill}, MinSecretLen)}
}

func TestProtectorSealOpen(t *testing.T) {
	t.Parallel()
	p, err := NewProtector(testKey("k1", 1))
	if err != nil {
		t.Fatal(err)
	}
	n := mustParse(t, "19121212-1212")
	rowID := []byte("patient-42")

	sealed, err := p.Seal(n, rowID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(n.Digits())) || bytes.Contains(sealed, []byte("1212")) {
		t.Errorf("Seal(%v) got %x, which contains the digits", n, sealed)
	}
	again, err := p.Seal(n, rowID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(sealed, again) {
		t.Errorf("Seal(%v) twice got equal ciphertexts, want fresh nonces", n)
	}
	got, err := p.Open(sealed, rowID)
	if err != nil || got != n {
		t.Errorf("Open(Seal(%v)) got %v, %v, want %v", n, got, err, n)
	}
	if id, err := p.KeyID(sealed); id != "k1" || err != nil {
		t.Errorf("KeyID got %q, %v, want %q", id, err, "k1")
	}

	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	otherHeader := bytes.Clone(sealed)
	otherHeader[2] = 'x' // key id "x1"
	tests := []struct {
		name   string
		sealed []byte
		aad    []byte
		want   error
	}{
		{"other row", sealed, []byte("patient-43"), ErrSealed},
		{"tampered", tampered, rowID, ErrSealed},
		{"unknown key", otherHeader, rowID, ErrUnknownKey},
		{"truncated", sealed[:10], rowID, ErrSealed},
		{"empty", nil, rowID, ErrSealed},
		{"bad version", append([]byte{9}, sealed[1:]...), rowID, ErrSealed},
	}
	for _, tt := range tests {
		if _, err := p.Open(tt.sealed, tt.aad); !errors.Is(err, tt.want) {
			t.Errorf("Open(%s) error %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := p.Seal(Number{}, rowID); err == nil {
		t.Errorf("Seal(zero) error nil, want an error")
	}
}

func TestProtectorRotation(t *testing.T) {
	t.Parallel()
	n := mustParse(t, "19850769-9828")
	oldP, err := NewProtector(testKey("2024", 1))
	if err != nil {
		t.Fatal(err)
	}
	oldSealed, err := oldP.Seal(n, nil)
	if err != nil {
		t.Fatal(err)
	}

	p, err := NewProtector(testKey("2025", 2), testKey("2024", 1))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p.Open(oldSealed, nil); err != nil || got != n {
		t.Errorf("Open(old) got %v, %v, want %v", got, err, n)
	}
	newSealed, err := p.Seal(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := p.KeyID(newSealed); id != "2025" || p.CurrentKeyID() != "2025" {
		t.Errorf("KeyID(new) got %q, want %q", id, "2025")
	}

	lookups := p.Lookups(n)
	if len(lookups) != 2 || !bytes.Equal(lookups[0], p.Lookup(n)) || !bytes.Equal(lookups[1], oldP.Lookup(n)) {
		t.Errorf("Lookups got %x, want [current, old]", lookups)
	}
	if bytes.Equal(lookups[0], lookups[1]) {
		t.Errorf("Lookup under two keys got equal hashes")
	}
	other := mustParse(t, "19121212-1212")
	if bytes.Equal(p.Lookup(n), p.Lookup(other)) {
		t.Errorf("Lookup(%v) equals Lookup(%v)", n, other)
	}
	if len(p.Lookup(n)) != 32 {
		t.Errorf("Lookup length got %d, want 32", len(p.Lookup(n)))
	}

	dropped, err := NewProtector(testKey("2025", 2))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dropped.Open(oldSealed, nil); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open(old) after dropping the key error %v, want %v", err, ErrUnknownKey)
	}
}

func TestNewProtectorRejectsWeakKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		current Key
		older   []Key
	}{
		{"short secret", Key{ID: "k", Secret: make([]byte, MinSecretLen-1)}, nil},
		{"empty id", Key{Secret: make([]byte, MinSecretLen)}, nil},
		{"long id", Key{ID: string(make([]byte, 256)), Secret: make([]byte, MinSecretLen)}, nil},
		{"duplicate id", testKey("k", 1), []Key{testKey("k", 2)}},
		{"weak older key", testKey("k", 1), []Key{{ID: "j", Secret: []byte("short")}}},
	}
	for _, tt := range tests {
		if _, err := NewProtector(tt.current, tt.older...); err == nil {
			t.Errorf("NewProtector(%s) error nil, want an error", tt.name)
		}
	}
}
