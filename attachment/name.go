package attachment

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes bounds a sanitized file name, extension included, well under
// the 255 bytes file systems allow and short enough for a header line.
const MaxNameBytes = 120

// fallbackName stands in for a name with nothing usable left in it.
const fallbackName = "attachment"

// SanitizeName makes a file name safe to store, show and offer for download:
// it keeps only the last path element (a name is never a path), removes
// control and invisible formatting characters (U+202E and the other bidi
// controls make "photo" U+202E "gpj.exe" show as "photoexe.jpg"), replaces the
// characters Windows forbids in names, trims leading dots (hidden files) and
// trailing dots and spaces, bounds the length to MaxNameBytes, and ends the
// name with an extension that matches t, keeping the sender's own spelling
// of it when it already matches.
func SanitizeName(name string, t Type) string {
	name = strings.TrimRight(SanitizeText(baseName(name), len(name)), " .")
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	if !isExtension(ext) {
		stem = name
	}
	if typeByExtension(ext) != t || t == "" {
		ext = extension(t)
	}
	stem = strings.Trim(stem, " .")
	if stem == "" {
		stem = fallbackName
	}
	if room := MaxNameBytes - len(ext); len(stem) > room {
		stem = strings.TrimRight(truncateUTF8(stem, room), " .")
	}
	return stem + ext
}

// SanitizeText keeps s printable on one line: invalid UTF-8, control and
// formatting characters are removed, the characters Windows forbids in file
// names become "_", and the result is at most limit bytes.
func SanitizeText(s string, limit int) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "") {
		switch {
		case unicode.IsSpace(r):
			r = ' '
		case unicode.Is(unicode.Cc, r), unicode.Is(unicode.Cf, r),
			unicode.Is(unicode.Co, r), r == utf8.RuneError:
			continue
		case strings.ContainsRune(`<>:"/\|?*`, r):
			r = '_'
		}
		b.WriteRune(r)
	}
	return truncateUTF8(b.String(), limit)
}

// baseName is the last element of a path written with either separator.
func baseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		return name[i+1:]
	}
	return name
}

func truncateUTF8(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// isExtension tells a file extension (".jpg", ".exe") from a dot that is
// part of the name ("Dr. Berg").
func isExtension(ext string) bool {
	if len(ext) < 2 || len(ext) > 6 {
		return false
	}
	for _, c := range ext[1:] {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// extension is the usual extension for t.
func extension(t Type) string {
	switch t {
	case JPEG:
		return ".jpg"
	case PNG:
		return ".png"
	case PDF:
		return ".pdf"
	}
	return ""
}
