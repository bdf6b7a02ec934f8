package pnr

import "regexp"

// mayBeNumber matches text shaped like a personal identity number in any of
// the accepted forms, or a longer run of digits that may hold one.
var mayBeNumber = regexp.MustCompile(`[0-9]{6,8}[-+]?[0-9]{4,}`)

// Redact replaces everything in s that may be a personal identity number,
// so free text from elsewhere (an error's message) can go into a log line.
func Redact(s string) string {
	return mayBeNumber.ReplaceAllString(s, "[number]")
}
