package mysql

import (
	"errors"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/connector"
)

func TestParseDSN(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                      string
		dsn                       string
		user, pass, net, addr, db string
		parseTime                 bool
	}{
		{"url", "mysql://app:s3cret@db.example:3307/shop", "app", "s3cret", "tcp", "db.example:3307", "shop", false},
		{"url default port", "mysql://app@db.example/shop", "app", "", "tcp", "db.example:3306", "shop", false},
		{"url default host", "mysql:///shop", "", "", "tcp", "127.0.0.1:3306", "shop", false},
		{"url escaped password", "mysql://app:p%40ss%3Aw%2Frd@h/shop", "app", "p@ss:w/rd", "tcp", "h:3306", "shop", false},
		{"url ipv6", "mysql://app:pw@[::1]:3306/shop", "app", "pw", "tcp", "[::1]:3306", "shop", false},
		{"url params", "mysql://app@h/shop?parseTime=true&loc=UTC", "app", "", "tcp", "h:3306", "shop", true},
		{"mariadb url", "mariadb://app@h/shop", "app", "", "tcp", "h:3306", "shop", false},
		{"driver", "app:s3cret@tcp(db.example:3307)/shop", "app", "s3cret", "tcp", "db.example:3307", "shop", false},
		{"driver odd password", "app:p@ss://w/rd@tcp(h:1)/shop?parseTime=true", "app", "p@ss://w/rd", "tcp", "h:1", "shop", true},
		{"driver unix", "app@unix(/run/mysqld/mysqld.sock)/shop", "app", "", "unix", "/run/mysqld/mysqld.sock", "shop", false},
		{"driver no database", "root@tcp(127.0.0.1:3306)/", "root", "", "tcp", "127.0.0.1:3306", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := ParseDSN(tt.dsn)
			if err != nil {
				t.Fatalf("ParseDSN(%q): %v", tt.dsn, err)
			}
			got := []string{cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName}
			want := []string{tt.user, tt.pass, tt.net, tt.addr, tt.db}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("user|pass|net|addr|db = %q, want %q", got, want)
			}
			if cfg.ParseTime != tt.parseTime {
				t.Errorf("ParseTime = %v, want %v", cfg.ParseTime, tt.parseTime)
			}
		})
	}
}

func TestParseDSNInvalid(t *testing.T) {
	t.Parallel()
	tests := []string{
		"",
		"   ",
		"no slash at all s3cret",
		"mysql://u:s3cret@[::1/db",
		"mysql://u:s3cret@h:notaport/db",
		"mysql://u:s3cret@h/a/b",
		"mysql:u:s3cret@h/db?x=%zz",
		"postgres://u:s3cret@h/db",
		"u:s3cret@tcp(h:1/db",
		"u:s3cret@tcp(h:1)/db?parseTime=maybe",
		"u:s3cret@tcp(h:1)/db%zz",
		"\x00\xff://",
		"mysql://u:s3cret@h:0/db",
		"u:s3cret@tcp(h:99999)/db",
	}
	for _, dsn := range tests {
		t.Run(dsn, func(t *testing.T) {
			t.Parallel()
			cfg, err := ParseDSN(dsn)
			if err == nil {
				t.Fatalf("ParseDSN(%q) = %+v, want an error", dsn, cfg)
			}
			if !errors.Is(err, connector.ErrInvalidDSN) {
				t.Errorf("ParseDSN(%q): %v, want ErrInvalidDSN", dsn, err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestNormalizeType(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"int(11)", "int"},
		{"INT(10) UNSIGNED", "int unsigned"},
		{"bigint(20) unsigned zerofill", "bigint unsigned zerofill"},
		{"tinyint(1)", "tinyint(1)"},
		{"tinyint(4)", "tinyint"},
		{"bigint", "bigint"},
		{"varchar(255)", "varchar(255)"},
		{"DATETIME(6)", "datetime(6)"},
		{"decimal(10,2)", "decimal(10,2)"},
		{"enum('a','b')", "enum('a','b')"},
		{"point", "point"},
		{"interval(3)", "interval(3)"},
	}
	for _, tt := range tests {
		if got := normalizeType(tt.in); got != tt.want {
			t.Errorf("normalizeType(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
