package mail

import (
	"crypto/rand"
	"regexp"
	"strings"
)

// TokenLen is the length of a case token: 26 base32 characters, 130 random
// bits, so a token in an address or subject cannot be guessed to read or
// join someone else's case.
const TokenLen = 26

// MaxThreadKeys bounds ThreadKeys, so a message with a huge References
// header cannot turn into a huge lookup.
const MaxThreadKeys = 20

// maxMessageIDLen bounds one Message-ID; RFC 5322 lines are at most 998.
const maxMessageIDLen = 250

// NewToken returns a fresh case token from crypto/rand. It is lower case
// because mail systems may fold the case of an address's local part.
func NewToken() string {
	return strings.ToLower(rand.Text())
}

// ValidToken reports whether s has the form NewToken makes (any case).
// Anything else in an address or subject is ignored rather than looked up.
func ValidToken(s string) bool {
	if len(s) != TokenLen {
		return false
	}
	for _, c := range strings.ToLower(s) {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

// CaseAddress returns local+token@domain, the Reply-To of a case's mail, so
// that a reply finds its case even when the client drops In-Reply-To. An
// invalid token gives the plain local@domain rather than a malformed
// address.
func CaseAddress(local, domain, token string) string {
	if !ValidToken(token) {
		return local + "@" + domain
	}
	return local + "+" + strings.ToLower(token) + "@" + domain
}

// SubjectTag returns "[#token]", the subject's copy of the case token for
// replies sent to the plain support address.
func SubjectTag(token string) string {
	return "[#" + strings.ToLower(token) + "]"
}

var subjectToken = regexp.MustCompile(`\[#([A-Za-z2-7]{26})\]`)

// TokenFrom returns the case token of a reply, read from the first To or Cc
// address of the form local+token@domain and then from a "[#token]" in the
// subject; "" when there is none.
func TokenFrom(msg *Message) string {
	for _, list := range [][]Address{msg.To, msg.Cc} {
		for _, a := range list {
			if t := TokenFromAddress(a.Address); t != "" {
				return t
			}
		}
	}
	if m := subjectToken.FindStringSubmatch(msg.Subject); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}

// TokenFromAddress returns the token in local+token@domain, or "". The
// inbound server's envelope recipients go through it too, since a
// forwarding relay may rewrite To but not RCPT TO.
func TokenFromAddress(addr string) string {
	local, _, ok := strings.Cut(strings.Trim(addr, "<> "), "@")
	if !ok {
		return ""
	}
	_, tag, ok := strings.Cut(local, "+")
	if !ok || !ValidToken(tag) {
		return ""
	}
	return strings.ToLower(tag)
}

// ThreadKeys returns the Message-IDs a reply names as its parents, without
// angle brackets, In-Reply-To first and then References from the newest, at
// most MaxThreadKeys and each at most once. They are claims: look them up
// only among the Message-IDs the support domain stored for this sender.
func ThreadKeys(msg *Message) []string {
	keys := make([]string, 0, min(MaxThreadKeys, len(msg.InReplyTo)+len(msg.References)))
	seen := make(map[string]bool)
	add := func(id string) {
		if len(keys) < MaxThreadKeys && validMessageID(id) && !seen[id] {
			seen[id] = true
			keys = append(keys, id)
		}
	}
	for _, id := range msg.InReplyTo {
		add(id)
	}
	for i := len(msg.References) - 1; i >= 0; i-- {
		add(msg.References[i])
	}
	return keys
}

var bracketed = regexp.MustCompile(`<([^<>\s]*)>`)

// messageIDs reads a list of Message-IDs, bracketed as RFC 5322 wants or
// bare and separated by white space or commas as some clients write them.
func messageIDs(v string) []string {
	var ids []string
	if m := bracketed.FindAllStringSubmatch(v, 2*MaxThreadKeys); m != nil {
		for _, s := range m {
			if validMessageID(s[1]) {
				ids = append(ids, s[1])
			}
		}
		return ids
	}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		if validMessageID(f) && len(ids) < 2*MaxThreadKeys {
			ids = append(ids, f)
		}
	}
	return ids
}

func firstID(v string) string {
	if ids := messageIDs(v); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

func validMessageID(id string) bool {
	if len(id) < 3 || len(id) > maxMessageIDLen || !strings.Contains(id, "@") {
		return false
	}
	for _, c := range id {
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return false
		}
	}
	return true
}
