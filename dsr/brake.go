package dsr

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/hold"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/policy"
)

// underHold returns a description of the open legal hold the subject is
// under ("email"), or "". A hold names a person by any of their
// identities: the request's own, or one held in a row of theirs (a hold
// on an email stops an erasure requested by user_id). The rows are tested
// with hold.Condition, the same test retention runs use.
func (s *Service) underHold(ctx context.Context, plan *Plan, r *Request, cs *conns) (string, error) {
	if s.Holds == nil {
		return "", nil
	}
	held, err := s.Holds.Subjects(ctx)
	if err != nil {
		return "", fmt.Errorf("dsr: read legal holds: %w", err)
	}
	if len(held) == 0 {
		return "", nil
	}
	for _, k := range kindsOf(r.Identities) {
		for _, v := range held[k] {
			if identity.Equal(k, v, r.Identities[k]) {
				return k, nil
			}
		}
	}
	for _, st := range plan.Steps {
		if st.Role != RoleSubject {
			continue
		}
		c, err := cs.get(ctx, st.System)
		if err != nil {
			return "", err
		}
		d := c.Dialect()
		sc, err := s.schema(ctx, st.System, c)
		if err != nil {
			return "", err
		}
		hc, hargs := hold.Condition(s.Policy, d, st.System, st.Table, d.Ident(st.Table), held, sc)
		if hc == "" {
			continue
		}
		where, args := whereFn(func(pre []any) (string, []any) { return plan.WhereAfter(st, r.Identities, r.keys, pre) }).also(d, hc, hargs...)(nil)
		var n int64
		if err := c.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+d.Ident(st.Table)+" WHERE "+where, args...).Scan(&n); err != nil {
			return "", c.Translate(ctx, "check legal holds on "+st.ID(), err)
		}
		if n > 0 {
			return fmt.Sprintf("%d rows of %s belong to a held person", n, st.ID()), nil
		}
	}
	return "", nil
}

// brake checks an erasure's plan against the live databases before
// anything is changed, and returns why it must wait for an operator:
//   - rows of a person table (its primary key is an identity) reached
//     through a relation rather than by the subject's identity: other
//     people's accounts;
//   - rows of other people that the database's own ON DELETE CASCADE
//     would delete along with the subject's;
//   - more rows of a table than one person plausibly owns (the policy's
//     brake: a share of the table and a number of rows, both exceeded).
//
// A foreign key that would make the erasure fail (RESTRICT, NO ACTION) is
// an error, not a reason to wait: the policy has to say what becomes of
// the referencing rows.
func (s *Service) brake(ctx context.Context, plan *Plan, r *Request, cs *conns) ([]string, error) {
	var reasons []string
	for _, sys := range systems(plan) {
		why, err := s.brakeSystem(ctx, plan, r, cs, sys)
		if err != nil {
			return nil, err
		}
		reasons = append(reasons, why...)
	}
	return reasons, nil
}

// brakeSystem checks the steps of one system, in one read-only
// transaction: on MariaDB the parents' values are read first (as erasure
// reads them), since a subquery in a count scans the whole table there.
func (s *Service) brakeSystem(ctx context.Context, plan *Plan, r *Request, cs *conns, system string) ([]string, error) {
	c, err := cs.get(ctx, system)
	if err != nil {
		return nil, err
	}
	sc, err := s.schema(ctx, system, c)
	if err != nil {
		return nil, err
	}
	tx, err := c.DB().BeginTx(ctx, &sql.TxOptions{ReadOnly: c.Dialect().Kind() != "sqlite"})
	if err != nil {
		return nil, c.Translate(ctx, "begin", err)
	}
	defer tx.Rollback()
	e := &eraser{s: s, tx: tx, c: c, plan: plan, r: r, schema: sc}
	d := c.Dialect()
	limit := s.Policy.RequestBrake()
	var reasons []string
	for _, st := range plan.Steps {
		if st.System != system || !st.Erase.Acts() && !(st.Erase.Hold && st.Erase.From != "") {
			continue
		}
		keys, err := s.inlineParents(ctx, tx, c, plan, st, r)
		if err != nil {
			return nil, err
		}
		wf := whereFn(func(pre []any) (string, []any) { return plan.WhereAfter(st, r.Identities, keys, pre) })
		if st.unshared != "" {
			wf = wf.also(d, st.unshared) // shared owned rows stay: not counted
		}
		where, args := wf(nil)
		n, err := e.count(ctx, st, "SELECT count(*) FROM "+d.Ident(st.Table)+" WHERE "+where, args)
		if err != nil || n == 0 {
			if err != nil {
				return nil, err
			}
			continue
		}
		if n > int64(limit.Rows) {
			total, err := connector.RowCount(ctx, c, tx, st.Table)
			if err != nil {
				return nil, err
			}
			if limit.Trips(n, total) {
				reasons = append(reasons, fmt.Sprintf("%s: the erasure would change %d of its %d rows, more than one person plausibly owns (brake: over %s and over %d rows)",
					st.ID(), n, total, limit.Share, limit.Rows))
			}
		}
		if why, err := e.others(ctx, st, keys); err != nil {
			return nil, err
		} else if why != "" {
			reasons = append(reasons, why)
		}
		if st.Role == RoleSubject && st.Erase.Hold {
			// Only rows past their hold are deleted.
			cut, ok := holdCutoff(st, s.now())
			if !ok {
				continue
			}
			wf = wf.before(d, st, cut)
		}
		if st.Role == RoleSubject && (st.Erase.Delete || st.Erase.Hold) {
			why, err := e.preflightCascades(ctx, st, wf)
			if err != nil {
				return nil, err
			}
			reasons = append(reasons, why...)
		}
	}
	return reasons, nil
}

// keyless refuses an erasure that would change a table without a key:
// without one Vow cannot tell its rows apart to record and verify what it
// did. The policy's primary_key may name a unique NOT NULL column.
func (s *Service) keyless(ctx context.Context, plan *Plan, cs *conns) error {
	for _, st := range plan.Steps {
		if !st.Erase.Acts() && !(st.Erase.Hold && st.Erase.From != "") || len(st.PrimaryKey) > 0 {
			continue
		}
		c, err := cs.get(ctx, st.System)
		if err != nil {
			return err
		}
		sc, err := s.schema(ctx, st.System, c)
		if err != nil {
			return err
		}
		if lt := sc.Table(st.Table); lt != nil && len(lt.PrimaryKey) == 0 {
			return &errRestricted{fmt.Sprintf("dsr: erasure of %s refused: the table has no primary key, so Vow cannot tell its rows apart to "+
				"record and verify what it did; declare primary_key: [a UNIQUE NOT NULL column] in the policy (vow init proposes one), "+
				"or add a key to the table; then vow request retry", st.ID())}
		}
	}
	return nil
}

// others finds rows of a person table the step reaches through relations
// whose own identity is not the subject's: other people's accounts.
func (e *eraser) others(ctx context.Context, st *Step, keys *Keys) (string, error) {
	if st.Role != RoleSubject {
		return "", nil
	}
	plan, r := e.plan, e.r
	t := e.s.Policy.System(st.System).Table(st.Table)
	pk := st.PrimaryKey
	if len(pk) != 1 {
		return "", nil
	}
	f := t.Field(pk[0])
	if f == nil || f.Identity == "" {
		return "", nil // not a table of people
	}
	var byIdentity, byRelation []Match
	for _, m := range st.Matches {
		if m.Identity != "" {
			byIdentity = append(byIdentity, m)
		} else {
			byRelation = append(byRelation, m)
		}
	}
	if len(byRelation) == 0 {
		return "", nil
	}
	rel, ids := *st, *st
	rel.Matches, ids.Matches = byRelation, byIdentity
	d := e.c.Dialect()
	w1, a := plan.WhereAfter(&rel, r.Identities, keys, nil)
	cond := w1
	if len(byIdentity) > 0 {
		var unfit []string
		if r.keys != nil {
			unfit = r.keys.Unfit
		}
		w2, a2 := plan.WhereAfter(&ids, r.Identities, &Keys{Unfit: unfit}, a)
		cond += " AND (" + w2 + ") IS NOT TRUE" // NULL identity: not the subject
		a = a2
	}
	n, err := e.count(ctx, st, "SELECT count(*) FROM "+d.Ident(st.Table)+" WHERE "+cond, a)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", nil
	}
	var via []string
	for _, m := range byRelation {
		via = append(via, strings.Join(m.Columns, ", ")+" → "+m.Parent)
	}
	return fmt.Sprintf("%s: %d rows reached through %s are other people (each has its own %s); erasing them would erase those people",
		st.ID(), n, strings.Join(via, ", "), f.Identity), nil
}

// preflightCascades reads, before anything is erased, what the database's
// ON DELETE rules would do to rows that reference the step's rows and that
// the plan itself does not erase.
func (e *eraser) preflightCascades(ctx context.Context, st *Step, wf whereFn) ([]string, error) {
	refs, err := e.referencesOf(ctx, st, wf, true)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ref := range refs {
		if e.plan.clears(st, ref.table, ref.fk.Columns) {
			continue
		}
		if ref.fk.OnDelete == "CASCADE" && ref.rows > ref.others && e.keeps(st.System, ref.table) {
			return nil, &errRestricted{fmt.Sprintf("dsr: deleting the subject's rows of %s would make the database delete rows of %s that the policy keeps (a hold; ON DELETE CASCADE): make the foreign key ON DELETE SET NULL and give %s.%s erase: nullify, or hold %s too; then vow request retry",
				st.ID(), ref.table, ref.table, ref.fk.Columns[0], st.Table)}
		}
		if ref.others == 0 {
			continue
		}
		switch ref.fk.OnDelete {
		case "CASCADE":
			out = append(out, fmt.Sprintf("deleting the subject's rows of %s would make the database delete %d rows of %s that are not the subject's (ON DELETE CASCADE on %s)",
				st.ID(), ref.others, ref.table, strings.Join(ref.fk.Columns, ", ")))
		case "SET NULL", "SET DEFAULT":
		default:
			if ref.enforced {
				return nil, &errRestricted{restrictMessage(st, ref)}
			}
		}
	}
	return out, nil
}

// setsAll reports whether erasure sets every one of columns to a value.
func (s *Step) setsAll(columns []string) bool {
	for _, c := range columns {
		if !slices.ContainsFunc(s.Erase.Fields, func(f FieldErasure) bool { return f.Column == c && f.Method == policy.Set }) {
			return false
		}
	}
	return true
}

func restrictMessage(st *Step, ref reference) string {
	whose := "not the subject's"
	if ref.others < ref.rows {
		whose = fmt.Sprintf("%d of them the subject's own, which the policy keeps", ref.rows-ref.others)
	}
	return fmt.Sprintf("dsr: erasure of %s would delete rows that %d rows of %s (%s) still reference through %s, and the database forbids it (ON DELETE %s): "+
		"give %s.%s an erasure strategy (erase: nullify), declare the relation (relation: owner if those rows are the subject's), or keep %s under a hold; then vow request retry",
		st.ID(), ref.rows, ref.table, whose, strings.Join(ref.fk.Columns, ", "), cmpOr(ref.fk.OnDelete, "NO ACTION"), ref.table, ref.fk.Columns[0], st.Table)
}

// Residual is a place where the subject's identity is still found after
// the erasure: a column the policy declares as that kind of data (or as
// the identity) which the erasure did not change.
type Residual struct {
	System string `json:"system"`
	Table  string `json:"table"`
	Column string `json:"column"`
	// Identity is the identity kind found (email, …).
	Identity string `json:"identity"`
	Rows     int64  `json:"rows"`
	// Kept says the rows are kept on purpose (a legal hold), with why.
	Kept string `json:"kept,omitempty"`
}

func (x Residual) String() string {
	return fmt.Sprintf("%s:%s.%s (%d rows)", x.System, x.Table, x.Column, x.Rows)
}

// identityCategories are the data categories that hold each identity
// kind's values, for the residual search.
var identityCategories = map[string]string{
	identity.Email:    "user.contact.email",
	identity.Phone:    "user.contact.phone_number",
	identity.Username: "user.account.username",
}

// residual searches, after an erasure, every column the policy declares
// as one of the request's identity kinds (identity: email, or the email
// category) in every database system, for the subject's values; whatever
// remains is listed on the certificate, never hidden under "verified". It
// also returns what it searched.
func (s *Service) residual(ctx context.Context, plan *Plan, r *Request, cs *conns) ([]Residual, []string, error) {
	var out []Residual
	var searched []string
	own := plan.own
	for _, sys := range s.Policy.Systems {
		if sys.Kind == "webhook" {
			continue
		}
		for _, t := range sys.Tables {
			for _, f := range t.Fields {
				for _, k := range kindsOf(r.Identities) {
					if f.Identity != k && (identityCategories[k] == "" || f.Category != identityCategories[k]) {
						continue
					}
					if !identity.Global(k) && own.Kind(sys.Name, t.Name) != plan.Subject {
						continue // a user_id of the customers is not one of the staff
					}
					c, err := cs.get(ctx, sys.Name)
					if err != nil {
						return nil, nil, err
					}
					sc, err := s.schema(ctx, sys.Name, c)
					if err != nil {
						return nil, nil, err
					}
					lt := sc.Table(t.Name)
					if lt == nil || lt.Column(f.Name) == nil || identity.Fits(r.Identities[k], lt.Column(f.Name).Base()) != nil {
						continue
					}
					d := c.Dialect()
					searched = append(searched, sys.Name+":"+t.Name+"."+f.Name)
					var n int64
					var args []any
					q := "SELECT count(*) FROM " + d.Ident(t.Name) + " WHERE " + identity.Match(d.Kind(), k, d.Column(f.Name), lt.Column(f.Name).Collation, r.Identities[k], func() string {
						args = append(args, r.Identities[k])
						return d.Param(len(args))
					})
					if err := c.DB().QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
						return nil, nil, c.Translate(ctx, "search "+sys.Name+":"+t.Name, err)
					}
					if n == 0 {
						continue
					}
					x := Residual{System: sys.Name, Table: t.Name, Column: f.Name, Identity: k, Rows: n}
					if st := plan.SubjectStep(sys.Name, t.Name); st != nil && st.Erase.Hold {
						x.Kept = st.Erase.Reason
					} else if f.Erase != nil && f.Erase.Method == policy.Hold {
						x.Kept = f.Erase.Reason
					}
					out = append(out, x)
				}
			}
		}
	}
	return out, searched, nil
}
