package demo

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

type generator struct {
	rng  *rand.Rand
	now  time.Time
	size int
	tx   *sql.Tx
	ctx  context.Context
}

var (
	firstNames  = []string{"Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger", "Hedy", "Radia", "Whitfield", "Shafi", "Tim", "Sophie", "Yuki", "Amara", "Mateo", "Priya", "Lars", "Chen", "Fatima", "Noah"}
	lastNames   = []string{"Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Dijkstra", "Lamarr", "Perlman", "Diffie", "Goldwasser", "Berners-Lee", "Wilson", "Tanaka", "Okafor", "García", "Sharma", "Nilsson", "Wei", "Haddad", "Müller"}
	orgWords    = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Aperture", "Soylent", "Wonka", "Gringotts", "Oscorp", "Massive"}
	orgSuffix   = []string{"Labs", "Cloud", "Systems", "GmbH", "Inc", "Ltd", "AG", "Software", "Networks"}
	severities  = []string{"critical", "high", "medium", "medium", "low", "low", "low", "info"}
	findingKind = []string{"Hard-coded AWS key", "SQL injection", "Outdated OpenSSL", "Open S3 bucket", "Weak TLS cipher", "Exposed .env file", "Missing CSP header", "Vulnerable lodash", "Public RDS snapshot", "Root account without MFA"}
	actions     = []string{"user.login", "user.login", "user.login", "scan.start", "project.create", "token.create", "credential.rotate", "member.invite", "settings.update", "user.logout"}
	agents      = []string{"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "Mozilla/5.0 (Macintosh) Safari/605.1.15", "Mozilla/5.0 (Windows NT 10.0) Chrome/131.0", "lumen-cli/2.4.1", "Terraform/1.9 lumen-provider/0.8"}
	providers   = []string{"aws", "gcp", "azure"}
	cities      = []string{"Berlin", "Lisbon", "Amsterdam", "Dublin", "Warsaw", "Austin", "Toronto", "Tallinn"}
)

func (g *generator) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

// ago returns a time up to max before now.
func (g *generator) ago(max time.Duration) time.Time {
	return g.now.Add(-time.Duration(g.rng.Int64N(int64(max))))
}

func (g *generator) ip() string {
	return fmt.Sprintf("%d.%d.%d.%d", 1+g.rng.IntN(222), g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
}

func (g *generator) hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// insert prepares one statement and runs it n times with the row function.
func (g *generator) insert(table string, cols []string, n int, row func(i int) []any) (int, error) {
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, strings.Join(cols, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", "))
	st, err := g.tx.PrepareContext(g.ctx, q)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", table, err)
	}
	defer st.Close()
	count := 0
	for i := 1; i <= n; i++ {
		args := row(i)
		if args == nil {
			continue
		}
		if _, err := st.ExecContext(g.ctx, args...); err != nil {
			return 0, fmt.Errorf("%s row %d: %w", table, i, err)
		}
		count++
	}
	return count, nil
}

const day = 24 * time.Hour

func (g *generator) fill(ctx context.Context, tx *sql.Tx) ([]TableRows, error) {
	g.ctx, g.tx = ctx, tx
	s := g.size
	nOrgs, nUsers := 200*s, 1500*s
	nProjects, nScans := 600*s, 6000*s
	var out []TableRows
	step := func(table string, cols []string, n int, row func(i int) []any) error {
		c, err := g.insert(table, cols, n, row)
		if err == nil {
			out = append(out, TableRows{table, c})
		}
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (1, ?), (2, ?)`, g.now.Add(-400*day), g.now.Add(-90*day)); err != nil {
		return nil, err
	}
	orgPlan := make([]string, nOrgs+1)
	orgCreated := make([]time.Time, nOrgs+1)
	err := step("organizations", []string{"id", "name", "plan", "billing_email", "created_at", "deleted_at"}, nOrgs, func(i int) []any {
		plan := []string{"free", "free", "free", "team", "team", "enterprise"}[g.rng.IntN(6)]
		orgPlan[i] = plan
		orgCreated[i] = g.ago(700 * day)
		name := fmt.Sprintf("%s %s %d", g.pick(orgWords), g.pick(orgSuffix), i)
		var deleted any
		if g.rng.IntN(20) == 0 { // 5% closed, some past their 30-day grace
			deleted = g.ago(60 * day)
		}
		return []any{i, name, plan, fmt.Sprintf("billing+%d@%s.example", i, strings.ToLower(g.pick(orgWords))), orgCreated[i], deleted}
	})
	if err != nil {
		return nil, err
	}
	userOrg := make([]int, nUsers+1)
	err = step("users", []string{"id", "email", "name", "password_hash", "last_login_ip", "created_at", "deleted_at"}, nUsers, func(i int) []any {
		first, last := g.pick(firstNames), g.pick(lastNames)
		userOrg[i] = 1 + g.rng.IntN(nOrgs)
		var deleted any
		if g.rng.IntN(40) == 0 {
			deleted = g.ago(90 * day)
		}
		email := fmt.Sprintf("%s.%s.%d@%s.example", strings.ToLower(first), strings.ToLower(strings.ReplaceAll(last, "ü", "ue")), i, strings.ToLower(g.pick(orgWords)))
		return []any{i, email, first + " " + last, "$argon2id$v=19$m=65536,t=3,p=2$" + g.hash(email)[:43], g.ip(), g.ago(600 * day), deleted}
	})
	if err != nil {
		return nil, err
	}
	seen := map[[2]int]bool{}
	err = step("memberships", []string{"org_id", "user_id", "role", "created_at"}, nUsers+nUsers/3, func(i int) []any {
		u := i
		o := 0
		if i <= nUsers {
			o = userOrg[i]
		} else { // some users belong to a second organization
			u = 1 + g.rng.IntN(nUsers)
			o = 1 + g.rng.IntN(nOrgs)
		}
		if seen[[2]int{o, u}] {
			return nil
		}
		seen[[2]int{o, u}] = true
		return []any{o, u, []string{"owner", "admin", "member", "member", "member", "viewer"}[g.rng.IntN(6)], g.ago(500 * day)}
	})
	if err != nil {
		return nil, err
	}
	projOrg := make([]int, nProjects+1)
	err = step("projects", []string{"id", "org_id", "name", "repo_url", "created_at"}, nProjects, func(i int) []any {
		projOrg[i] = 1 + g.rng.IntN(nOrgs)
		name := []string{"api", "web", "infra", "mobile", "billing", "auth", "data-pipeline", "terraform"}[g.rng.IntN(8)]
		return []any{i, projOrg[i], name, fmt.Sprintf("https://git.example/%s/%s-%d", strings.ToLower(g.pick(firstNames)), name, i), g.ago(500 * day)}
	})
	if err != nil {
		return nil, err
	}
	scanCreated := make([]time.Time, nScans+1)
	err = step("scans", []string{"id", "project_id", "triggered_by", "status", "created_at", "finished_at"}, nScans, func(i int) []any {
		p := 1 + g.rng.IntN(nProjects)
		scanCreated[i] = g.ago(400 * day)
		var by any
		if g.rng.IntN(3) > 0 { // the rest are scheduled scans
			by = 1 + g.rng.IntN(nUsers)
		}
		status, finished := "succeeded", any(scanCreated[i].Add(time.Duration(30+g.rng.IntN(900))*time.Second))
		if g.rng.IntN(25) == 0 {
			status, finished = "failed", nil
		}
		return []any{i, p, by, status, scanCreated[i], finished}
	})
	if err != nil {
		return nil, err
	}
	err = step("findings", []string{"id", "scan_id", "severity", "title", "file_path", "created_at"}, nScans*5, func(i int) []any {
		sc := 1 + g.rng.IntN(nScans)
		return []any{i, sc, g.pick(severities), g.pick(findingKind), fmt.Sprintf("src/%s/%s.go:%d", g.pick([]string{"api", "auth", "db", "deploy"}), g.pick([]string{"handler", "config", "client", "main"}), 1+g.rng.IntN(400)), scanCreated[sc].Add(time.Minute)}
	})
	if err != nil {
		return nil, err
	}
	err = step("cloud_credentials", []string{"id", "org_id", "provider", "access_key_id", "secret_ciphertext", "created_by", "created_at"}, nOrgs*3/2, func(i int) []any {
		secret := make([]byte, 48)
		for j := range secret {
			secret[j] = byte(g.rng.IntN(256))
		}
		return []any{i, 1 + g.rng.IntN(nOrgs), g.pick(providers), fmt.Sprintf("AKIA%016X", g.rng.Uint64()), secret, 1 + g.rng.IntN(nUsers), g.ago(400 * day)}
	})
	if err != nil {
		return nil, err
	}
	err = step("api_tokens", []string{"id", "user_id", "name", "token_hash", "last_used_ip", "created_at", "expires_at"}, nUsers*4/5, func(i int) []any {
		created := g.ago(400 * day)
		var expires any
		if g.rng.IntN(2) == 0 {
			expires = created.Add(90 * day)
		}
		return []any{i, 1 + g.rng.IntN(nUsers), g.pick([]string{"ci", "terraform", "laptop", "github-action"}), g.hash(fmt.Sprint("token", i)), g.ip(), created, expires}
	})
	if err != nil {
		return nil, err
	}
	err = step("audit_logs", []string{"id", "org_id", "actor_id", "action", "ip_address", "user_agent", "created_at"}, 20000*s, func(i int) []any {
		u := 1 + g.rng.IntN(nUsers)
		return []any{i, userOrg[u], u, g.pick(actions), g.ip(), g.pick(agents), g.ago(540 * day)}
	})
	if err != nil {
		return nil, err
	}
	err = step("invoices", []string{"id", "org_id", "amount_cents", "currency", "billing_name", "billing_address", "vat_number", "issued_at"}, nOrgs*12, func(i int) []any {
		o := 1 + g.rng.IntN(nOrgs)
		if orgPlan[o] == "free" {
			return nil
		}
		amount := map[string]int{"team": 4900, "enterprise": 49900}[orgPlan[o]]
		var vat any
		if g.rng.IntN(2) == 0 {
			vat = fmt.Sprintf("DE%09d", g.rng.IntN(1_000_000_000))
		}
		return []any{i, o, amount, "EUR", g.pick(firstNames) + " " + g.pick(lastNames), fmt.Sprintf("%d Example Street, %s", 1+g.rng.IntN(200), g.pick(cities)), vat, g.ago(720 * day)}
	})
	if err != nil {
		return nil, err
	}
	err = step("email_preferences", []string{"user_id", "product_updates", "marketing", "updated_at"}, nUsers, func(i int) []any {
		if g.rng.IntN(5) == 0 {
			return nil
		}
		return []any{i, g.rng.IntN(3) > 0, g.rng.IntN(4) == 0, g.ago(300 * day)}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
