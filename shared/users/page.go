package users

// Page is one page of a listing of users. Next is nil on the last page;
// otherwise it is the position to ask for the next page with. It is not
// secret, but a caller must not be able to forge it: seal it before handing it
// out.
type Page struct {
	Items []User
	Next  []byte
}
