package dynamo

import "github.com/usersapi/usersapi/shared/users"

// ListKey is the listPk of the user with id over n shards, for tests that
// plant users as Table.Apply writes them.
func ListKey(id users.ID, n int) string { return listKey(shardOf(string(id), n)) }

// Position is the listing position after the user with id, as List returns it.
func Position(id users.ID) []byte {
	p, err := encodePosition(id)
	if err != nil {
		panic(err)
	}
	return p
}
