package dsrbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/internal/vowbin"
)

// The CLI mode times what a user runs: vow request create … --trusted
// --run, a process per request, in a directory laid out as a user's (the
// policy in vow.yaml, Vow's data directory .vow with its master key and
// state store). Against it run the floor (in-process, pooled, as in Run)
// and, for access, the database's own client (psql, mariadb) running the
// floor's statements as a process: what a person with a shell and the
// schema in their head would do.

// BuildVow builds the vow command into dir and returns the binary's path.
func BuildVow(ctx context.Context, dir string) (string, error) {
	bin, err := vowbin.Build(ctx, dir)
	if err != nil {
		return "", fmt.Errorf("dsrbench: %w", err)
	}
	return bin, nil
}

// RunCLI measures access and erasure for every subject of cfg.Scale with
// Vow's CLI (cfg.Binary) against the floor and, for access, against the
// database's client, on one database. Vow's per-step times in the results
// are the phases the CLI traces ($VOW_TRACE), process start and exit
// included; PeakHeap is the process's peak RSS.
func RunCLI(ctx context.Context, cfg Config) ([]Result, error) {
	cfg = cfg.withDefaults()
	if cfg.Binary == "" {
		return nil, errors.New("dsrbench: RunCLI needs Config.Binary (BuildVow builds one)")
	}
	p, err := benchPolicy(cfg.Kind)
	if err != nil {
		return nil, err
	}
	keys, err := benchKeyring()
	if err != nil {
		return nil, err
	}
	fl, err := newFloor(ctx, cfg, p, keys)
	if err != nil {
		return nil, err
	}
	defer fl.close()
	user, err := newCLIUser(cfg)
	if err != nil {
		return nil, err
	}
	cl, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Logf != nil {
		cfg.Logf("%s: the client reference is %s", cfg.Kind, cl.cmd[0])
	}
	var out []Result
	for _, s := range Subjects(cfg.Scale) {
		for _, op := range []dsr.Type{dsr.Access, dsr.Erasure} {
			cs := []contender{fl.contender(op, s), user.contender(op, s)}
			if op == dsr.Access {
				script, err := cl.script(fl.plan, s.Email)
				if err != nil {
					return nil, err
				}
				cs = append(cs, cl.contender(script))
			}
			o, err := measure(ctx, cfg, fl.conn.DB(), s, op, cs)
			if err != nil {
				return nil, err
			}
			res := Result{Kind: cfg.Kind, Subject: s.Name, Op: string(op), SubjectRows: s.Rows, CLI: true}
			res.fill(o[1], o[0])
			if op == dsr.Access {
				res.Client, res.ClientRows = medianTime(o[2]), o[2][len(o[2])-1].rows
				res.ClientRatios = ratios(o[1], o[2])
			}
			out = append(out, res)
		}
	}
	return out, nil
}

// cliUser is a directory laid out as a user's, where vow runs.
type cliUser struct {
	bin, dir string
	env      []string
}

func newCLIUser(cfg Config) (*cliUser, error) {
	dir := filepath.Join(cfg.Dir, "cli-"+cfg.Kind)
	if err := os.MkdirAll(filepath.Join(dir, ".vow"), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "vow.yaml"), []byte(Policy(cfg.Kind, "BENCH_DSN")), 0o644); err != nil {
		return nil, err
	}
	// The same master key as the floor's keyring: the same pseudonyms.
	key := base64.StdEncoding.EncodeToString(benchKey) + "\n"
	if err := os.WriteFile(filepath.Join(dir, ".vow", "master.key"), []byte(key), 0o600); err != nil {
		return nil, err
	}
	// Vow's own settings from the harness's environment would move the
	// policy, the data directory or the key away from the user's layout.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VOW_") {
			env = append(env, kv)
		}
	}
	env = append(env, "BENCH_DSN="+cfg.DSN, "VOW_TRACE=1")
	return &cliUser{bin: cfg.Binary, dir: dir, env: env}, nil
}

// contender is the CLI's side of a measurement of op for s.
func (u *cliUser) contender(op dsr.Type, s Subject) contender {
	return contender{"vow cli", func(ctx context.Context, _ bool) (outcome, error) {
		return u.request(ctx, op, s)
	}}
}

// request runs one vow request create … --trusted --run and returns its
// wall time, the rows it read or changed, its traced phases and its peak
// RSS.
func (u *cliUser) request(ctx context.Context, op dsr.Type, s Subject) (outcome, error) {
	cmd := exec.CommandContext(ctx, u.bin, "request", "create", "--subject", "customer", "--type", string(op),
		"--email", s.Email, "--trusted", "--run", "--format", "json")
	cmd.Dir, cmd.Env = u.dir, u.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	end := time.Now()
	if err != nil {
		return outcome{}, fmt.Errorf("vow request create --type %s: %w\n%s", op, err, stderr.String())
	}
	var rs []struct {
		ID        string      `json:"id"`
		Status    dsr.Status  `json:"status"`
		LastError string      `json:"last_error"`
		Result    *dsr.Result `json:"result"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rs); err != nil || len(rs) != 1 {
		return outcome{}, fmt.Errorf("vow request create printed no request (%v):\n%s", err, stdout.String())
	}
	r := rs[0]
	if r.Status != dsr.Completed || r.Result == nil {
		return outcome{}, fmt.Errorf("request %s ended %s: %s", r.ID, r.Status, r.LastError)
	}
	var rows int64
	for _, n := range r.Result.Rows {
		rows += n
	}
	steps, err := tracePhases(&stderr, start, end, r.Result.Rows)
	if err != nil {
		return outcome{}, err
	}
	// The package is the user's to fetch; the next run writes another.
	if err := os.RemoveAll(filepath.Join(u.dir, ".vow", "exports")); err != nil {
		return outcome{}, err
	}
	var peak uint64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		peak = uint64(ru.Maxrss) << 10 // KiB on Linux
	}
	return outcome{d: end.Sub(start), rows: rows, steps: steps, peak: peak}, nil
}

// tracePhases reads the CLI's trace lines ("vow: trace: t=UNIXNANO …
// PHASE") and returns how long each phase took: from the process's start
// to the first line ("process start": exec, the runtime and package
// initialisation), between lines, and from the last line to the process's
// end ("exit"). Steps get their rows from rows.
func tracePhases(r io.Reader, start, end time.Time, rows map[string]int64) ([]stepTime, error) {
	var out []stepTime
	last, first := start, true
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "vow: trace: t=")
		if !ok {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 {
			return nil, fmt.Errorf("dsrbench: trace line %q", sc.Text())
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("dsrbench: trace line %q: %w", sc.Text(), err)
		}
		at := time.Unix(0, ns)
		phase := strings.Join(f[3:], " ")
		if first {
			phase, first = "process start", false
		}
		step, isStep := strings.CutPrefix(phase, "step ")
		st := stepTime{table: phase, d: at.Sub(last)}
		if isStep {
			st.table, st.rows = strings.TrimPrefix(step, "app:"), rows[step]
		}
		out = append(out, st)
		last = at
	}
	if first {
		return nil, errors.New("dsrbench: the CLI traced nothing (does it know $VOW_TRACE?)")
	}
	return append(out, stepTime{table: "exit", d: end.Sub(last)}), sc.Err()
}

// client runs the database's own command-line client.
type client struct {
	kind string
	cmd  []string // the client and its connection arguments
	env  []string
	dir  string
}

func newClient(cfg Config) (*client, error) {
	c := &client{kind: cfg.Kind, env: os.Environ(), dir: cfg.Dir}
	switch cfg.Kind {
	case "postgres":
		bin, err := exec.LookPath("psql")
		if err != nil {
			return nil, fmt.Errorf("dsrbench: the client reference needs psql: %w", err)
		}
		if bin, err = realPsql(bin, "/usr/lib/postgresql"); err != nil {
			return nil, err
		}
		// -X: no ~/.psqlrc; -A -t: rows only, one per line.
		c.cmd = []string{bin, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", cfg.DSN}
	case "mysql":
		bin, err := exec.LookPath("mariadb")
		if err != nil {
			if bin, err = exec.LookPath("mysql"); err != nil {
				return nil, fmt.Errorf("dsrbench: the client reference needs mariadb or mysql: %w", err)
			}
		}
		mc, err := gomysql.ParseDSN(cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("dsrbench: %w", err)
		}
		host, port, err := net.SplitHostPort(mc.Addr)
		if err != nil {
			return nil, fmt.Errorf("dsrbench: address %q: %w", mc.Addr, err)
		}
		c.cmd = []string{bin, "--protocol=TCP", "-h", host, "-P", port, "-u", mc.User, "-D", mc.DBName, "--batch", "--skip-column-names"}
		c.env = append(c.env, "MYSQL_PWD="+mc.Passwd)
	default:
		return nil, fmt.Errorf("dsrbench: no client for %q", cfg.Kind)
	}
	return c, nil
}

// realPsql is the psql binary that bin runs. On Debian and Ubuntu psql is
// a link to pg_wrapper, a Perl script that picks a version and then runs
// libDir/VERSION/bin/psql: its 30–60 ms of Perl start would be timed as
// the client's and flatter Vow. The newest version under libDir is the
// one the wrapper runs when no cluster says otherwise.
func realPsql(bin, libDir string) (string, error) {
	target, err := filepath.EvalSymlinks(bin)
	if err != nil {
		return "", fmt.Errorf("dsrbench: psql: %w", err)
	}
	if filepath.Base(target) != "pg_wrapper" {
		return bin, nil
	}
	found, _ := filepath.Glob(filepath.Join(libDir, "*", "bin", "psql"))
	best, bestVersion := "", -1.0
	for _, f := range found {
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(f))), 64)
		if err == nil && v > bestVersion {
			best, bestVersion = f, v
		}
	}
	if best == "" {
		return "", fmt.Errorf("dsrbench: %s is Debian's pg_wrapper and no %s/VERSION/bin/psql was found: install postgresql-client", bin, libDir)
	}
	return best, nil
}

// script is the floor's access as a client script: the user's ID looked
// up by email into a variable, then the floor's SELECT per step of the
// plan, in its order.
func (c *client) script(plan *dsr.Plan, email string) (string, error) {
	lit := "'" + strings.ReplaceAll(email, "'", "''") + "'"
	uid := "@uid"
	var b strings.Builder
	if c.kind == "postgres" {
		uid = ":uid"
		fmt.Fprintf(&b, "SELECT id AS uid FROM users WHERE email = %s \\gset\n", lit)
	} else {
		fmt.Fprintf(&b, "SET @uid = (SELECT id FROM users WHERE email = %s);\n", lit)
	}
	for _, step := range plan.Steps {
		hq, err := floorQuery(step)
		if err != nil {
			return "", err
		}
		q := hq.q
		for _, a := range hq.args {
			v := lit
			if a == "uid" {
				v = uid
			}
			q = strings.Replace(q, "?", v, 1)
		}
		b.WriteString(q + ";\n")
	}
	return b.String(), nil
}

// contender is the client's side of an access measurement: one process
// running script, its rows written to a file.
func (c *client) contender(script string) contender {
	return contender{"client", func(ctx context.Context, _ bool) (outcome, error) {
		path := filepath.Join(c.dir, "client.out")
		f, err := os.Create(path)
		if err != nil {
			return outcome{}, err
		}
		defer f.Close()
		args := slices.Clone(c.cmd[1:])
		if c.kind == "postgres" {
			// From a file psql prints every statement's rows; -c with
			// several statements would print the last one's only.
			sf := filepath.Join(c.dir, "client.sql")
			if err := os.WriteFile(sf, []byte(script), 0o644); err != nil {
				return outcome{}, err
			}
			args = append(args, "-f", sf)
		} else {
			args = append(args, "-e", script)
		}
		cmd := exec.CommandContext(ctx, c.cmd[0], args...)
		cmd.Env, cmd.Stdout = c.env, f
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		err = cmd.Run()
		d := time.Since(start)
		if err != nil {
			return outcome{}, fmt.Errorf("%s: %w\n%s", filepath.Base(c.cmd[0]), err, stderr.String())
		}
		if err := f.Close(); err != nil {
			return outcome{}, err
		}
		rows, err := countLines(path)
		if err != nil {
			return outcome{}, err
		}
		var peak uint64
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = uint64(ru.Maxrss) << 10
		}
		return outcome{d: d, rows: rows, peak: peak}, nil
	}}
}

// countLines counts the rows a client printed, one a line.
func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > 0 {
			n++
		}
	}
	return n, sc.Err()
}
