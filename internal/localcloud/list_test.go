package localcloud_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/usersapi/usersapi/internal/localcloud/cloudtest"
)

// TestListEveryPage: GET /users through every page, as make run serves it
// (the template's ListShards, its users spread over the shards), lists every
// user once, in id order; a user deleted before the listing reaches it is
// not listed; the cursor stays short and shows no key names.
func TestListEveryPage(t *testing.T) {
	c := cloudtest.Cloud(t)
	admin := cloudtest.Token(t, c, "root", "users.admin")
	var made []string
	for range 7 {
		r := expect(t, do(t, c, "POST", "/users", `{"name":"Lister","email":"`+email()+`"}`), 202)
		made = append(made, r.body["userId"].(string))
		settle(t, c, r.header.Get("Location"))
	}
	gone := made[5]
	for _, limit := range []string{"1", "2", "25"} {
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 10000 {
				t.Fatalf("limit %s: the listing does not end", limit)
			}
			q := url.Values{"limit": {limit}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			page := expect(t, do(t, c, "GET", "/users?"+q.Encode(), "", "Authorization", admin), 200)
			items, _ := page.body["items"].([]any)
			for _, it := range items {
				seen = append(seen, it.(map[string]any)["id"].(string))
			}
			next, _ := page.body["nextCursor"].(string)
			if next == "" {
				break
			}
			if len(next) > 64 {
				t.Errorf("cursor of %d characters: %s", len(next), next)
			}
			if pages == 0 && limit == "1" {
				// Delete a user the listing has not reached yet.
				del := expect(t, do(t, c, "DELETE", "/users/"+gone, ""), 202)
				settle(t, c, del.header.Get("Location"))
			}
			cursor = next
		}
		if !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != len(seen) {
			t.Errorf("limit %s: not in id order, or a user twice: %v", limit, seen)
		}
		for _, id := range made {
			if listed := slices.Contains(seen, id); listed != (id != gone) {
				t.Errorf("limit %s: user %s listed: %v", limit, id, listed)
			}
		}
	}
}
