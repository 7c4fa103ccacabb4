package detect

import "net/netip"

// ipv4 validates a dotted quad from the groups of a numeric token: four
// decimal octets 0–255 without leading zeros, not part of a longer dotted
// run (versions such as 1.2.3.4.5, reverse-DNS names), and not after a
// version word or a product name ("version 1.2.3.4", "Chrome/120.0.6099.109"),
// which it skips rather than reports. Loopback, unspecified and broadcast
// addresses are reported with low confidence.
func (s *Scanner) ipv4(v []byte, t *numTok, hits []Hit) ([]Hit, bool) {
	if t.n < 4 || t.sep[1] != '.' || t.sep[2] != '.' || t.sep[3] != '.' || (t.n > 4 && t.sep[4] == '.') {
		return hits, false
	}
	var a [4]byte
	for k := 0; k < 4; k++ {
		g := v[t.g[k][0]:t.g[k][1]]
		if len(g) > 3 || (len(g) > 1 && g[0] == '0') {
			return hits, false
		}
		n := atoi(g)
		if n > 255 {
			return hits, false
		}
		a[k] = byte(n)
	}
	i, e := t.g[0][0], t.g[3][1]
	if i >= 2 && (v[i-1] == '.' || v[i-1] == '/') && isAlnum(v[i-2]) {
		return hits, false
	}
	if e < len(v) && (isWord(v[e]) || (v[e] == '.' || v[e] == '-') && e+1 < len(v) && isAlnum(v[e+1])) {
		return hits, false
	}
	if versionBefore(v, i) {
		return hits, true // consumed: a version is not an address
	}
	addr := netip.AddrFrom4(a)
	conf := 0.9
	switch {
	case addr.IsLoopback(), addr.IsUnspecified(), a == [4]byte{255, 255, 255, 255}:
		conf = 0.3
	case addr.IsPrivate(), addr.IsLinkLocalUnicast():
		conf = 0.7
	}
	return s.hit(hits, CatIP, "ipv4", conf, i, e), true
}

var versionWords = []string{"version", "ver", "v", "release", "build", "firmware", "fw", "rev", "revision", "kernel", "os"}

// versionBefore reports whether the word just before i names a version.
func versionBefore(v []byte, i int) bool {
	p := i
	for p > 0 && i-p < 3 && (v[p-1] == ' ' || v[p-1] == ':' || v[p-1] == '=' || v[p-1] == '"') {
		p--
	}
	e := p
	for p > 0 && e-p < 12 && (isAlnum(v[p-1]) || v[p-1] == '_') {
		p--
	}
	if p == e {
		return false
	}
	w := v[p:e]
	for _, vw := range versionWords {
		if len(w) == len(vw) && hasPrefixFold(w, 0, vw) {
			return true
		}
		if len(w) > len(vw) && hasPrefixFold(w, len(w)-len(vw), vw) && w[len(w)-len(vw)-1] == '_' {
			return true
		}
	}
	return false
}

// ipv6 parses an IPv6 address at i, full or compressed, with an optional
// embedded IPv4 tail; zones and brackets are left out of the match. Short
// compressed forms whose first group has fewer than three digits ("a::b",
// C++ scopes) are not taken for addresses.
func (s *Scanner) ipv6(v []byte, i int, hits []Hit) ([]Hit, int) {
	var groups [8]uint16
	var digits [8]int
	n, ellipsis := 0, -1
	p := i
	if hasPrefix(v, p, "::") {
		ellipsis = 0
		p += 2
	}
	end := p
	v4 := false
	for p < len(v) && n < 8 {
		st := p
		var g uint32
		for p < len(v) && class[v[p]]&cHex != 0 && p-st < 5 {
			g = g<<4 | uint32(hexVal(v[p]))
			p++
		}
		if p == st {
			break
		}
		if p-st > 4 {
			return hits, i + 1
		}
		if p < len(v) && v[p] == '.' {
			// Embedded IPv4: needs room for two groups.
			var t numTok
			parseNum(v, st, &t)
			if n > 6 || t.n < 4 || t.sep[1] != '.' || t.sep[2] != '.' || t.sep[3] != '.' {
				return hits, i + 1
			}
			var a [4]int
			for k := 0; k < 4; k++ {
				gb := v[t.g[k][0]:t.g[k][1]]
				if len(gb) > 3 || (len(gb) > 1 && gb[0] == '0') || atoi(gb) > 255 {
					return hits, i + 1
				}
				a[k] = atoi(gb)
			}
			groups[n], digits[n] = uint16(a[0]<<8|a[1]), 4
			groups[n+1], digits[n+1] = uint16(a[2]<<8|a[3]), 4
			n += 2
			end = t.g[3][1]
			v4 = true
			break
		}
		groups[n], digits[n] = uint16(g), p-st
		n++
		end = p
		if p+1 < len(v) && v[p] == ':' && v[p+1] == ':' {
			if ellipsis >= 0 {
				return hits, i + 1
			}
			ellipsis = n
			p += 2
			end = p
			continue
		}
		if p+1 < len(v) && v[p] == ':' && class[v[p+1]]&cHex != 0 {
			p++
			continue
		}
		break
	}
	if end < len(v) && (isWord(v[end]) || v[end] == '.' && !v4 && end+1 < len(v) && isAlnum(v[end+1])) {
		return hits, i + 1
	}
	if ellipsis < 0 && n != 8 || ellipsis >= 0 && n > 7 {
		return hits, i + 1
	}
	if ellipsis > 0 && digits[0] < 3 && n < 4 || ellipsis == 0 && (n == 0 || n == 1 && groups[0] != 1) {
		return hits, i + 1
	}
	var b [16]byte
	k := 0
	for g := 0; g < n; g++ {
		if g == ellipsis {
			k += 8 - n
		}
		b[2*k], b[2*k+1] = byte(groups[g]>>8), byte(groups[g])
		k++
	}
	addr := netip.AddrFrom16(b)
	conf := 0.9
	switch {
	case addr.IsLoopback(), addr.IsUnspecified():
		conf = 0.3
	case addr.IsLinkLocalUnicast(), addr.IsPrivate():
		conf = 0.6
	}
	return s.hit(hits, CatIP, "ipv6", conf, i, end), end
}

func hexVal(b byte) byte {
	switch {
	case isDigit(b):
		return b - '0'
	case b >= 'a':
		return b - 'a' + 10
	default:
		return b - 'A' + 10
	}
}
