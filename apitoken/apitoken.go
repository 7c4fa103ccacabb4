// Package apitoken owns the tokens of Vow's HTTP API: creating them (the
// secret is shown once), listing, revoking, and checking a presented token
// on every request.
//
// A token is "vow_" + a public id + "_" + 32 random bytes (base64url). Only
// its SHA-256 is stored: the secret has 256 bits of entropy, so a fast hash
// is enough (no password hashing needed), and a stolen state store does not
// give working tokens. Each token has a unique name (recorded as the actor of
// what it does) and scopes: requests, consent, admin (admin implies all).
package apitoken

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vowprivacy/vow/state"
)

// Scopes a token may hold.
const (
	ScopeRequests = "requests"
	ScopeConsent  = "consent"
	ScopeAdmin    = "admin"
)

// Scopes lists the valid scopes.
var Scopes = []string{ScopeRequests, ScopeConsent, ScopeAdmin}

// Errors callers branch on.
var (
	// ErrInvalid is wrapped by errors about bad input (a bad name or scope).
	ErrInvalid = errors.New("apitoken: invalid input")
	// ErrUnauthorized means the presented token is unknown, malformed or revoked.
	ErrUnauthorized = errors.New("apitoken: token is not valid")
	// ErrNotFound means no token has that name or id.
	ErrNotFound = errors.New("apitoken: no such token")
	// ErrExists means a token with that name exists already.
	ErrExists = errors.New("apitoken: a token with that name exists")
)

// Token describes a token; it never holds the secret.
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Allows reports whether the token may act in scope: it holds the scope or
// admin.
func (t Token) Allows(scope string) bool {
	return scope == "" || slices.Contains(t.Scopes, scope) || slices.Contains(t.Scopes, ScopeAdmin)
}

// Store keeps tokens in Vow's state store. Verified tokens are cached in
// memory for CacheTTL so that authenticating a request costs a map lookup
// and a constant-time comparison; a revocation through this Store takes
// effect at once, one through another instance within CacheTTL.
type Store struct {
	st  *state.Store
	now func() time.Time
	// Actor names who creates and revokes tokens through this store, for
	// the audit log; "vow" when empty.
	Actor string

	// cache maps a token's public id to the secret last verified for it.
	// Readers load the map through an atomic pointer and never write it:
	// every API request reads it, and a lock's shared state (an RWMutex's
	// reader count) is a counter the cores fight over. Writers copy it
	// under mu; they come once per token per CacheTTL, and only for
	// secrets the store has just verified, so a caller presenting wrong
	// secrets cannot make it grow.
	cache atomic.Pointer[map[string]*cached]
	mu    sync.Mutex
	// gen counts revocations through this store: a verification that
	// read the store before a revocation (gen changed meanwhile) is not
	// cached, so it cannot put back a token that Revoke just dropped.
	gen uint64
}

type cached struct {
	tok Token
	// sum is the SHA-256 of the secret the store verified, compared in
	// constant time with the presented one's. Not the secret itself: a
	// core dump or a swapped page of a long-running server would then
	// hold every live token in clear, which is what the state store
	// keeps only hashes to avoid; the hash costs a few hundred
	// nanoseconds a request.
	sum      [sha256.Size]byte
	expires  time.Time
	lastUsed atomic.Int64 // unix nanoseconds of the last recorded use
}

// maxCached bounds the cache: past it, a new entry starts an empty map.
const maxCached = 10_000

// CacheTTL bounds how long a verified token is trusted without asking the
// store again (and so how long a revoked token may still work on another
// instance).
const CacheTTL = 5 * time.Second

// lastUsedEvery throttles last_used_at writes to one per token per minute.
const lastUsedEvery = time.Minute

// New returns a Store on st.
func New(st *state.Store) *Store {
	return &Store{st: st, now: time.Now}
}

// validName reports whether name is 1–64 letters, digits, '.', '_' or
// '-', starting with a letter or digit. It was the regular expression
// ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$, whose bounded repeat took about 1 ms
// to compile at the start of every vow command.
func validName(name string) bool {
	if len(name) == 0 || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// Create makes a token named name with scopes and returns it with its
// secret, which is not stored and cannot be shown again.
func (s *Store) Create(ctx context.Context, name string, scopes []string) (Token, string, error) {
	if !validName(name) {
		return Token{}, "", fmt.Errorf("%w: name %q must be 1-64 letters, digits, '.', '_' or '-'", ErrInvalid, name)
	}
	if len(scopes) == 0 {
		return Token{}, "", fmt.Errorf("%w: give at least one scope (%s)", ErrInvalid, strings.Join(Scopes, ", "))
	}
	scopes = slices.Clone(scopes)
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) {
			return Token{}, "", fmt.Errorf("%w: unknown scope %q (valid: %s)", ErrInvalid, sc, strings.Join(Scopes, ", "))
		}
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	var idb [6]byte
	var sec [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return Token{}, "", err
	}
	if _, err := rand.Read(sec[:]); err != nil {
		return Token{}, "", err
	}
	id := hex.EncodeToString(idb[:])
	secret := "vow_" + id + "_" + base64.RawURLEncoding.EncodeToString(sec[:])
	now := s.now().UTC().Truncate(time.Microsecond)
	err := s.st.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.st.Rebind(
			`INSERT INTO api_tokens (id, name, hash, scopes, created_at) VALUES (?, ?, ?, ?, ?)`),
			id, name, hexHash(secret), strings.Join(scopes, " "), now.UnixMicro()); err != nil {
			return err
		}
		return s.record(ctx, tx, "token.created", id, map[string]any{"name": name, "scopes": scopes})
	})
	if err != nil {
		if isUnique(err) {
			return Token{}, "", fmt.Errorf("%w: %q (revoke it or choose another name)", ErrExists, name)
		}
		return Token{}, "", s.st.Wrap(err, "create token %s", name)
	}
	return Token{ID: id, Name: name, Scopes: scopes, CreatedAt: now}, secret, nil
}

// record appends an entry about token id to the audit log, in the
// transaction of the change it records.
func (s *Store) record(ctx context.Context, tx *sql.Tx, kind, id string, data map[string]any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = s.st.AppendTx(ctx, tx, state.Event{Kind: kind, Subject: id, Actor: cmp.Or(s.Actor, "vow"), Data: b})
	return err
}

func isUnique(err error) bool {
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "unique") || strings.Contains(m, "duplicate key")
}

func hexHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// List returns every token, revoked ones included, by creation time.
func (s *Store) List(ctx context.Context) ([]Token, error) {
	rows, err := s.st.DB().QueryContext(ctx,
		`SELECT id, name, scopes, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY created_at, name`)
	if err != nil {
		return nil, s.st.Wrap(err, "list tokens")
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, s.st.Wrap(err, "list tokens")
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.st.Wrap(err, "list tokens")
	}
	return out, nil
}

type scanner interface{ Scan(...any) error }

func scanToken(r scanner) (Token, error) {
	var (
		t              Token
		scopes         string
		created        int64
		lastUsed, revd sql.NullInt64
	)
	if err := r.Scan(&t.ID, &t.Name, &scopes, &created, &lastUsed, &revd); err != nil {
		return Token{}, err
	}
	t.Scopes = strings.Fields(scopes)
	t.CreatedAt = time.UnixMicro(created).UTC()
	if lastUsed.Valid {
		v := time.UnixMicro(lastUsed.Int64).UTC()
		t.LastUsedAt = &v
	}
	if revd.Valid {
		v := time.UnixMicro(revd.Int64).UTC()
		t.RevokedAt = &v
	}
	return t, nil
}

// Revoke revokes the token with that name or id. Revoking twice is harmless.
func (s *Store) Revoke(ctx context.Context, nameOrID string) (Token, error) {
	now := s.now().UTC().UnixMicro()
	err := s.st.InTx(ctx, func(tx *sql.Tx) error {
		var id, name string
		err := tx.QueryRowContext(ctx, s.st.Rebind(`SELECT id, name FROM api_tokens WHERE (name = ? OR id = ?) AND revoked_at IS NULL`), nameOrID, nameOrID).Scan(&id, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // unknown (below), or revoked already: harmless
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.st.Rebind(`UPDATE api_tokens SET revoked_at = ? WHERE id = ?`), now, id); err != nil {
			return err
		}
		return s.record(ctx, tx, "token.revoked", id, map[string]any{"name": name})
	})
	if err != nil {
		return Token{}, s.st.Wrap(err, "revoke token %s", nameOrID)
	}
	s.mu.Lock()
	s.gen++
	s.cache.Store(nil)
	s.mu.Unlock()
	row := s.st.DB().QueryRowContext(ctx, s.st.Rebind(
		`SELECT id, name, scopes, created_at, last_used_at, revoked_at FROM api_tokens WHERE name = ? OR id = ?`), nameOrID, nameOrID)
	t, err := scanToken(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("%w: %q (vow token list shows them)", ErrNotFound, nameOrID)
	}
	if err != nil {
		return Token{}, s.st.Wrap(err, "revoke token %s", nameOrID)
	}
	return t, nil
}

// Authenticate returns the live token whose secret is presented, or an
// error wrapping ErrUnauthorized.
func (s *Store) Authenticate(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, "vow_") || len(secret) > 128 {
		return Token{}, ErrUnauthorized
	}
	now := s.now()
	id := publicID(secret)
	// Hashed from a stack copy: []byte(secret) of a secret longer than
	// 32 bytes is a heap allocation per request.
	var buf [128]byte
	h := sha256.Sum256(buf[:copy(buf[:], secret)])
	var c *cached
	if m := s.cache.Load(); m != nil && id != "" {
		c = (*m)[id]
	}
	if c != nil && now.Before(c.expires) && subtle.ConstantTimeCompare(c.sum[:], h[:]) == 1 {
		s.touch(c, now)
		return c.tok, nil
	}
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	row := s.st.DB().QueryRowContext(ctx, s.st.Rebind(
		`SELECT id, name, scopes, created_at, last_used_at, revoked_at FROM api_tokens WHERE hash = ?`), hex.EncodeToString(h[:]))
	t, err := scanToken(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Token{}, ErrUnauthorized
	case err != nil:
		return Token{}, s.st.Wrap(err, "authenticate token")
	case t.RevokedAt != nil:
		return Token{}, ErrUnauthorized
	}
	nc := &cached{tok: t, sum: h, expires: now.Add(CacheTTL)}
	if c != nil && c.tok.ID == t.ID {
		nc.lastUsed.Store(c.lastUsed.Load())
	}
	if id == t.ID {
		s.put(gen, nc)
	}
	s.touch(nc, now)
	return t, nil
}

// put caches c under its token's id, unless a revocation came after the
// verification that made c (gen is the count before it).
func (s *Store) put(gen uint64, c *cached) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return
	}
	var m map[string]*cached
	if old := s.cache.Load(); old != nil && len(*old) < maxCached {
		m = maps.Clone(*old)
	}
	if m == nil {
		m = map[string]*cached{}
	}
	m[c.tok.ID] = c
	s.cache.Store(&m)
}

// publicID returns the id part of a secret shaped "vow_" + id + "_" + …,
// or "" for a secret of another shape (which no token has).
func publicID(secret string) string {
	rest := secret[len("vow_"):]
	id, _, ok := strings.Cut(rest, "_")
	if !ok || id == "" {
		return ""
	}
	return id
}

// touch records the token's last use, at most once a minute per token and
// off the request's path.
func (s *Store) touch(c *cached, now time.Time) {
	last := c.lastUsed.Load()
	if now.UnixNano()-last < int64(lastUsedEvery) || !c.lastUsed.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	id := c.tok.ID
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = s.st.DB().ExecContext(ctx, s.st.Rebind(`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`), now.UTC().UnixMicro(), id)
	}()
}
