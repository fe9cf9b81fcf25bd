package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/usersapi/usersapi/client"
)

// name is a name as shown, and the ASCII form an email address is made of.
type name struct{ shown, ascii string }

var firstNames = []name{
	{"Ada", "ada"}, {"Grace", "grace"}, {"Alan", "alan"}, {"Katherine", "katherine"}, {"Linus", "linus"},
	{"Margaret", "margaret"}, {"Dennis", "dennis"}, {"Barbara", "barbara"}, {"Ken", "ken"}, {"Radia", "radia"},
	{"José", "jose"}, {"Zoë", "zoe"}, {"Søren", "soren"}, {"Amélie", "amelie"}, {"Björn", "bjorn"},
	{"Chiamaka", "chiamaka"}, {"Oluwaseun", "oluwaseun"}, {"Priya", "priya"}, {"Arjun", "arjun"}, {"Mei", "mei"},
	{"Hiroshi", "hiroshi"}, {"Yuki", "yuki"}, {"Min-jun", "minjun"}, {"Fatima", "fatima"}, {"Omar", "omar"},
	{"Léa", "lea"}, {"Mateo", "mateo"}, {"Sofía", "sofia"}, {"Nikolai", "nikolai"}, {"Aroha", "aroha"},
	{"Kwame", "kwame"}, {"Ingrid", "ingrid"}, {"Tomás", "tomas"}, {"Leilani", "leilani"}, {"Dmitri", "dmitri"},
	{"Anaïs", "anais"}, {"Jamal", "jamal"}, {"Siobhán", "siobhan"}, {"Thandiwe", "thandiwe"}, {"Wei", "wei"},
}

var lastNames = []name{
	{"Lovelace", "lovelace"}, {"Hopper", "hopper"}, {"Turing", "turing"}, {"Johnson", "johnson"}, {"Torvalds", "torvalds"},
	{"Hamilton", "hamilton"}, {"Ritchie", "ritchie"}, {"Liskov", "liskov"}, {"Thompson", "thompson"}, {"Perlman", "perlman"},
	{"García", "garcia"}, {"Müller", "muller"}, {"Kierkegaard", "kierkegaard"}, {"Dubois", "dubois"}, {"Larsson", "larsson"},
	{"Okafor", "okafor"}, {"Adeyemi", "adeyemi"}, {"Sharma", "sharma"}, {"Patel", "patel"}, {"Chen", "chen"},
	{"Tanaka", "tanaka"}, {"Sato", "sato"}, {"Kim", "kim"}, {"Haddad", "haddad"}, {"Farouk", "farouk"},
	{"Moreau", "moreau"}, {"Fernández", "fernandez"}, {"Ivanova", "ivanova"}, {"Ngata", "ngata"}, {"Mensah", "mensah"},
	{"O'Brien", "obrien"}, {"van der Berg", "vanderberg"}, {"Nakamura", "nakamura"}, {"Kahale", "kahale"}, {"Novak", "novak"},
	{"Costa", "costa"}, {"Abara", "abara"}, {"Ní Bhriain", "nibhriain"}, {"Dlamini", "dlamini"}, {"Zhang", "zhang"},
}

var domains = []string{"example.com", "example.org", "example.net", "mail.example", "users.example"}

// person returns the i-th user of a run: a name from the lists above, an
// email that no other user of any run has (tag is the run's own), and, for
// some, a phone and an age. The same rng state and i give the same user.
func person(rng *rand.Rand, tag string, i int) client.UserInput {
	first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	sep := []string{".", "_", ""}[rng.IntN(3)]
	in := client.UserInput{
		Name:  first.shown + " " + last.shown,
		Email: fmt.Sprintf("%s%s%s+%s%d@%s", first.ascii, sep, last.ascii, tag, i, domains[rng.IntN(len(domains))]),
	}
	if rng.IntN(10) < 6 {
		in.Phone = fmt.Sprintf("%03d555%04d", 200+rng.IntN(800), rng.IntN(10000))
	}
	if rng.IntN(10) < 7 {
		in.Age = 18 + rng.IntN(70)
	}
	in.Email = strings.ToLower(in.Email)
	return in
}
