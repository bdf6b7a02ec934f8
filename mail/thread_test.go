package mail

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestToken(t *testing.T) {
	t.Parallel()
	a, b := NewToken(), NewToken()
	if a == b || !ValidToken(a) || !ValidToken(b) {
		t.Fatalf("NewToken() gave %q and %q, want two different valid tokens", a, b)
	}
	tests := []struct {
		in   string
		want bool
	}{
		{a, true},
		{strings.ToUpper(a), true},
		{"abcdefghijklmnopqrstuvwxyz", true},
		{"abcdefghijklmnopqrstuvwxy", false},   // Too short.
		{"abcdefghijklmnopqrstuvwxyz2", false}, // Too long.
		{"abcdefghijklmnopqrstuvwxy1", false},  // Not base32.
		{"abcdefghijklmnopqrstuvwx@y", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidToken(tt.in); got != tt.want {
			t.Errorf("ValidToken(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCaseAddressRoundTrip(t *testing.T) {
	t.Parallel()
	tok := NewToken()
	addr := CaseAddress("support", "nara.example", tok)
	if want := "support+" + tok + "@nara.example"; addr != want {
		t.Fatalf("CaseAddress = %q, want %q", addr, want)
	}
	if got := CaseAddress("support", "nara.example", "x"); got != "support@nara.example" {
		t.Errorf("CaseAddress with invalid token = %q, want the plain address", got)
	}
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{"to", Message{To: []Address{{Address: "other@x.se"}, {Address: addr}}}, tok},
		{"cc upper case", Message{Cc: []Address{{Address: strings.ToUpper(addr)}}}, tok},
		{"subject", Message{Subject: "Re: " + SubjectTag(tok) + " Ditt ärende"}, tok},
		{"address wins over subject", Message{To: []Address{{Address: addr}}, Subject: SubjectTag(NewToken())}, tok},
		{"invalid tag", Message{To: []Address{{Address: "support+short@nara.example"}}, Subject: "[#nope]"}, ""},
		{"none", Message{To: []Address{{Address: "support@nara.example"}}}, ""},
	}
	for _, tt := range tests {
		if got := TokenFrom(&tt.msg); got != tt.want {
			t.Errorf("%s: TokenFrom = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestThreadKeys(t *testing.T) {
	t.Parallel()
	many := make([]string, 0, 50)
	for i := range 50 {
		many = append(many, fmt.Sprintf("<m%d@x>", i))
	}
	tests := []struct {
		name      string
		inReplyTo string
		refs      string
		want      []string
	}{
		{"in-reply-to first then newest reference", "<c@x>", "<a@x> <b@x> <c@x>", []string{"c@x", "b@x", "a@x"}},
		{"bare and comma separated", "c@x", "a@x, b@x", []string{"c@x", "b@x", "a@x"}},
		{"invalid ids dropped", "<no-at-sign>", "<a@x> <" + strings.Repeat("z", 300) + "@x>", []string{"a@x"}},
		{"bounded", "", strings.Join(many, " "), nil},
		{"empty", "", "", []string{}},
	}
	for _, tt := range tests {
		m := &Message{InReplyTo: messageIDs(tt.inReplyTo), References: messageIDs(tt.refs)}
		got := ThreadKeys(m)
		if tt.name == "bounded" {
			if len(got) != MaxThreadKeys {
				t.Errorf("%s: got %d keys, want %d", tt.name, len(got), MaxThreadKeys)
			}
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: ThreadKeys = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStripQuoted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"Hej\n> gammalt\nmer", "Hej\nmer"},
		{"Svar\n\n2 juni 2025 kl. 10:00 skrev Nära <s@n.se>:\n\n> fråga", "Svar"},
		{"I wrote: this is fine\nand more", "I wrote: this is fine\nand more"},
		{"Det han skrev:\nvar fel", "Det han skrev:\nvar fel"},
		{"Svar\n-----Ursprungligt meddelande-----\nFrån: x", "Svar"},
		{"Från: mig\nhej", "Från: mig\nhej"},
	}
	for _, tt := range tests {
		if got := StripQuoted(tt.in); got != tt.want {
			t.Errorf("StripQuoted(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
