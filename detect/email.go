package detect

// email validates local@domain.tld around an '@': a local part of the usual
// unquoted characters, a domain of at least two labels, and an alphabetic
// top-level domain of two letters or more. It deliberately misses quoted
// local parts, IP-literal domains, internationalised TLDs, URL-encoded
// "%40", and hosts without a dot ("name@localhost"); it rejects retina asset
// names such as "image@2x.png", whose "domain" is a file name.
func (s *Scanner) email(v []byte, at int, hits []Hit) ([]Hit, int) {
	a := at
	for a > 0 && at-a < 64 && class[v[a-1]]&cLocal != 0 {
		a--
	}
	for a < at && (v[a] == '.' || v[a] == '-' || v[a] == '+') {
		a++
	}
	if a == at || v[at-1] == '.' {
		return hits, at + 1
	}
	for k := a; k+1 < at; k++ {
		if v[k] == '.' && v[k+1] == '.' {
			return hits, at + 1
		}
	}
	p := at + 1
	labels, ls, le := 0, 0, 0
	for p < len(v) && p-at < 255 {
		st := p
		for p < len(v) && (isAlnum(v[p]) || v[p] == '-') && p-st < 64 {
			p++
		}
		if p == st || v[st] == '-' || v[p-1] == '-' {
			return hits, at + 1
		}
		labels++
		ls, le = st, p
		if p+1 < len(v) && v[p] == '.' && isAlnum(v[p+1]) {
			p++
			continue
		}
		break
	}
	if labels < 2 || le-ls < 2 {
		return hits, at + 1
	}
	if le < len(v) && (isWord(v[le]) || v[le] == '@') {
		return hits, at + 1
	}
	for k := ls; k < le; k++ {
		if !isUpper(v[k]) && !isLower(v[k]) {
			return hits, at + 1
		}
	}
	if labels == 2 && fileExt(v[ls:le]) {
		return hits, at + 1
	}
	return s.hit(hits, CatEmail, "email", 0.9, a, le), le
}

// fileExts are extensions that follow an '@' in asset names (icon@2x.png,
// font@1.woff2) and are not top-level domains people use for mail.
var fileExts = []string{
	"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "heic", "avif",
	"pdf", "js", "mjs", "css", "ts", "tsx", "jsx", "json", "txt", "csv", "xml", "yaml", "yml",
	"zip", "gz", "tgz", "tar", "mp3", "mp4", "mov", "wav", "webm", "html", "htm", "map",
	"woff", "woff2", "ttf", "otf", "eot", "exe", "dll", "bin", "py", "rb", "java", "php", "go", "md", "lock",
}

func fileExt(tld []byte) bool {
	for _, e := range fileExts {
		if len(e) == len(tld) && hasPrefixFold(tld, 0, e) {
			return true
		}
	}
	return false
}
