// Package runtimeapi runs a function's real bootstrap binary the way Lambda
// does: as a process that pulls invocations from an emulated Lambda Runtime
// API (/2018-06-01/runtime/invocation/next, /response, /error, /init/error).
//
// A Pool keeps warm instances of one function, up to its concurrency; an
// invocation gets Lambda's headers (request id, deadline, function ARN, trace
// id); a timeout kills the instance, which the next invocation replaces; every
// invocation ends in START, END and REPORT lines with its duration, the init
// duration of a cold start and the memory the process used.
package runtimeapi
