package users

// validID reports whether s matches IDPattern: 36 bytes, lowercase hex in
// groups of 8-4-4-4-12 joined by dashes, version nibble 7, variant 8, 9, a or b.
// It is the hand-written form of the pattern, which the read path checks on
// every request (id_test.go holds the two to the same answers).
func validID(s string) bool {
	if len(s) != 36 || s[14] != '7' {
		return false
	}
	switch s[19] {
	case '8', '9', 'a', 'b':
	default:
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}
