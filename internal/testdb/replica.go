package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/vowprivacy/vow/internal/testnet"
)

// MariaDBReplica starts a private MariaDB primary (with a binary log) and a
// replica of it, both from the machine's mariadbd, and returns their admin
// DSNs (root over TCP). Replication runs from the primary's current
// position. Both servers are stopped and their files removed when the
// test ends. It takes a few seconds; scripts/test.sh installs Debian's
// mariadb-server where the binaries are missing.
func MariaDBReplica(t testing.TB) (primary, replica string) {
	t.Helper()
	server, err1 := lookBin("mariadbd", "mysqld")
	installDB, err2 := lookBin("mariadb-install-db", "mysql_install_db")
	if err1 != nil || err2 != nil {
		t.Fatalf("testdb: MariaDB server binaries not found (mariadbd, mariadb-install-db): install Debian's mariadb-server, as scripts/test.sh does")
	}
	// Both at once: each takes seconds to install and start.
	type started struct {
		m   privateMariaDB
		err error
	}
	pc, rc := make(chan started, 1), make(chan started, 1)
	go func() {
		m, err := startMariaDB(t, server, installDB, 1, "--log-bin=primary-bin", "--binlog-format=ROW")
		pc <- started{m, err}
	}()
	go func() {
		m, err := startMariaDB(t, server, installDB, 2, "--read-only", "--relay-log=replica-relay")
		rc <- started{m, err}
	}()
	ps, rs := <-pc, <-rc
	for _, s := range []started{ps, rs} {
		if s.err != nil {
			t.Fatalf("testdb: %v", s.err)
		}
	}
	p, r := ps.m, rs.m

	pdb := openAdmin(t, p.socketDSN())
	defer pdb.Close()
	var file string
	var pos int64
	var skip1, skip2 sql.NullString
	if err := pdb.QueryRow("SHOW MASTER STATUS").Scan(&file, &pos, &skip1, &skip2); err != nil {
		t.Fatalf("testdb: primary's binlog position: %v", err)
	}
	rdb := openAdmin(t, r.socketDSN())
	defer rdb.Close()
	for _, q := range []string{
		fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='repl', MASTER_PASSWORD='repl', MASTER_LOG_FILE='%s', MASTER_LOG_POS=%d", p.port, file, pos),
		"START SLAVE",
	} {
		if _, err := rdb.Exec(q); err != nil {
			t.Fatalf("testdb: replica: %s: %v", q, err)
		}
	}
	// Wait for the replica's threads to connect.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var io, sqlRunning string
		if err := scanColumns(rdb, "SHOW SLAVE STATUS", map[string]*string{"Slave_IO_Running": &io, "Slave_SQL_Running": &sqlRunning}); err != nil {
			t.Fatalf("testdb: replica status: %v", err)
		}
		if io == "Yes" && sqlRunning == "Yes" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("testdb: the replica did not start replicating (IO %s, SQL %s)", io, sqlRunning)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p.tcpDSN(), r.tcpDSN()
}

// scanColumns reads the named columns of the first row of query into dst.
func scanColumns(db *sql.DB, query string, dst map[string]*string) error {
	rows, err := db.Query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	if !rows.Next() {
		return fmt.Errorf("%s returned no row", query)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return err
	}
	for i, c := range cols {
		if d, ok := dst[c]; ok {
			*d = vals[i].String
		}
	}
	return rows.Err()
}

func lookBin(names ...string) (string, error) {
	var err error
	for _, n := range names {
		var p string
		if p, err = exec.LookPath(n); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
			if _, serr := os.Stat(filepath.Join(dir, n)); serr == nil {
				return filepath.Join(dir, n), nil
			}
		}
	}
	return "", err
}

type privateMariaDB struct {
	dir  string
	port int
}

func (m privateMariaDB) socketDSN() string {
	return "root@unix(" + filepath.Join(m.dir, "sock") + ")/?multiStatements=true"
}

func (m privateMariaDB) tcpDSN() string {
	cfg := gomysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = "vow", "vow", "tcp", "127.0.0.1:"+strconv.Itoa(m.port)
	cfg.ParseTime, cfg.MultiStatements = true, true
	return cfg.FormatDSN()
}

// startMariaDB installs and starts one private server with the given
// server id and extra options, and gives it users repl (replication) and
// vow (everything) reachable over TCP. The server is stopped, and its files
// removed, when the test ends (also when it fails to start).
func startMariaDB(t testing.TB, server, installDB string, id int, opts ...string) (privateMariaDB, error) {
	// Not t.TempDir: the server runs as the mysql user when the test runs
	// as root, and must be able to reach its directory.
	dir, err := os.MkdirTemp("", "vowtest-mariadb-")
	if err != nil {
		return privateMariaDB{}, err
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var userArgs []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("mysql")
		if err != nil {
			return privateMariaDB{}, fmt.Errorf("running as root, and there is no mysql user for mariadbd to run as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return privateMariaDB{}, err
		}
		userArgs = []string{"--user=mysql"}
	}
	// Each server its own tmpdir: bootstraps running at once in a shared
	// /tmp trip over each other's temporary tables.
	install := exec.Command(installDB, append([]string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"), "--tmpdir=" + dir,
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}, userArgs...)...)
	if out, err := install.CombinedOutput(); err != nil {
		return privateMariaDB{}, fmt.Errorf("%s: %w\n%s", installDB, err, out)
	}
	port, err := testnet.FreePort()
	if err != nil {
		return privateMariaDB{}, err
	}
	args := append([]string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"), "--tmpdir=" + dir, "--port=" + strconv.Itoa(port),
		"--bind-address=127.0.0.1", "--socket=" + filepath.Join(dir, "sock"), "--pid-file=" + filepath.Join(dir, "mariadbd.pid"),
		"--log-error=" + filepath.Join(dir, "error.log"), "--server-id=" + strconv.Itoa(id), "--skip-name-resolve",
		"--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M", "--innodb-flush-log-at-trx-commit=0", "--skip-innodb-doublewrite"},
		userArgs...)
	args = append(args, opts...)
	cmd := exec.Command(server, args...)
	if err := cmd.Start(); err != nil {
		return privateMariaDB{}, fmt.Errorf("start %s: %w", server, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	m := privateMariaDB{dir: dir, port: port}
	deadline := time.Now().Add(60 * time.Second)
	for {
		db, err := sql.Open("mysql", m.socketDSN())
		if err == nil {
			err = db.Ping()
			if err == nil {
				_, err = db.Exec(`CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl'; GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
CREATE USER 'vow'@'127.0.0.1' IDENTIFIED BY 'vow'; GRANT ALL ON *.* TO 'vow'@'127.0.0.1' WITH GRANT OPTION`)
			}
			db.Close()
		}
		if err == nil {
			return m, nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return m, fmt.Errorf("mariadbd exited during startup:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return m, fmt.Errorf("mariadbd did not answer within 60s: %w\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func openAdmin(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return db
}

// PostgresReplica starts a private PostgreSQL primary and a streaming
// standby of it (pg_basebackup -R), from the machine's server binaries,
// and returns their URLs (user postgres, database postgres). Both are
// stopped and removed when the test ends.
func PostgresReplica(t testing.TB) (primary, replica string) {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Fatalf("testdb: PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin): install Debian's postgresql, as scripts/test.sh does")
	}
	bindir := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "vowtest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// initdb and postgres refuse to run as root.
	var asPG []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("testdb: running as root, and there is no postgres user to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		asPG = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(name string, args ...string) {
		t.Helper()
		argv := append(append(append([]string{}, asPG...), filepath.Join(bindir, name)), args...)
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("testdb: %s: %v\n%s", name, err, out)
		}
	}
	start := func(data string, port int) {
		t.Helper()
		run("pg_ctl", "-D", data, "-l", data+".log", "-w", "-t", "60", "-o",
			fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c wal_level=replica -c max_wal_senders=4 -c fsync=off -c full_page_writes=off", port, dir),
			"start")
		t.Cleanup(func() {
			argv := append(append(append([]string{}, asPG...), filepath.Join(bindir, "pg_ctl")), "-D", data, "-m", "immediate", "-w", "stop")
			_ = exec.Command(argv[0], argv[1:]...).Run()
		})
	}
	pport, err := testnet.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	rport, err := testnet.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	pdata, rdata := filepath.Join(dir, "primary"), filepath.Join(dir, "replica")
	run("initdb", "-D", pdata, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync")
	start(pdata, pport)
	run("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(pport), "-U", "postgres", "-D", rdata, "-R", "-X", "stream", "--no-sync")
	start(rdata, rport)
	url := func(port int) string {
		return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	}
	return url(pport), url(rport)
}
