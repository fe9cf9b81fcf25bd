package users

import (
	"regexp"
	"testing"
)

// idRE is IDPattern compiled: the reference validID is held to.
var idRE = regexp.MustCompile(IDPattern)

func TestValidIDMatchesPattern(t *testing.T) {
	const good = "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"
	cases := []string{
		good,
		"00000000-0000-7000-8000-000000000000",
		"ffffffff-ffff-7fff-bfff-ffffffffffff",
		"0193a4b2-7c3d-7e4f-9a5b-6c7d8e9f0a1b",
		"0193a4b2-7c3d-7e4f-aa5b-6c7d8e9f0a1b",
		"0193a4b2-7c3d-7e4f-ba5b-6c7d8e9f0a1b",
		"",
		"abc",
		good[:35],
		good + "0",
		good + "\n",
		"\n" + good[1:],
		"0193A4B2-7C3D-7E4F-8A5B-6C7D8E9F0A1B", // uppercase
		"0193a4b2-7c3d-4e4f-8a5b-6c7d8e9f0a1b", // version 4
		"0193a4b2-7c3d-7e4f-ca5b-6c7d8e9f0a1b", // variant c
		"0193a4b2-7c3d-7e4f-7a5b-6c7d8e9f0a1b", // variant 7
		"0193a4b2_7c3d-7e4f-8a5b-6c7d8e9f0a1b",
		"0193a4b27-c3d-7e4f-8a5b-6c7d8e9f0a1b",
		"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1g",
		"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1/",
		"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1:",
		"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1`",
		"{0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a}",
		"0193a4b2----------------------------",
	}
	for _, s := range cases {
		if got, want := validID(s), idRE.MatchString(s); got != want {
			t.Errorf("validID(%q) = %v, the pattern says %v", s, got, want)
		}
	}
	// Every single-byte change of a good id, at every position.
	for i := range len(good) {
		for c := 0; c < 256; c++ {
			s := good[:i] + string([]byte{byte(c)}) + good[i+1:]
			if got, want := validID(s), idRE.MatchString(s); got != want {
				t.Fatalf("validID(%q) = %v, the pattern says %v", s, got, want)
			}
		}
	}
}

func FuzzValidID(f *testing.F) {
	f.Add("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b")
	f.Add("0193a4b2-7c3d-4e4f-8a5b-6c7d8e9f0a1b")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validID(s), idRE.MatchString(s); got != want {
			t.Errorf("validID(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}

func BenchmarkParseID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseID("0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b"); err != nil {
			b.Fatal(err)
		}
	}
}
