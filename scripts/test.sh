#!/usr/bin/env bash
# scripts/test.sh — the project's test command (`make test` runs it; so does CI).
#
# Usage: scripts/test.sh [go test args...]
#
#   With no arguments it vets and tests ./... . Arguments are passed to
#   `go test` as they are; if none of them names a package (./x, ./...,
#   github.com/vowprivacy/...), ./... is added. Examples:
#     scripts/test.sh ./state
#     scripts/test.sh -run TestStore -v ./state
#
# The tests need real database servers:
#   VOW_TEST_POSTGRES_URL  default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
#   VOW_TEST_MYSQL_DSN     default root@tcp(127.0.0.1:3306)/
# If a server is not reachable there, this script starts a private, throwaway
# instance on a free port (installing the Debian server package first if its
# binaries are missing), points the variable at it, and stops and deletes it
# on exit.
#
# It also builds Mailpit (a local SMTP sink) and installs Chromium (for the
# cookie-banner test) when they are missing.
#
# Then it runs `go vet`, `go test -count=1` (which replays every fuzz
# target's seeds and recorded inputs), and fuzzes the policy parser for
# VOW_FUZZTIME (default 10s; 0 or "off" skips it). `make fuzz` explores all
# fuzz targets for longer.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

: "${VOW_TEST_POSTGRES_URL:=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
: "${VOW_TEST_MYSQL_DSN:=root@tcp(127.0.0.1:3306)/}"
: "${VOW_FUZZTIME:=10s}"
export VOW_TEST_POSTGRES_URL VOW_TEST_MYSQL_DSN VOW_FUZZTIME

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'test.sh: error: %s\n' "$*" >&2; exit 1; }

command -v go >/dev/null || die "go is not installed (this module needs Go $(sed -n 's/^go //p' go.mod))"

is_root() { [ "$(id -u)" -eq 0 ]; }

# as_root runs a command as root, through sudo when needed.
as_root() {
	if is_root; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root (or sudo) to run: $*"
	fi
}

APT_UPDATED=
# apt_install installs Debian packages non-interactively.
apt_install() {
	command -v apt-get >/dev/null || die "cannot install $* here (no apt-get); install it by hand or set the server variables above"
	if [ -z "$APT_UPDATED" ]; then
		log "apt-get update"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
		APT_UPDATED=1
	fi
	log "apt-get install $*"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# find_exec NAME prints the path of executable NAME, from PATH or /usr/sbin.
find_exec() {
	local p
	p=$(command -v "$1" 2>/dev/null || true)
	[ -n "$p" ] && [ -x "$p" ] || p=/usr/sbin/$1
	[ -x "$p" ] && echo "$p"
}

# tcp_open HOST PORT succeeds if something accepts TCP connections there.
tcp_open() {
	timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# free_port START prints the first port from START on that nobody listens on.
free_port() {
	local p=$1
	while tcp_open 127.0.0.1 "$p"; do
		p=$((p + 1))
		[ "$p" -lt $(($1 + 200)) ] || die "no free port in $1-$p"
	done
	echo "$p"
}

# make_private_dir NAME prints a new private directory under $TMPDIR.
make_private_dir() {
	mktemp -d "${TMPDIR:-/tmp}/vow-test-$1.XXXXXX"
}

CLEANUPS=()
cleanup() {
	local rc=$?
	local i
	for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUPS[i]}" || true
	done
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- PostgreSQL

# pg_host_port URL prints "HOST PORT" of a postgres:// URL.
pg_host_port() {
	local rest=${1#*://}
	rest=${rest%%[/?]*}
	rest=${rest##*@}
	local host=${rest%%:*} port=5432
	[ "$rest" = "$host" ] || port=${rest##*:}
	echo "${host:-127.0.0.1} ${port:-5432}"
}

postgres_reachable() {
	if command -v pg_isready >/dev/null; then
		pg_isready -q -t 3 -d "$1" >/dev/null 2>&1
	else
		local hp
		read -r -a hp <<<"$(pg_host_port "$1")"
		tcp_open "${hp[0]}" "${hp[1]}"
	fi
}

# pg_bindir prints the newest PostgreSQL server binary directory.
pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		echo "$d"
	elif d=$(find_exec initdb) && [ -x "$(dirname "$d")/pg_ctl" ]; then
		dirname "$d"
	fi
}

start_private_postgres() {
	local bindir started=$SECONDS
	bindir=$(pg_bindir)
	if [ -z "$bindir" ]; then
		log "no PostgreSQL server binaries found: installing Debian's postgresql"
		apt_install postgresql
		bindir=$(pg_bindir)
		[ -n "$bindir" ] || die "postgresql installed, but no initdb/pg_ctl in /usr/lib/postgresql/*/bin"
	fi

	# initdb refuses to run as root: run the server as the postgres user.
	local -a as_pg=()
	if is_root; then
		id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
		as_pg=(runuser -u postgres --)
	fi

	local dir port
	dir=$(make_private_dir pg)
	port=$(free_port 54329)
	CLEANUPS+=("$(printf 'stop_private_postgres %q %q' "$bindir" "$dir")")
	if is_root; then
		chown postgres: "$dir"
		"${as_pg[@]}" test -w "$dir" ||
			die "the postgres user cannot write $dir; set TMPDIR to a directory it can reach"
	fi

	log "starting private PostgreSQL ($bindir) on port $port in $dir"
	"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale --no-sync \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
	"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
		start >/dev/null || { cat "$dir/server.log" >&2; die "PostgreSQL did not start"; }
	VOW_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	log "private PostgreSQL is up after $((SECONDS - started))s: VOW_TEST_POSTGRES_URL=$VOW_TEST_POSTGRES_URL"
}

stop_private_postgres() {
	local bindir=$1 dir=$2
	local -a as_pg=()
	is_root && as_pg=(runuser -u postgres --)
	if [ -f "$dir/data/postmaster.pid" ]; then
		log "stopping private PostgreSQL in $dir"
		"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
			log "warning: pg_ctl stop failed; see $dir/server.log"
	fi
	rm -rf "$dir"
}

# ------------------------------------------------------------------- MariaDB

# mysql_host_port DSN prints "HOST PORT" of a go-sql-driver DSN.
mysql_host_port() {
	local hp=127.0.0.1:3306
	if [[ $1 =~ @tcp\(([^\)]*)\) ]]; then
		hp=${BASH_REMATCH[1]}
	fi
	local host=${hp%:*} port=3306
	[ "$hp" = "$host" ] || port=${hp##*:}
	echo "${host:-127.0.0.1} ${port:-3306}"
}

mysql_reachable() {
	local hp
	read -r -a hp <<<"$(mysql_host_port "$1")"
	tcp_open "${hp[0]}" "${hp[1]}"
}

mariadb_client() {
	find_exec mariadb || find_exec mysql || true
}

mariadbd_bin() {
	find_exec mariadbd || find_exec mysqld || true
}

start_private_mariadb() {
	local server installdb started=$SECONDS
	server=$(mariadbd_bin)
	installdb=$(find_exec mariadb-install-db || find_exec mysql_install_db || true)
	if [ -z "$server" ] || [ -z "$installdb" ]; then
		log "no MariaDB server binaries found: installing Debian's mariadb-server"
		apt_install mariadb-server
		server=$(mariadbd_bin)
		installdb=$(find_exec mariadb-install-db || find_exec mysql_install_db || true)
		[ -n "$server" ] && [ -n "$installdb" ] || die "mariadb-server installed, but no mariadbd or mariadb-install-db found"
	fi

	local dir port
	dir=$(make_private_dir mariadb)
	port=$(free_port 53306)
	local -a user=()
	if is_root; then
		# mariadbd will not run as root; it switches to the mysql user.
		id -u mysql >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin mysql
		chown mysql: "$dir"
		user=(--user=mysql)
	fi
	CLEANUPS+=("$(printf 'stop_private_mariadb %q' "$dir")")

	log "starting private MariaDB ($server) on port $port in $dir"
	"$installdb" --no-defaults "${user[@]}" --datadir="$dir/data" \
		--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
		>"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
	"$server" --no-defaults "${user[@]}" --datadir="$dir/data" --port="$port" --bind-address=127.0.0.1 \
		--socket="$dir/sock" --pid-file="$dir/mariadbd.pid" --log-error="$dir/error.log" \
		--skip-log-bin --skip-name-resolve --max-connections=500 \
		--innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
		</dev/null >/dev/null 2>&1 &
	echo $! >"$dir/launcher.pid"

	local client deadline=$((SECONDS + 60))
	client=$(mariadb_client)
	until
		if [ -n "$client" ]; then
			"$client" --no-defaults --protocol=TCP -h 127.0.0.1 -P "$port" -u root -e 'SELECT 1' >/dev/null 2>&1
		else
			tcp_open 127.0.0.1 "$port"
		fi
	do
		if ! kill -0 "$(cat "$dir/launcher.pid")" 2>/dev/null; then
			cat "$dir/error.log" >&2 || true
			die "MariaDB exited during startup"
		fi
		[ "$SECONDS" -lt "$deadline" ] || { cat "$dir/error.log" >&2 || true; die "MariaDB did not answer within 60s"; }
		sleep 0.2
	done
	VOW_TEST_MYSQL_DSN="root@tcp(127.0.0.1:$port)/"
	log "private MariaDB is up after $((SECONDS - started))s: VOW_TEST_MYSQL_DSN=$VOW_TEST_MYSQL_DSN"
}

stop_private_mariadb() {
	local dir=$1 pid i
	pid=$(cat "$dir/launcher.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		log "stopping private MariaDB in $dir"
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 300; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "warning: MariaDB did not stop in 30s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}

# --------------------------------------------------------------------- main

if postgres_reachable "$VOW_TEST_POSTGRES_URL"; then
	log "using PostgreSQL at $(sed -E 's#(://[^:/@]*:)[^@/]*@#\1xxxxx@#' <<<"$VOW_TEST_POSTGRES_URL")"
else
	log "PostgreSQL not reachable at $(pg_host_port "$VOW_TEST_POSTGRES_URL" | tr ' ' ':')"
	start_private_postgres
fi

if mysql_reachable "$VOW_TEST_MYSQL_DSN"; then
	log "using MariaDB/MySQL at $(mysql_host_port "$VOW_TEST_MYSQL_DSN" | tr ' ' ':')"
else
	log "MariaDB/MySQL not reachable at $(mysql_host_port "$VOW_TEST_MYSQL_DSN" | tr ' ' ':')"
	start_private_mariadb
fi
# The replication tests (testdb.MariaDBReplica) start a private primary and
# replica from the machine's own server binaries.
if [ -z "$(mariadbd_bin)" ] || [ -z "$(find_exec mariadb-install-db || find_exec mysql_install_db || true)" ]; then
	log "no MariaDB server binaries for the replication tests: installing Debian's mariadb-server"
	apt_install mariadb-server
fi

# ------------------------------------------------------------------- Mailpit
# The mail tests send to a real SMTP sink, Mailpit, pinned in
# internal/testsmtp/mailpit/go.mod. internal/testsmtp builds it on first use;
# building it here first keeps that minute out of the tests' timeouts.

ensure_mailpit() {
	local version cache bin
	version=$(sed -n 's#^[[:space:]]*github.com/axllent/mailpit \(v[^ ]*\).*#\1#p' internal/testsmtp/mailpit/go.mod)
	[ -n "$version" ] || die "internal/testsmtp/mailpit/go.mod does not pin github.com/axllent/mailpit"
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/vow/bin
	bin=$cache/mailpit-$version
	if [ -n "${VOW_MAILPIT:-}" ]; then
		log "using Mailpit at VOW_MAILPIT=$VOW_MAILPIT"
	elif [ -x "$bin" ]; then
		log "using Mailpit $version at $bin"
	else
		log "building Mailpit $version into $bin"
		mkdir -p "$cache"
		(cd internal/testsmtp/mailpit && GOWORK=off GOFLAGS=-buildvcs=false go build -o "$bin.$$.tmp" github.com/axllent/mailpit) ||
			die "could not build Mailpit $version (internal/testsmtp/mailpit)"
		mv "$bin.$$.tmp" "$bin"
	fi
}
ensure_mailpit

# ------------------------------------------------------------------ Chromium

# The cookie banner is tested in headless Chromium (consent/banner_test.go).
# Install Debian's package when it is missing; VOW_NO_BROWSER=1 skips that
# (the browser test then skips itself, loudly).
ensure_chromium() {
	if command -v chromium >/dev/null; then
		return
	fi
	if [ -n "${VOW_NO_BROWSER:-}" ]; then
		log "chromium missing and VOW_NO_BROWSER set: the cookie-banner browser test will be skipped"
		return
	fi
	if ! command -v apt-get >/dev/null || { ! is_root && ! command -v sudo >/dev/null; }; then
		log "warning: chromium is missing and cannot be installed here; the cookie-banner browser test will be skipped"
		return
	fi
	log "chromium not found: installing Debian's chromium for the cookie-banner browser test"
	apt_install chromium || log "warning: could not install chromium; the cookie-banner browser test will be skipped"
}
ensure_chromium

# Which packages: those named in the arguments, or ./... .
pkgs=()
for a in "$@"; do
	case $a in
	. | .. | ./* | ../* | github.com/vowprivacy/vow*) pkgs+=("$a") ;;
	esac
done
test_args=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then
	pkgs=(./...)
	test_args+=(./...)
fi

log "go vet ${pkgs[*]}"
go vet "${pkgs[@]}"

log "go test -count=1 ${test_args[*]}"
go test -count=1 "${test_args[@]}"

log "short fuzz run of the policy parser (VOW_FUZZTIME=$VOW_FUZZTIME)"
scripts/fuzz.sh ./policy:FuzzLoad

log "all checks passed"
