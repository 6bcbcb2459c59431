package ginjwt

import "github.com/ginjwt/ginjwt/internal/jsonindex"

// IndexPySpace exposes indexPySpace to the external tests.
var IndexPySpace = indexPySpace

// TokenFromHeader exposes the header parser to the fuzz test.
func TokenFromHeader(m *Manager, value string) (string, *Error) {
	return m.tokenFromHeader(map[string][]string{"Authorization": {value}})
}

// VerifiedCacheLen returns the entries of m's verified-token cache, -1
// when it has none.
func VerifiedCacheLen(m *Manager) int {
	if m.verified == nil {
		return -1
	}
	n, _ := m.verified.stats()
	return n
}

// VerifiedCacheBytes returns the bytes m's verified-token cache accounts
// its entries for.
func VerifiedCacheBytes(m *Manager) int {
	_, n := m.verified.stats()
	return n
}

// VerifiedCacheHolds reports whether m's verified-token cache holds token.
func VerifiedCacheHolds(m *Manager, token string) bool {
	return m.verified.holds(token)
}

// ClaimMatch runs the requirements' matching on claim name of payload, a
// JSON object: RequireClaim's (want, a Go value as RequireClaim takes it),
// RequireAll's (value) and RequireClaimParam's (param). ok is false when
// payload is not a JSON object or want cannot be normalized.
func ClaimMatch(payload, name string, want any, value, param string) (matched, holdsValue, equalsParameter, ok bool) {
	st := &requestState{}
	if !st.tok.Claims.doc.Parse(payload) || !isObject(&st.tok.Claims.doc) {
		return false, false, false, false
	}
	w, err := normalize(want)
	if err != nil {
		return false, false, false, false
	}
	v, _ := st.claim(name)
	return claimMatches(st, name, w), holds(&st.tok.Claims.doc, v, value), equalsParam(v, param), true
}

// IsPlainDecimal exposes the route parameter's number rule.
var IsPlainDecimal = jsonindex.IsPlainDecimal

// MemoryBlocklistLen returns the entries b holds (revocations, rotation
// records, identity cutoffs and listed sessions), expired ones not yet
// swept included.
func MemoryBlocklistLen(b *MemoryBlocklist) int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	n := len(b.revoked) + len(b.families) + len(b.identities)
	for _, list := range b.sessions {
		n += len(list)
	}
	return n
}
