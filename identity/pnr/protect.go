package pnr

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Errors from a Protector. Like the parse errors they never contain a number.
var (
	// ErrUnknownKey means a sealed value names a key id the Protector was not given.
	ErrUnknownKey = errors.New("pnr: sealed with an unknown key id")
	// ErrSealed means a sealed value is malformed, was tampered with, or is
	// opened with other associated data than it was sealed with.
	ErrSealed = errors.New("pnr: sealed value is corrupt or does not match its associated data")
)

// MinSecretLen is the shortest key secret a Protector accepts: 32 random
// bytes give AES-256 and HMAC-SHA256 their full strength.
const MinSecretLen = 32

// sealVersion is the first byte of every sealed value, so the layout can change later.
const sealVersion = 1

// Key is one generation of key material. Its ID is stored in every value
// sealed under it, so old rows stay readable after the current key changes.
type Key struct {
	// ID names the key, 1 to 255 bytes, for example "2025-06". It is stored
	// in clear beside each ciphertext, so it must not itself be secret.
	ID string
	// Secret is at least MinSecretLen random bytes, for example from a
	// secrets manager. Separate encryption and lookup keys are derived from
	// it with HKDF-SHA256, so one secret per generation is enough.
	Secret []byte
}

// Protector keeps personal identity numbers unreadable in the database: Seal
// encrypts a number with AES-256-GCM for storage and Lookup computes a keyed
// HMAC-SHA256 to find a row by number. A database dump without the keys
// reveals neither the numbers nor, unlike a plain hash, lets anyone test
// guesses against the hashes.
type Protector struct {
	current string
	keys    map[string]derivedKey
	order   []string // current first, then older keys as given
}

type derivedKey struct {
	aead   cipher.AEAD
	lookup []byte
}

// NewProtector seals and looks up under current, and can still open values
// and compute lookups under each of older, which is how a key is rotated:
// deploy the new key as current with the old one in older, re-seal rows whose
// KeyID is old, then drop the old key.
func NewProtector(current Key, older ...Key) (*Protector, error) {
	p := &Protector{current: current.ID, keys: make(map[string]derivedKey)}
	for _, k := range append([]Key{current}, older...) {
		if len(k.ID) == 0 || len(k.ID) > 255 {
			return nil, errors.New("pnr: key id must be 1 to 255 bytes")
		}
		if len(k.Secret) < MinSecretLen {
			return nil, fmt.Errorf("pnr: key %q: secret must be at least %d bytes", k.ID, MinSecretLen)
		}
		if _, dup := p.keys[k.ID]; dup {
			return nil, fmt.Errorf("pnr: key id %q given twice", k.ID)
		}
		encKey, err := hkdf.Key(sha256.New, k.Secret, nil, "nara pnr seal aes-256-gcm v1", 32)
		if err != nil {
			return nil, err
		}
		lookupKey, err := hkdf.Key(sha256.New, k.Secret, nil, "nara pnr lookup hmac-sha256 v1", 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(encKey)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		p.keys[k.ID] = derivedKey{aead: aead, lookup: lookupKey}
		p.order = append(p.order, k.ID)
	}
	return p, nil
}

// Seal encrypts n under the current key. associatedData is authenticated but
// not stored: pass something that ties the value to its row (a patient id),
// so a ciphertext copied into another row fails to open. The result is
// version, key id, a random 96-bit nonce and the GCM ciphertext.
func (p *Protector) Seal(n Number, associatedData []byte) ([]byte, error) {
	if n.IsZero() {
		return nil, errors.New("pnr: cannot seal the zero Number")
	}
	k := p.keys[p.current]
	header := append([]byte{sealVersion, byte(len(p.current))}, p.current...)
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append(header, nonce...)
	return k.aead.Seal(out, nonce, []byte(n.digits), aad(header, associatedData)), nil
}

// Open decrypts a value made by Seal with the same associatedData, under
// whichever known key it names.
func (p *Protector) Open(sealed, associatedData []byte) (Number, error) {
	id, rest, err := splitHeader(sealed)
	if err != nil {
		return Number{}, err
	}
	k, ok := p.keys[id]
	if !ok {
		return Number{}, ErrUnknownKey
	}
	if len(rest) < k.aead.NonceSize()+k.aead.Overhead() {
		return Number{}, ErrSealed
	}
	header := sealed[:2+len(id)]
	nonce, ct := rest[:k.aead.NonceSize()], rest[k.aead.NonceSize():]
	plain, err := k.aead.Open(nil, nonce, ct, aad(header, associatedData))
	if err != nil {
		return Number{}, ErrSealed
	}
	n, err := ParseDigits(string(plain))
	if err != nil {
		return Number{}, ErrSealed
	}
	return n, nil
}

// KeyID returns the id of the key a value was sealed under, so a rotation
// job can find the rows that still need re-sealing.
func (p *Protector) KeyID(sealed []byte) (string, error) {
	id, _, err := splitHeader(sealed)
	return id, err
}

// CurrentKeyID returns the id Seal and Lookup use now.
func (p *Protector) CurrentKeyID() string { return p.current }

// Lookup returns the HMAC-SHA256 of n under the current key: equal numbers
// give equal lookups, so a unique index on it finds a patient by number
// without storing the number in a searchable form.
func (p *Protector) Lookup(n Number) []byte {
	return lookup(p.keys[p.current].lookup, n)
}

// Lookups returns n's lookup under every key, current first, so that during a
// rotation a query can match rows written under either key
// (WHERE pnr_lookup = ANY($1)).
func (p *Protector) Lookups(n Number) [][]byte {
	out := make([][]byte, 0, len(p.order))
	for _, id := range p.order {
		out = append(out, lookup(p.keys[id].lookup, n))
	}
	return out
}

func lookup(key []byte, n Number) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(n.digits))
	return m.Sum(nil)
}

func splitHeader(sealed []byte) (id string, rest []byte, err error) {
	if len(sealed) < 2 || sealed[0] != sealVersion {
		return "", nil, ErrSealed
	}
	n := int(sealed[1])
	if n == 0 || len(sealed) < 2+n {
		return "", nil, ErrSealed
	}
	return string(sealed[2 : 2+n]), sealed[2+n:], nil
}

// aad binds the header (so the key id cannot be swapped) and the caller's data.
func aad(header, associatedData []byte) []byte {
	out := make([]byte, 0, len(header)+len(associatedData))
	return append(append(out, header...), associatedData...)
}
