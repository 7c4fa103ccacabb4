package dsr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vowprivacy/vow/identity"
)

// forget removes from Vow's own records what its earlier requests kept of
// the subject an erasure has just erased: their access packages (a copy
// of every row of theirs), and the identities, resolved keys and
// requested changes stored with each. A request shares the subject when
// one of its identities is one of the erasure's (the same kind, the same
// normalised value). Requests still open are left to finish; each
// forgotten one records a request.forgotten event naming the erasure.
func (s *Service) forget(ctx context.Context, erasure *Request) error {
	// Requests still holding identities (open ones, failed ones, and
	// those from before version 11) are matched by identity; those that
	// have ended hold only the pseudonyms.
	mine := s.pseudonyms(erasure.Identities)
	in := make([]any, len(mine))
	for i, p := range mine {
		in[i] = p
	}
	args := append(append(append([]any{}, in...), erasure.ID), in...)
	rows, err := s.Store.DB().QueryContext(ctx, s.Store.Rebind(
		`SELECT id, status, identities, result, id IN (SELECT request_id FROM request_pseudonyms WHERE pseudonym IN (`+placeholders(len(mine))+`))
		FROM requests WHERE id <> ? AND (identities <> '{}' OR id IN (SELECT request_id FROM request_pseudonyms WHERE pseudonym IN (`+placeholders(len(mine))+`)))`),
		args...)
	if err != nil {
		return s.Store.Wrap(err, "dsr: find the subject's earlier requests")
	}
	type earlier struct {
		id     string
		status Status
		result *Result
	}
	var found []earlier
	for rows.Next() {
		var (
			id, status, ids string
			result          *string
			byPseudonym     bool
		)
		if err := rows.Scan(&id, &status, &ids, &result, &byPseudonym); err != nil {
			rows.Close()
			return s.Store.Wrap(err, "dsr: find the subject's earlier requests")
		}
		var theirs Identities
		if json.Unmarshal([]byte(ids), &theirs) != nil || !Status(status).Final() || !(byPseudonym || shareIdentity(erasure.Identities, theirs)) {
			continue
		}
		e := earlier{id: id, status: Status(status)}
		if result != nil {
			if err := json.Unmarshal([]byte(*result), &e.result); err != nil {
				rows.Close()
				return fmt.Errorf("dsr: request %s: stored result: %w", id, err)
			}
		}
		if len(theirs) == 0 && (e.result == nil || e.result.Export == "") {
			continue // nothing of the subject left to forget
		}
		found = append(found, e)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return s.Store.Wrap(err, "dsr: find the subject's earlier requests")
	}
	for _, e := range found {
		set := map[string]any{"identities": "{}", "keys": nil, "changes": "{}"}
		data := map[string]any{"erasure": erasure.ID}
		if e.result != nil && e.result.Export != "" {
			err := os.Remove(filepath.Join(s.ExportDir, filepath.Base(e.result.Export)))
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("dsr: delete the access package of %s: %w", e.id, err)
			}
			e.result.Export, e.result.ExportExpires = "", nil
			out, err := marshalResult(e.result)
			if err != nil {
				return err
			}
			set["result"] = out
			data["package"] = "deleted"
		}
		// Its status stays: a request that has ended is only forgotten.
		if err := s.move(ctx, e.id, []Status{e.status}, e.status, set, "request.forgotten", data); err != nil {
			return err
		}
	}
	return nil
}

// placeholders is n comma-separated ?s, at least one (a NULL matches
// nothing).
func placeholders(n int) string {
	if n == 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// shareIdentity reports whether two requests name one identity: a kind
// both carry, with the same value once normalised.
func shareIdentity(a, b Identities) bool {
	for kind, v := range a {
		if w, ok := b[kind]; ok && identity.Equal(kind, v, w) {
			return true
		}
	}
	return false
}
