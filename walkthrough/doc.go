// Package walkthrough tests the README's "Try it" section the way a new
// user follows it: TestReadmeWalkthrough starts `nara serve --demo` built
// from this source, runs every command of the section's sh blocks in order
// with bash, fills each <placeholder> with the value the README names from
// an earlier answer, and approves the BankID order and chooses the staff
// user on the stand-ins' pages over HTTP, as a browser would. A README edit
// that breaks a step fails the test. `go test -short` skips it. The package
// holds tests only.
package walkthrough
