// Package keyring holds Vow's own keys: an Ed25519 key that signs what Vow
// vouches for (erasure certificates, consent receipts) and HMAC keys that
// authenticate the links Vow hands out (export downloads, unsubscribe and
// receipt links) and pseudonymise erased values.
//
// Every key is derived with HKDF-SHA256 from one 32-byte master key, each for
// a named purpose, so a key used for one thing can never be replayed for
// another. The master key comes from the VOW_MASTER_KEY environment variable
// (base64) or, failing that, from the file master.key in Vow's data
// directory, created with mode 0600 on first use. Instances that share a
// PostgreSQL state store must share the master key: [Bind] records the
// signing key's ID in the store and refuses a different one.
package keyring

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvVar names the environment variable that holds the master key.
const EnvVar = "VOW_MASTER_KEY"

// FileName is the master key file in the data directory.
const FileName = "master.key"

// Errors returned by [Keyring.OpenToken]; the caller answers both the same
// way (the link is not valid) but may log them apart.
var (
	ErrBadToken = errors.New("keyring: token is not valid")
	ErrExpired  = errors.New("keyring: token has expired")
)

// ErrKeyMismatch is returned by [Bind] when the store was set up with a
// different master key.
var ErrKeyMismatch = errors.New("keyring: master key does not match the state store")

// Keyring holds the keys derived from one master key. It is safe for
// concurrent use.
type Keyring struct {
	master []byte
	sign   ed25519.PrivateKey
	id     string
	// gen is the generation of sign: 1 for the key derived first, one
	// more for each rotation (the state store records the current one).
	gen int
	// id1 is the ID of generation 1, which names the master key.
	id1 string
	// macKeys caches MAC's derived keys by purpose: deriving one (HKDF)
	// costs more than the MAC itself, and erasure and retention call MAC
	// once per distinct value. Purposes are a handful of constants.
	macKeys sync.Map // string → []byte
}

// New derives a keyring from a 32-byte master key.
func New(master []byte) (*Keyring, error) {
	if len(master) != 32 {
		return nil, fmt.Errorf("keyring: master key is %d bytes, want 32", len(master))
	}
	k := &Keyring{master: bytes.Clone(master)}
	k.use(1)
	k.id1 = k.id
	return k, nil
}

// signingKey derives the signing key of a generation. Generation 1 keeps
// the derivation Vow has always used.
func (k *Keyring) signingKey(gen int) ed25519.PrivateKey {
	purpose := "vow signing key v1"
	if gen > 1 {
		purpose += " generation " + strconv.Itoa(gen)
	}
	return ed25519.NewKeyFromSeed(k.derive(purpose, ed25519.SeedSize))
}

// use makes gen the signing generation.
func (k *Keyring) use(gen int) {
	k.gen = gen
	k.sign = k.signingKey(gen)
	k.id = KeyID(k.sign.Public().(ed25519.PublicKey))
}

// PublicKey is the public half of one generation of the signing key.
type PublicKey struct {
	ID         string            `json:"key_id"`
	Algorithm  string            `json:"algorithm"`
	Key        ed25519.PublicKey `json:"public_key"`
	Generation int               `json:"generation"`
	// Current marks the key Vow signs with now; the others verify what
	// it signed before a rotation.
	Current bool `json:"current"`
}

// Generation returns the generation of the signing key.
func (k *Keyring) Generation() int { return k.gen }

// PublicKeys returns the public halves of every generation of the signing
// key up to the current one, oldest first: what Vow signed before a
// rotation still verifies with them.
func (k *Keyring) PublicKeys() []PublicKey { return k.PublicKeysThrough(k.gen) }

// PublicKeysThrough is [Keyring.PublicKeys] up to generation gen, which
// may be past this keyring's own when another instance has rotated since
// it was bound (see [Generation]).
func (k *Keyring) PublicKeysThrough(gen int) []PublicKey {
	gen = max(gen, k.gen)
	out := make([]PublicKey, 0, gen)
	for g := 1; g <= gen; g++ {
		pub := k.signingKey(g).Public().(ed25519.PublicKey)
		out = append(out, PublicKey{ID: KeyID(pub), Algorithm: "Ed25519", Key: pub, Generation: g, Current: g == gen})
	}
	return out
}

// trustAhead is how many generations past its own a keyring trusts: they
// come from the same master key, and another instance may have rotated
// since this one was bound — what it signed with the new key is not
// tampering.
const trustAhead = 8

// Trusted returns the public keys of every generation up to this
// keyring's, and of the few after it.
func (k *Keyring) Trusted() []ed25519.PublicKey {
	var out []ed25519.PublicKey
	for _, p := range k.PublicKeysThrough(k.gen + trustAhead) {
		out = append(out, p.Key)
	}
	return out
}

// Generation reads the signing generation recorded in the store: 1 when
// none is.
func Generation(ctx context.Context, s MetaStore) (int, error) {
	v, ok, err := s.Meta(ctx, metaGeneration)
	if err != nil || !ok {
		return 1, err
	}
	gen, err := strconv.Atoi(v)
	if err != nil || gen < 1 {
		return 0, fmt.Errorf("keyring: the store's %s is %q, not a generation", metaGeneration, v)
	}
	return gen, nil
}

// ErrNoKey is returned by [Open] when there is no master key: neither
// $VOW_MASTER_KEY nor dataDir/master.key.
var ErrNoKey = errors.New("keyring: no master key")

// Open reads the master key from $VOW_MASTER_KEY (through lookupEnv, or
// os.LookupEnv when nil) or from dataDir/master.key, and never creates one:
// what only checks signatures must not make a key that signed nothing. It
// returns an error wrapping [ErrNoKey] when neither exists.
func Open(dataDir string, lookupEnv func(string) (string, bool)) (*Keyring, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	if v, ok := lookupEnv(EnvVar); ok && strings.TrimSpace(v) != "" {
		master, err := decodeKey(v)
		if err != nil {
			return nil, fmt.Errorf("keyring: %s: %w (generate one with: head -c 32 /dev/urandom | base64)", EnvVar, err)
		}
		return New(master)
	}
	path := filepath.Join(dataDir, FileName)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: %s is not set and %s does not exist", ErrNoKey, EnvVar, path)
	case err != nil:
		return nil, fmt.Errorf("keyring: read %s: %w", path, err)
	}
	master, err := decodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("keyring: %s: %w (restore it from your backup; without it Vow cannot verify what it signed)", path, err)
	}
	return New(master)
}

// Load is [Open], creating dataDir/master.key with a fresh random key when
// there is no master key yet.
func Load(dataDir string, lookupEnv func(string) (string, bool)) (*Keyring, error) {
	k, err := Open(dataDir, lookupEnv)
	if !errors.Is(err, ErrNoKey) {
		return k, err
	}
	path := filepath.Join(dataDir, FileName)
	master := make([]byte, 32)
	rand.Read(master)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("keyring: create %s: %w", dataDir, err)
	}
	// O_EXCL: when two processes start at once, one creates and the other
	// reads what it wrote.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Open(dataDir, func(string) (string, bool) { return "", false })
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: create %s: %w", path, err)
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(master) + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("keyring: write %s: %w", path, werr)
	}
	return New(master)
}

func decodeKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("not base64: %v", err)
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("key is %d bytes, want 32", len(b))
	}
	return b, nil
}

// MetaStore is the part of the state store that [Bind] and
// [Keyring.Rotate] need.
type MetaStore interface {
	InitMeta(ctx context.Context, key, value string) (string, error)
	Meta(ctx context.Context, key string) (string, bool, error)
	// SwapMeta sets key to value if it holds old ("" for absent), and
	// reports whether it did.
	SwapMeta(ctx context.Context, key, old, value string) (bool, error)
}

// Meta keys in the state store.
const (
	metaKeyID      = "signing_key_id"
	metaGeneration = "signing_generation"
)

// Bind records the keyring's key ID in the state store the first time, and
// afterwards returns [ErrKeyMismatch] if a different master key is in use:
// an instance with the wrong key would sign certificates nobody can check.
// It then signs with the generation the store says is current (after
// [Keyring.Rotate]). It must be called before the keyring is shared.
func (k *Keyring) Bind(ctx context.Context, s MetaStore) error {
	got, err := s.InitMeta(ctx, metaKeyID, k.id1)
	if err != nil {
		return err
	}
	if got != k.id1 {
		return fmt.Errorf("%w: the store was set up with key %s, this instance has %s (give every instance the same %s)", ErrKeyMismatch, got, k.id1, EnvVar)
	}
	gen, err := Generation(ctx, s)
	if err != nil {
		return err
	}
	if gen != k.gen {
		k.use(gen)
	}
	return nil
}

// Bound reports whether a key has been bound to the store yet.
func Bound(ctx context.Context, s MetaStore) (bool, error) {
	_, ok, err := s.Meta(ctx, metaKeyID)
	return ok, err
}

// Rotate makes the next generation of the signing key current, in the
// state store and in k. Earlier generations stay trusted for
// verification (PublicKeys); other instances sign with the new key from
// their next start, and what they sign meanwhile still verifies. k must
// be bound (Bind) to s.
func (k *Keyring) Rotate(ctx context.Context, s MetaStore) error {
	old := ""
	if k.gen > 1 {
		old = strconv.Itoa(k.gen)
	} else if v, ok, err := s.Meta(ctx, metaGeneration); err != nil {
		return err
	} else if ok {
		old = v
	}
	swapped, err := s.SwapMeta(ctx, metaGeneration, old, strconv.Itoa(k.gen+1))
	if err != nil {
		return err
	}
	if !swapped {
		return fmt.Errorf("keyring: the signing key was rotated meanwhile by another instance; run again")
	}
	k.use(k.gen + 1)
	return nil
}

func (k *Keyring) derive(purpose string, n int) []byte {
	b, err := hkdf.Key(sha256.New, k.master, nil, purpose, n)
	if err != nil {
		panic("keyring: hkdf: " + err.Error()) // only for n > 255*32
	}
	return b
}

// KeyID returns the ID of a public key: the first 16 hex digits of its
// SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// ID returns the ID of the signing key.
func (k *Keyring) ID() string { return k.id }

// PublicKey returns the public half of the signing key.
func (k *Keyring) PublicKey() ed25519.PublicKey { return k.sign.Public().(ed25519.PublicKey) }

// Sign signs msg with the signing key.
func (k *Keyring) Sign(msg []byte) []byte { return ed25519.Sign(k.sign, msg) }

// Verify reports whether sig is pub's signature of msg.
func Verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, sig)
}

// MAC returns HMAC-SHA256 of msg under the key derived for purpose.
func (k *Keyring) MAC(purpose string, msg []byte) []byte {
	key, ok := k.macKeys.Load(purpose)
	if !ok {
		key, _ = k.macKeys.LoadOrStore(purpose, k.derive("vow mac v1: "+purpose, 32))
	}
	m := hmac.New(sha256.New, key.([]byte))
	m.Write(msg)
	return m.Sum(nil)
}

// PseudonymPrefix starts every value made by [Keyring.Pseudonym], so that
// a pseudonymised value is recognised and never pseudonymised twice.
const PseudonymPrefix = "hmac:"

// Pseudonym widths: the default (prefix and 32 hex digits, 37 characters,
// to fit the columns that held emails and names) and the narrowest column
// a pseudonym still fits with 8 hex digits.
const (
	PseudonymLen    = len(PseudonymPrefix) + 32
	MinPseudonymLen = len(PseudonymPrefix) + 8
)

// Pseudonym replaces a personal value by a keyed hash of it: the same
// value always gives the same pseudonym (so records stay linkable), but
// the value cannot be recovered without the master key. Erasure requests
// and retention runs both write pseudonyms through it (and
// [Keyring.PseudonymFit]), so a value masked by one is recognised by the
// other and never hashed twice.
func (k *Keyring) Pseudonym(value string) string { return k.PseudonymFit(value, 0) }

// PseudonymFit is [Keyring.Pseudonym] for a column of at most width
// characters: the hash is shortened to fit (not below 8 hex digits). A
// width of 0, or one of PseudonymLen or more, gives the full pseudonym. A
// value that is a pseudonym already is returned as it is.
func (k *Keyring) PseudonymFit(value string, width int) string {
	if IsPseudonym(value) {
		return value
	}
	h := hex.EncodeToString(k.MAC("erasure", []byte(value))[:16])
	if width > 0 && width < PseudonymLen {
		h = h[:max(width-len(PseudonymPrefix), 8)]
	}
	return PseudonymPrefix + h
}

// PseudonymInt is the pseudonym of a value in an integer column: a
// negative number (no key or count is negative), derived like
// [Keyring.Pseudonym]. A negative value is returned as it is.
func (k *Keyring) PseudonymInt(value int64) int64 {
	if value < 0 {
		return value
	}
	m := k.MAC("erasure", []byte(strconv.FormatInt(value, 10)))
	return -int64(binary.BigEndian.Uint32(m)&0x7fffffff) - 1
}

// IsPseudonym reports whether s is a pseudonym made by
// [Keyring.PseudonymFit]: the prefix and 8 to 32 lower-case hex digits.
// The format decides, not the length of the column.
func IsPseudonym(s string) bool {
	h, ok := strings.CutPrefix(s, PseudonymPrefix)
	if !ok || len(h) < 8 || len(h) > 32 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Token returns an opaque, URL-safe token that carries payload until
// expires, authenticated for purpose. The payload is readable by whoever
// holds the token: put identifiers in it, never secrets.
func (k *Keyring) Token(purpose string, payload []byte, expires time.Time) string {
	body := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint64(body, uint64(expires.Unix()))
	body = append(body, payload...)
	mac := k.MAC("token: "+purpose, body)
	return base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(mac[:16])
}

// OpenToken checks a token made by [Keyring.Token] for purpose and returns
// its payload. A forged or altered token, or one made for another purpose,
// gives [ErrBadToken]; one past its expiry at now gives [ErrExpired].
func (k *Keyring) OpenToken(purpose, token string, now time.Time) ([]byte, error) {
	b64body, b64mac, ok := strings.Cut(token, ".")
	if !ok {
		return nil, ErrBadToken
	}
	body, err1 := base64.RawURLEncoding.DecodeString(b64body)
	mac, err2 := base64.RawURLEncoding.DecodeString(b64mac)
	if err1 != nil || err2 != nil || len(body) < 8 {
		return nil, ErrBadToken
	}
	if !hmac.Equal(mac, k.MAC("token: "+purpose, body)[:16]) {
		return nil, ErrBadToken
	}
	if exp := int64(binary.BigEndian.Uint64(body)); now.Unix() >= exp {
		return nil, ErrExpired
	}
	return body[8:], nil
}
