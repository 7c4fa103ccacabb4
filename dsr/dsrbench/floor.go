package dsrbench

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/keyring"
)

// The floor is the same work as Vow's, written by hand by someone who
// knows the schema: one indexed SELECT per table streaming rows to a JSON
// file for access, and the DELETE/UPDATE statements in Vow's order in one
// transaction for erasure. Statements use ? and are renumbered for
// PostgreSQL.

// handQuery is a hand-written query; "uid" and "email" name its
// arguments, in order.
type handQuery struct {
	q    string
	args []string
}

// floorSelect is the hand-written query per table (table#column for a
// mention step).
var floorSelect = map[string]handQuery{
	"users":            {"SELECT * FROM users WHERE id = ?", []string{"uid"}},
	"users#invited_by": {"SELECT invited_by FROM users WHERE invited_by = ?", []string{"uid"}},
	"staff#email":      {"SELECT email FROM staff WHERE email = ?", []string{"email"}},
	"login_attempts":   {"SELECT * FROM login_attempts WHERE email = ?", []string{"email"}},
	"memberships":      {"SELECT * FROM memberships WHERE user_id = ?", []string{"uid"}},
	"projects":         {"SELECT * FROM projects WHERE owner_id = ?", []string{"uid"}},
	"tasks":            {"SELECT * FROM tasks WHERE creator_id = ?", []string{"uid"}},
	"comments":         {"SELECT * FROM comments WHERE author_id = ?", []string{"uid"}},
	"attachments":      {"SELECT * FROM attachments WHERE comment_id IN (SELECT id FROM comments WHERE author_id = ?)", []string{"uid"}},
	"events":           {"SELECT * FROM events WHERE user_id = ?", []string{"uid"}},
	"audit_logs":       {"SELECT * FROM audit_logs WHERE actor_id = ?", []string{"uid"}},
	"sessions":         {"SELECT * FROM sessions WHERE user_id = ?", []string{"uid"}},
	"api_keys":         {"SELECT * FROM api_keys WHERE user_id = ?", []string{"uid"}},
	"notifications":    {"SELECT * FROM notifications WHERE user_id = ?", []string{"uid"}},
	"invoices":         {"SELECT * FROM invoices WHERE user_id = ?", []string{"uid"}},
	"payments":         {"SELECT * FROM payments WHERE user_id = ?", []string{"uid"}},
	"support_tickets":  {"SELECT * FROM support_tickets WHERE user_id = ?", []string{"uid"}},
	"ticket_messages":  {"SELECT * FROM ticket_messages WHERE ticket_id IN (SELECT id FROM support_tickets WHERE user_id = ?) UNION SELECT * FROM ticket_messages WHERE author_id = ?", []string{"uid", "uid"}},
}

// floorQuery is the hand-written query of a step of the plan.
func floorQuery(step *dsr.Step) (handQuery, error) {
	key := step.Table
	if step.Role == dsr.RoleMention {
		key += "#" + strings.Join(step.Mention, ",")
	}
	fs, ok := floorSelect[key]
	if !ok {
		return fs, fmt.Errorf("floor: no query for %s", key)
	}
	return fs, nil
}

// floorStats is what one floor run did.
type floorStats struct {
	rows  int64
	steps []stepTime
}

// stepTime is the time one table took.
type stepTime struct {
	table string
	d     time.Duration
	rows  int64
}

// floorAccess reads the subject's rows of every table of the plan, in the
// plan's order, and streams them to a JSON file at path.
func floorAccess(ctx context.Context, kind string, db *sql.DB, plan *dsr.Plan, email, path string) (floorStats, error) {
	var st floorStats
	f, err := os.Create(path)
	if err != nil {
		return st, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 256<<10)
	var uid int64
	if err := db.QueryRowContext(ctx, connector.DialectOf(kind).Rebind("SELECT id FROM users WHERE email = ?"), email).Scan(&uid); err != nil {
		return st, fmt.Errorf("floor: find user: %w", err)
	}
	w.WriteString("{")
	for i, step := range plan.Steps {
		start := time.Now()
		fs, err := floorQuery(step)
		if err != nil {
			return st, err
		}
		args := make([]any, len(fs.args))
		for k, a := range fs.args {
			if a == "uid" {
				args[k] = uid
			} else {
				args[k] = email
			}
		}
		if i > 0 {
			w.WriteString(",")
		}
		fmt.Fprintf(w, "\n%q:[", step.Table)
		n, err := streamRows(ctx, db, connector.DialectOf(kind).Rebind(fs.q), args, w)
		if err != nil {
			return st, fmt.Errorf("floor: read %s: %w", step.Table, err)
		}
		w.WriteString("]")
		st.rows += n
		st.steps = append(st.steps, stepTime{step.Table, time.Since(start), n})
	}
	w.WriteString("}\n")
	if err := w.Flush(); err != nil {
		return st, err
	}
	return st, f.Close()
}

func streamRows(ctx context.Context, db *sql.DB, q string, args []any, w *bufio.Writer) (int64, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	names := make([][]byte, len(cols))
	for i, c := range cols {
		names[i], _ = json.Marshal(c)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if n > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n{")
		for i, v := range vals {
			if i > 0 {
				w.WriteByte(',')
			}
			w.Write(names[i])
			w.WriteByte(':')
			switch x := v.(type) {
			case []byte:
				v = string(x)
			case time.Time:
				v = x.UTC().Format(time.RFC3339Nano)
			}
			b, err := json.Marshal(v)
			if err != nil {
				return n, err
			}
			w.Write(b)
		}
		w.WriteByte('}')
		n++
	}
	return n, rows.Err()
}

// floorErase carries out the subject's erasure by hand in one transaction,
// tables in the order Vow erases them (the plan reversed: children first).
func floorErase(ctx context.Context, kind string, db *sql.DB, plan *dsr.Plan, keys *keyring.Keyring, email string) (floorStats, error) {
	var st floorStats
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) (int64, error) {
		res, err := tx.ExecContext(ctx, connector.DialectOf(kind).Rebind(q), args...)
		if err != nil {
			return 0, fmt.Errorf("floor: %s: %w", q, err)
		}
		n, _ := res.RowsAffected()
		return n, nil
	}
	var uid int64
	if err := tx.QueryRowContext(ctx, connector.DialectOf(kind).Rebind("SELECT id FROM users WHERE email = ?"), email).Scan(&uid); err != nil {
		return st, fmt.Errorf("floor: find user: %w", err)
	}
	my := kind == "mysql"
	for _, step := range plan.EraseOrder {
		if step.Role == dsr.RoleMention {
			continue // the users case nulls invited_by itself
		}
		table := step.Table
		start := time.Now()
		var n int64
		var stmts []string
		var args [][]any
		add := func(q string, a ...any) { stmts, args = append(stmts, q), append(args, a) }
		switch table {
		case "users":
			add("UPDATE users SET invited_by = NULL WHERE invited_by = ?", uid)
			add("DELETE FROM users WHERE id = ?", uid)
		case "memberships", "events", "sessions", "api_keys", "notifications", "support_tickets":
			add("DELETE FROM "+table+" WHERE user_id = ?", uid)
		case "comments":
			add("DELETE FROM comments WHERE author_id = ?", uid)
		case "attachments":
			if my {
				add("DELETE a FROM attachments a JOIN comments c ON c.id = a.comment_id WHERE c.author_id = ?", uid)
			} else {
				add("DELETE FROM attachments WHERE comment_id IN (SELECT id FROM comments WHERE author_id = ?)", uid)
			}
		case "ticket_messages":
			if my {
				add("DELETE m FROM ticket_messages m JOIN support_tickets t ON t.id = m.ticket_id WHERE t.user_id = ?", uid)
			} else {
				add("DELETE FROM ticket_messages WHERE ticket_id IN (SELECT id FROM support_tickets WHERE user_id = ?)", uid)
			}
			add("DELETE FROM ticket_messages WHERE author_id = ?", uid)
		case "projects":
			add("UPDATE projects SET owner_id = NULL WHERE owner_id = ?", uid)
		case "tasks":
			add("UPDATE tasks SET creator_id = NULL WHERE creator_id = ?", uid)
		case "payments":
			add("UPDATE payments SET card_last4 = NULL, user_id = NULL WHERE user_id = ?", uid)
		case "login_attempts":
			add("DELETE FROM login_attempts WHERE email = ?", email)
		case "invoices":
			// Held: nothing to do.
		case "audit_logs":
			// Pseudonymise per distinct value (the pseudonym is a function
			// of the value), then mask the rest.
			rows, err := tx.QueryContext(ctx, connector.DialectOf(kind).Rebind("SELECT DISTINCT actor_email FROM audit_logs WHERE actor_id = ? AND actor_email IS NOT NULL"), uid)
			if err != nil {
				return st, err
			}
			var emails []string
			for rows.Next() {
				var e string
				if err := rows.Scan(&e); err != nil {
					rows.Close()
					return st, err
				}
				emails = append(emails, e)
			}
			rows.Close()
			for _, e := range emails {
				add("UPDATE audit_logs SET actor_email = ?, ip = '0.0.0.0', actor_id = NULL WHERE actor_id = ? AND actor_email = ?", keys.Pseudonym(e), uid, e)
			}
			add("UPDATE audit_logs SET ip = '0.0.0.0', actor_id = NULL WHERE actor_id = ?", uid)
		default:
			return st, fmt.Errorf("floor: no erasure for %s", table)
		}
		for k, q := range stmts {
			m, err := exec(q, args[k]...)
			if err != nil {
				return st, err
			}
			n += m
		}
		st.rows += n
		st.steps = append(st.steps, stepTime{table, time.Since(start), n})
	}
	if err := tx.Commit(); err != nil {
		return st, err
	}
	return st, nil
}
