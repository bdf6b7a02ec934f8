package attachment_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nara-care/nara/attachment"
)

func TestSanitizeName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("å", 300)
	tests := []struct {
		name string
		t    attachment.Type
		want string
	}{
		{"photo.jpg", attachment.JPEG, "photo.jpg"},
		{"Photo.JPEG", attachment.JPEG, "Photo.JPEG"},
		{"photo.png", attachment.JPEG, "photo.jpg"},
		{"report.pdf.exe", attachment.PDF, "report.pdf.pdf"},
		{"../../etc/passwd", attachment.PDF, "passwd.pdf"},
		{`C:\Users\anna\Desktop\kvitto.PDF`, attachment.PDF, "kvitto.PDF"},
		{"/abs/path/", attachment.PNG, "attachment.png"},
		{"photo\u202Egpj.exe", attachment.JPEG, "photogpj.jpg"},
		{"\u2067evil\u2069.png", attachment.PNG, "evil.png"},
		{"a\x00b\nc\td.pdf", attachment.PDF, "ab c d.pdf"},
		{"zero\u200Bwidth.png", attachment.PNG, "zerowidth.png"},
		{`a<b>:c"d|e?f*.png`, attachment.PNG, "a_b__c_d_e_f_.png"},
		{"Dr. Berg", attachment.PDF, "Dr. Berg.pdf"},
		{"scan.", attachment.PDF, "scan.pdf"},
		{".htaccess", attachment.PNG, "htaccess.png"},
		{"...", attachment.PNG, "attachment.png"},
		{".jpg", attachment.JPEG, "attachment.jpg"},
		{"photo.jpg. . ", attachment.JPEG, "photo.jpg"},
		{"", attachment.PDF, "attachment.pdf"},
		{"\xff\xfe.jpg", attachment.JPEG, "attachment.jpg"},
		{"Läkarintyg åäö.pdf", attachment.PDF, "Läkarintyg åäö.pdf"},
		{long + ".png", attachment.PNG, strings.Repeat("å", (attachment.MaxNameBytes-4)/2) + ".png"},
		{strings.Repeat("a", 500), attachment.JPEG, strings.Repeat("a", attachment.MaxNameBytes-4) + ".jpg"},
	}
	for _, tc := range tests {
		got := attachment.SanitizeName(tc.name, tc.t)
		if got != tc.want {
			t.Errorf("SanitizeName(%q, %s) got %q, want %q", tc.name, tc.t, got, tc.want)
		}
		if len(got) > attachment.MaxNameBytes || !utf8.ValidString(got) {
			t.Errorf("SanitizeName(%q) got %q: %d bytes, valid UTF-8 %v", tc.name, got, len(got), utf8.ValidString(got))
		}
	}
}
