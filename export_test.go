package ginjwt

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
	return m.verified.len()
}
