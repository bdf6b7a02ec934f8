// Package resilience tests the nara binary the way production breaks it:
// PostgreSQL restarted under load, a replica killed or restarted during a
// booking rush behind a reverse proxy, and BankID and FCM answering 503 or
// slowly. Every test runs real processes on loopback against a private
// PostgreSQL cluster, with bounded request counts and time; `go test -short`
// skips them. The package holds tests only.
package resilience
