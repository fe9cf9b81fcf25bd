package dynamo

import "time"

// SetClock makes k read the time from now.
func SetClock(k *Keys, now func() time.Time) { k.now = now }
