package seed

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/usersapi/usersapi/shared/users"
)

// TestPeopleAreValidAndUnique: every seeded user passes the API's rules, no
// two share an email, and some (not all) have a phone and an age.
func TestPeopleAreValidAndUnique(t *testing.T) {
	emails := map[string]bool{}
	phones, ages := 0, 0
	const n = 2000
	for i := range n {
		in := person(rand.New(rand.NewPCG(uint64(i), seedOf("abc"))), "abc", i)
		for field, reason := range map[string]string{"name": users.NameReason(in.Name), "email": users.EmailReason(in.Email)} {
			if reason != "" {
				t.Errorf("user %d: %s %s", i, field, reason)
			}
		}
		if in.Phone != "" {
			phones++
			if r := users.PhoneReason(in.Phone); r != "" {
				t.Errorf("user %d: phone %q %s", i, in.Phone, r)
			}
		}
		if in.Age != 0 {
			ages++
			if r := users.AgeReason(in.Age); r != "" {
				t.Errorf("user %d: age %d %s", i, in.Age, r)
			}
		}
		if emails[in.Email] {
			t.Errorf("user %d: email %s twice", i, in.Email)
		}
		emails[in.Email] = true
	}
	if phones == 0 || phones == n || ages == 0 || ages == n {
		t.Errorf("%d phones, %d ages of %d users: want some of each", phones, ages, n)
	}
}

// TestProgress: a bar redrawn in place on a terminal, a line a tenth elsewhere.
func TestProgress(t *testing.T) {
	var term, plain strings.Builder
	bt, bp := &progress{out: &term, terminal: true, total: 20}, &progress{out: &plain, total: 20}
	for i := range 21 {
		bt.draw(i, 0)
		bp.draw(i, 0)
	}
	bt.finish()
	if !strings.HasSuffix(term.String(), "\r[##############################] 100% 20/20 users\n") || strings.Count(term.String(), "\n") != 1 {
		t.Errorf("terminal: %q", term.String())
	}
	if lines := strings.Split(strings.TrimSpace(plain.String()), "\n"); len(lines) != 11 || lines[10] != "seed: 20/20 users (100%)" {
		t.Errorf("plain: %q", plain.String())
	}
}
