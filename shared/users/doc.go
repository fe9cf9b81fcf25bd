// Package users is the domain of the users API: what a user is, the rules its
// fields obey, the commands that change it, the changes those commands make and
// the errors a client may be told about.
//
// It does no I/O and imports nothing from AWS: the adapters in the sibling
// packages (dynamo, queue, bus, apigw) translate between it and the world.
package users
