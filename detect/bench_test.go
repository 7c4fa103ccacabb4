package detect

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var words = strings.Fields(`the a of to and in is it that for on with as was at by this from be have or are not
request response service cache worker queue retry timeout config build deploy update value result error
session account project invoice order payment report export import migration table column index record
quickly slowly finally however because although while before after during between under over about
server client node cluster region zone bucket object stream batch event metric trace span log entry`)

// corpusLines builds n deterministic lines shaped like column samples and
// logs: mostly ordinary text, log lines and JSON without personal data, with
// about 1% of lines carrying a planted value.
func corpusLines(n int) []string {
	x := uint32(12345)
	rnd := func(m int) int {
		x = x*1664525 + 1013904223
		return int(x>>8) % m
	}
	sentence := func(k int) string {
		var b strings.Builder
		for i := 0; i < k; i++ {
			w := words[rnd(len(words))]
			if i == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(w)
		}
		b.WriteByte('.')
		return b.String()
	}
	planted := []func() string{
		func() string { return fmt.Sprintf("user%d.name@example.com", rnd(10000)) },
		func() string { return "4111 1111 1111 1111" },
		func() string { return fmt.Sprintf("203.0.113.%d", rnd(255)) },
		func() string { return jwtToken },
		func() string { return "AKIAIOSFODNN7EXAMPLE" },
		func() string { return bcrypt },
		func() string { return "+44 20 7946 0958" },
		func() string { return "DE89370400440532013000" },
		func() string { return ghToken },
		func() string { return "123-45-6789" },
	}
	lines := make([]string, 0, n)
	for i := 0; i < n; i++ {
		var l string
		switch rnd(4) {
		case 0:
			l = fmt.Sprintf("2026-01-%02dT%02d:%02d:%02d.%03dZ INFO request done method=GET path=/api/v1/items/%d status=200 dur=%dms trace=%08x%08x",
				1+rnd(28), rnd(24), rnd(60), rnd(60), rnd(1000), rnd(100000), rnd(900), rnd(1<<30), rnd(1<<30))
		case 1:
			l = fmt.Sprintf(`{"id":%d,"status":"active","created_at":"2026-01-%02dT10:00:00Z","tags":["%s","%s"],"meta":{"count":%d,"ratio":0.%d,"note":"%s"}}`,
				rnd(1000000), 1+rnd(28), words[rnd(len(words))], words[rnd(len(words))], rnd(500), rnd(100), sentence(6+rnd(6)))
		case 2:
			l = sentence(8+rnd(20)) + " " + sentence(6+rnd(10))
		default:
			l = fmt.Sprintf("worker=%d queue=%s attempts=%d latency_ms=%d.%d version=1.%d.%d host=app-%02d.internal build=%x",
				rnd(64), words[rnd(len(words))], rnd(5), rnd(500), rnd(10), rnd(20), rnd(20), rnd(40), rnd(1<<28))
		}
		if rnd(100) == 0 {
			l += " " + planted[rnd(len(planted))]()
		}
		lines = append(lines, l)
	}
	return lines
}

var benchCorpus = func() func() ([]byte, [][]byte) {
	var data []byte
	var lines [][]byte
	return func() ([]byte, [][]byte) {
		if data == nil {
			var b bytes.Buffer
			for _, l := range corpusLines(1 << 20) {
				if b.Len() >= 8<<20 {
					break
				}
				b.WriteString(l)
				b.WriteByte('\n')
			}
			data = b.Bytes()
			lines = bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
		}
		return data, lines
	}
}()

func scanLines(s *Scanner, lines [][]byte, hits []Hit) (matched int) {
	for _, l := range lines {
		hits = s.Scan(l, hits[:0])
		if len(hits) > 0 {
			matched++
		}
	}
	return matched
}

func BenchmarkScan(b *testing.B) {
	data, lines := benchCorpus()
	s := NewScanner()
	hits := make([]Hit, 0, 64)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		scanLines(s, lines, hits)
	}
}

// rgPatterns is the closest regular-expression equivalent of the anchors
// Scanner looks for (without the validation that follows them).
var rgPatterns = []string{
	`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`,
	`\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{1,7}\b`,
	`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`,
	`eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`,
	`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`,
	`\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}`,
	`gh[pousr]_[A-Za-z0-9]{36}`,
	`\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b`,
	`\+\d[\d .()-]{7,18}\d`,
	`\b\d{3}-\d{2}-\d{4}\b`,
	`-----BEGIN [A-Z ]*PRIVATE KEY-----`,
}

// TestCompareRipgrep times ripgrep counting matching lines of the benchmark
// corpus with rgPatterns against Scanner.Scan over the same lines. It runs
// only with VOW_BENCH_RG=1 and rg on PATH.
func TestCompareRipgrep(t *testing.T) {
	if os.Getenv("VOW_BENCH_RG") == "" {
		t.Skip("set VOW_BENCH_RG=1 to compare with ripgrep")
	}
	rg, err := exec.LookPath("rg")
	if err != nil {
		t.Skip("rg not on PATH")
	}
	data, lines := benchCorpus()
	file := filepath.Join(t.TempDir(), "corpus.txt")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-c", "--no-config"}
	for _, p := range rgPatterns {
		args = append(args, "-e", p)
	}
	args = append(args, file)
	runRG := func() time.Duration {
		st := time.Now()
		out, err := exec.Command(rg, args...).Output()
		if err != nil {
			t.Fatalf("rg: %v %s", err, out)
		}
		return time.Since(st)
	}
	s := NewScanner()
	hits := make([]Hit, 0, 64)
	runScan := func() time.Duration {
		st := time.Now()
		scanLines(s, lines, hits)
		return time.Since(st)
	}
	runRG()
	runScan()
	const rounds = 9
	var ratios []float64
	var tRG, tScan []time.Duration
	for r := 0; r < rounds; r++ {
		var a, b time.Duration
		if r%2 == 0 {
			a = runRG()
			b = runScan()
		} else {
			b = runScan()
			a = runRG()
		}
		tRG, tScan = append(tRG, a), append(tScan, b)
		ratios = append(ratios, a.Seconds()/b.Seconds())
	}
	slices.Sort(ratios)
	slices.Sort(tRG)
	slices.Sort(tScan)
	mb := float64(len(data)) / (1 << 20)
	t.Logf("corpus %.1f MiB, %d lines", mb, len(lines))
	t.Logf("ripgrep median %v (%.0f MB/s), Scan median %v (%.0f MB/s)",
		tRG[rounds/2], mb/tRG[rounds/2].Seconds(), tScan[rounds/2], mb/tScan[rounds/2].Seconds())
	t.Logf("Scan throughput / ripgrep throughput: median %.2f, min %.2f, max %.2f", ratios[rounds/2], ratios[0], ratios[rounds-1])
}
