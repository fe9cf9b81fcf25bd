package dynamo

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestStartKey(t *testing.T) {
	good := `{"pk":"USER#0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b","id":"0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b","listPk":"users"}`
	k, err := startKey([]byte(good))
	if err != nil || k["id"].(*types.AttributeValueMemberS).Value != "0193a4b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b" {
		t.Fatalf("%v %v", k, err)
	}
	for _, bad := range []string{``, `{}`, `[]`, `{"pk":"x","id":"y","listPk":"users"}`, `{"pk":"USER#a","id":"a","listPk":"other"}`,
		`{"pk":"USER#a","id":"a","listPk":"users","extra":"1"}`, `{"pk":1}`} {
		if _, err := startKey([]byte(bad)); err == nil {
			t.Errorf("startKey(%s) accepted", bad)
		}
	}
}

// FuzzStartKey: no position makes decoding panic, and what it accepts names
// a user item of the listing index.
func FuzzStartKey(f *testing.F) {
	f.Add([]byte(`{"pk":"USER#a","id":"a","listPk":"users"}`))
	f.Add([]byte(`{"pk":"EMAIL#a","id":"a","listPk":"users"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := startKey(b)
		if err == nil && (len(k) != 3 || k["listPk"].(*types.AttributeValueMemberS).Value != "users") {
			t.Fatalf("accepted %q as %v", b, k)
		}
	})
}
