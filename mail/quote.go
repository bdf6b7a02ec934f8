package mail

import (
	"regexp"
	"strings"
)

var (
	// replyIntro matches the line a client writes above a quoted message:
	// "On Mon, 2 Jun 2025, Anna <a@x.se> wrote:" and Swedish
	// "Den mån 2 juni 2025 kl 10:00 skrev Anna <a@x.se>:".
	replyIntro = regexp.MustCompile(`(?i)^\s*(on|den)\s.*\b(wrote|skrev)\b.*:\s*$`)
	// replyIntroTail matches an intro whose first words a client varies
	// ("2 juni 2025 kl. 10:00 skrev Anna:"); it counts only when a quote
	// follows.
	replyIntroTail = regexp.MustCompile(`(?i)\b(wrote|skrev)\b.*:\s*$`)
	// outlookSeparator matches the line Outlook puts above a forwarded or
	// replied message.
	outlookSeparator = regexp.MustCompile(`(?i)^\s*-{2,}\s*(original message|ursprungligt meddelande|originalmeddelande)\s*-{2,}\s*$`)
	// outlookHeader matches the first line of Outlook's quoted header block.
	outlookHeader = regexp.MustCompile(`(?i)^\s*\*?(from|från)\s*:\*?\s*\S`)
	// outlookSent matches the "Sent:" line that confirms outlookHeader.
	outlookSent = regexp.MustCompile(`(?i)^\s*\*?(sent|skickat|date|datum)\s*:`)
)

// StripQuoted returns what the sender wrote above the quoted earlier
// messages in a reply: it cuts from the first reply intro ("On … wrote:",
// "Den … skrev:") or Outlook header block, and drops lines quoted with ">".
// A case shows the citizen's words once, not every earlier reply again.
func StripQuoted(text string) string {
	lines := strings.Split(normalizeNewlines(text), "\n")
	cut := len(lines)
	for i := range lines {
		if quoteStartsAt(lines, i) {
			cut = i
			break
		}
	}
	kept := make([]string, 0, cut)
	for _, l := range lines[:cut] {
		if strings.HasPrefix(strings.TrimLeft(l, " \t"), ">") {
			continue
		}
		kept = append(kept, strings.TrimRight(l, " \t"))
	}
	return strings.TrimSpace(strings.Join(kept, "\n"))
}

func quoteStartsAt(lines []string, i int) bool {
	l := lines[i]
	if outlookSeparator.MatchString(l) {
		return true
	}
	if strings.Trim(l, "_ \t") == "" && strings.Count(l, "_") >= 10 && i+1 < len(lines) && outlookHeader.MatchString(lines[i+1]) {
		return true // Outlook's underscore rule above a header block.
	}
	if outlookHeader.MatchString(l) {
		for _, next := range lines[i+1 : min(i+4, len(lines))] {
			if outlookSent.MatchString(next) {
				return true
			}
		}
	}
	if replyIntro.MatchString(l) {
		return true
	}
	// Clients wrap a long intro over two lines.
	if i+1 < len(lines) && startsIntro(l) && replyIntro.MatchString(l+" "+lines[i+1]) {
		return true
	}
	if replyIntroTail.MatchString(l) && nextIsQuote(lines, i) {
		return true
	}
	return false
}

func startsIntro(l string) bool {
	f := strings.Fields(strings.ToLower(l))
	return len(f) > 0 && (f[0] == "on" || f[0] == "den")
}

func nextIsQuote(lines []string, i int) bool {
	for _, l := range lines[i+1:] {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		return strings.HasPrefix(l, ">")
	}
	return false
}
