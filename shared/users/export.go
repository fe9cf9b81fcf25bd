package users

import "time"

// Export is everything the API holds about one user, for an admin to hand
// over (the right of access): its state, live or deleted, and the outcomes
// of the requests made to it that are still kept.
type Export struct {
	UserID    ID
	User      *User      // the live user; nil once deleted, or if never created
	Tombstone *Tombstone // what a delete left, until it expires; nil for a live user
	Requests  []Request  // the recorded outcomes of the requests made to it, oldest first
	Truncated bool       // more requests are recorded than an export holds
}

// Tombstone is what the API keeps of a deleted user: none of its data.
type Tombstone struct {
	Version   int64 // the version the delete made
	CreatedAt time.Time
	DeletedAt time.Time
	Owner     string
}

// Empty reports whether the export holds nothing: no such user was ever
// created, or everything about it has expired.
func (e Export) Empty() bool {
	return e.User == nil && e.Tombstone == nil && len(e.Requests) == 0
}
