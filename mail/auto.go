package mail

import (
	"strings"

	"github.com/jhillyerd/enmime/v2"
)

// automatic reports whether a message was sent by a machine rather than a
// person, and which header says so. Answering such mail, or opening a case
// for it, is how two auto-responders end up mailing each other forever.
func automatic(env *enmime.Envelope, from Address) (bool, string) {
	if v := headerValue(env, "Auto-Submitted"); v != "" && v != "no" {
		return true, "Auto-Submitted: " + v
	}
	switch v := headerValue(env, "Precedence"); v {
	case "bulk", "junk", "list", "auto_reply":
		return true, "Precedence: " + v
	}
	for _, h := range []string{"X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id"} {
		if len(env.GetHeaderValues(h)) > 0 {
			return true, h
		}
	}
	if rp := strings.TrimSpace(env.GetHeader("Return-Path")); rp == "<>" {
		return true, "null Return-Path"
	}
	local, _, _ := strings.Cut(strings.ToLower(from.Address), "@")
	switch local {
	case "mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply":
		return true, "sender " + local
	}
	if env.Root != nil && strings.EqualFold(env.Root.ContentType, "multipart/report") {
		return true, "multipart/report"
	}
	return false, ""
}

// headerValue returns a header's first value, lower-cased and without
// parameters, for comparing keywords.
func headerValue(env *enmime.Envelope, name string) string {
	v := strings.ToLower(strings.TrimSpace(env.GetHeader(name)))
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v
}
