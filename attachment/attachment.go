// Package attachment checks and stores the files that citizens and staff
// attach to support cases (and later to triage forms).
//
// Inspect is the one door in: it refuses a file over the size limit without
// reading past it, decides the type from the bytes and never from the name,
// refuses a file whose declared type contradicts its content, strips the
// metadata that can say where and when a photo was taken (EXIF with its GPS
// position, XMP, IPTC, comments, PNG text chunks) without re-encoding a single
// pixel, refuses images large enough to be decompression bombs, and gives the
// file a safe name. Its errors are typed and their messages are fit to show
// to the person who sent the file: they say what was wrong and what is
// allowed, and never echo the file's bytes.
//
// Allowed are JPEG, PNG and PDF. A PDF is kept as sent, document
// information included (see checkPDF). HEIC, which iPhones take photos in, is
// recognised and refused with a message asking for JPEG: there is no
// well-kept pure-Go HEIC decoder (those that exist wrap the C decoder
// libde265 through cgo or WebAssembly, and run it on untrusted input), and
// removing its metadata means rewriting the ISO-BMFF item tables, which
// nothing here can check. iOS converts to JPEG when a photo is shared or
// exported, so the app sends JPEG.
//
// Blobs is the small storage interface the checked bytes go to, under a key
// from NewKey: Dir keeps them in a local folder (the default), S3 in an
// S3-compatible object store (the production choice). Who may read an
// attachment is decided by the case it belongs to, outside this package.
package attachment

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"path"
	"strings"
)

// Type is a MIME type the content was found to be.
type Type string

// The types Inspect accepts.
const (
	JPEG Type = "image/jpeg"
	PNG  Type = "image/png"
	PDF  Type = "application/pdf"
)

// HEIC is recognised only to be refused with a helpful message (see the
// package comment); Inspect never returns a File of this type.
const HEIC Type = "image/heic"

// Size limits. MB is a mebibyte, as people and phones count megabytes.
const (
	MB = 1 << 20
	// DefaultLimit is the limit Inspect uses when given none: a phone photo
	// is 2–5 MB as JPEG and a scanned letter as PDF is smaller still.
	DefaultLimit = 10 * MB
)

// Image dimension limits. A few kilobytes of PNG or JPEG can claim a size
// whose decoded pixels fill gigabytes; anything that decodes the image later
// (a thumbnailer, a viewer) must be safe from that.
const (
	// MaxSide is the most pixels on either side: above any phone camera.
	MaxSide = 12000
	// MaxPixels is the most pixels in all: 50 megapixels.
	MaxPixels = 50_000_000
)

// File is an attachment that passed Inspect and is ready to be stored.
type File struct {
	// Name is the sanitized file name, with an extension that matches Type.
	Name string
	// Type is the content type found in the bytes.
	Type Type
	// Data is the content with its metadata removed.
	Data []byte
	// Width and Height are the image's size in pixels; zero for a PDF.
	Width, Height int
}

// ErrEmpty is returned for a file with no bytes, which is always a mistake
// in the app rather than something a person meant to send.
var ErrEmpty = errors.New("attachment is empty")

// TooLargeError is returned for a file over the limit, so that the app can
// tell the person the limit rather than just "failed".
type TooLargeError struct {
	// Limit is the limit in bytes.
	Limit int64
}

func (e *TooLargeError) Error() string {
	return "attachment is larger than the limit of " + formatMB(e.Limit)
}

func formatMB(n int64) string {
	if n%MB == 0 {
		return fmt.Sprintf("%d MB", n/MB)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/MB)
}

// UnsupportedTypeError is returned when the content is none of the allowed
// types, saying what it looks like and which types are allowed, so that an
// honest mistake (a Word file, a HEIC photo) can be put right.
type UnsupportedTypeError struct {
	// Type is the content's MIME type when it was recognised, else empty.
	Type Type
	// Content says in words what the content looks like ("a ZIP archive").
	Content string
	// Claimed is the type the declared content type or the name's
	// extension claimed, if any.
	Claimed Type
}

func (e *UnsupportedTypeError) Error() string {
	var b strings.Builder
	b.WriteString("attachment ")
	if e.Claimed != "" {
		fmt.Fprintf(&b, "claims to be %s but ", e.Claimed)
	}
	fmt.Fprintf(&b, "is %s", e.Content)
	if e.Type == HEIC {
		b.WriteString(", which is not accepted; send the photo as JPEG (iOS converts HEIC to JPEG when a photo is shared or exported)")
		return b.String()
	}
	b.WriteString("; allowed types are JPEG, PNG and PDF")
	return b.String()
}

// TypeMismatchError is returned when the declared content type contradicts
// the content: a sender that lies about one thing is not trusted with the
// rest, and an app that gets it wrong has a bug worth hearing about.
type TypeMismatchError struct {
	// Declared is the content type as declared, normalised.
	Declared string
	// Content is the type the bytes were found to be.
	Content Type
}

func (e *TypeMismatchError) Error() string {
	return fmt.Sprintf("attachment is declared as %s but its content is a %s file (%s)", e.Declared, typeName(e.Content), e.Content)
}

// MalformedError is returned when the content starts as an allowed type but
// is not a well-formed file of it, so metadata could not be removed safely.
type MalformedError struct {
	// Type is the type the content started as.
	Type Type
	// Reason says what is wrong, in a few words.
	Reason string
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("attachment is not a valid %s file: %s", typeName(e.Type), e.Reason)
}

// TooManyPixelsError is returned for an image larger than MaxSide or
// MaxPixels, which could exhaust memory wherever it is decoded.
type TooManyPixelsError struct {
	// Width and Height are the size the image claims.
	Width, Height int
}

func (e *TooManyPixelsError) Error() string {
	return fmt.Sprintf("image is %d × %d pixels; at most %d pixels on a side and %d megapixels are allowed",
		e.Width, e.Height, MaxSide, MaxPixels/1_000_000)
}

func typeName(t Type) string {
	switch t {
	case JPEG:
		return "JPEG"
	case PNG:
		return "PNG"
	case PDF:
		return "PDF"
	case HEIC:
		return "HEIC"
	}
	return string(t)
}

// ReadLimited reads r to its end, or refuses with a *TooLargeError after
// reading at most limit+1 bytes, so that a 30 MB upload costs no more than
// the limit. A limit of zero or less means DefaultLimit.
func ReadLimited(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	return data, nil
}

// InspectReader is Inspect for content that arrives as a stream: it reads
// no more than limit+1 bytes of r.
func InspectReader(name, declaredType string, r io.Reader, limit int64) (File, error) {
	data, err := ReadLimited(r, limit)
	if err != nil {
		return File{}, err
	}
	return Inspect(name, declaredType, data, limit)
}

// Inspect checks an attachment and returns it with its metadata removed and a
// safe name. declaredType is the content type the sender gave, if any
// ("application/octet-stream" counts as none); the name's extension is only
// a hint, replaced when it does not fit the content, since people and phones
// rename files freely. A limit of zero or less means DefaultLimit. data is
// not modified; File.Data is a new slice.
func Inspect(name, declaredType string, data []byte, limit int64) (File, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	if int64(len(data)) > limit {
		return File{}, &TooLargeError{Limit: limit}
	}
	if len(data) == 0 {
		return File{}, ErrEmpty
	}
	declared, declaredOK := normaliseDeclared(declaredType)
	t, what := sniff(data)
	if t != JPEG && t != PNG && t != PDF {
		claimed := Type("")
		if declaredOK {
			claimed = Type(declared)
		} else {
			claimed = typeByExtension(path.Ext(baseName(name)))
		}
		if claimed == t {
			claimed = ""
		}
		return File{}, &UnsupportedTypeError{Type: t, Content: what, Claimed: claimed}
	}
	if declaredOK && Type(declared) != t {
		return File{}, &TypeMismatchError{Declared: declared, Content: t}
	}
	f := File{Name: SanitizeName(name, t), Type: t}
	var err error
	switch t {
	case JPEG:
		if f.Data, err = stripJPEG(data); err == nil {
			f.Width, f.Height, err = checkImage(t, f.Data, jpeg.DecodeConfig)
		}
	case PNG:
		if f.Data, err = stripPNG(data); err == nil {
			f.Width, f.Height, err = checkImage(t, f.Data, png.DecodeConfig)
		}
	case PDF:
		if err = checkPDF(data); err == nil {
			f.Data = bytes.Clone(data)
		}
	}
	if err != nil {
		return File{}, err
	}
	return f, nil
}

// checkImage decodes the header of the stripped image, which proves that the
// result is still an image, and applies the dimension limits.
func checkImage(t Type, data []byte, decodeConfig func(io.Reader) (image.Config, error)) (int, int, error) {
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, &MalformedError{Type: t, Reason: "the image header does not decode"}
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 {
		return 0, 0, &MalformedError{Type: t, Reason: "the image has no pixels"}
	}
	if w > MaxSide || h > MaxSide || int64(w)*int64(h) > MaxPixels {
		return 0, 0, &TooManyPixelsError{Width: w, Height: h}
	}
	return w, h, nil
}

// normaliseDeclared returns the declared media type in lower case with
// common aliases folded, and false when none was really declared.
func normaliseDeclared(declared string) (string, bool) {
	declared = strings.TrimSpace(declared)
	if declared == "" {
		return "", false
	}
	mt, _, err := mime.ParseMediaType(declared)
	if err != nil {
		// Not a media type at all; keep a bounded, printable form for the
		// error message.
		mt = strings.ToLower(SanitizeText(declared, 64))
	}
	switch mt {
	case "application/octet-stream", "binary/octet-stream", "":
		return "", false
	case "image/jpg", "image/pjpeg":
		return string(JPEG), true
	case "image/x-png":
		return string(PNG), true
	case "application/x-pdf":
		return string(PDF), true
	case "image/heif":
		return string(HEIC), true
	}
	return mt, true
}

func typeByExtension(ext string) Type {
	switch strings.ToLower(ext) {
	case ".jpg", ".jpeg", ".jpe", ".jfif":
		return JPEG
	case ".png":
		return PNG
	case ".pdf":
		return PDF
	case ".heic", ".heif":
		return HEIC
	}
	return ""
}

// sniff tells the type from the first bytes, and in words what the content
// is for the types that are refused.
func sniff(b []byte) (Type, string) {
	has := func(off int, s string) bool { return len(b) >= off+len(s) && string(b[off:off+len(s)]) == s }
	switch {
	case has(0, "\xFF\xD8\xFF"):
		return JPEG, "a JPEG image"
	case has(0, "\x89PNG\r\n\x1A\n"):
		return PNG, "a PNG image"
	case has(0, "%PDF-"):
		return PDF, "a PDF document"
	case has(4, "ftyp"):
		switch string(b[8:min(len(b), 12)]) {
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1":
			return HEIC, "a HEIC image"
		case "avif", "avis":
			return "image/avif", "an AVIF image"
		}
		return "video/mp4", "a video or other ISO media file"
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return "image/gif", "a GIF image"
	case has(0, "RIFF") && has(8, "WEBP"):
		return "image/webp", "a WebP image"
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return "image/tiff", "a TIFF image"
	case has(0, "BM"):
		return "image/bmp", "a BMP image"
	case has(0, "PK\x03\x04"), has(0, "PK\x05\x06"):
		return "application/zip", "a ZIP archive (or an Office document)"
	case has(0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"):
		return "application/x-ole-storage", "an old-style Office document"
	case has(0, "\x7FELF"):
		return "application/x-executable", "an executable program"
	case has(0, "MZ"):
		return "application/vnd.microsoft.portable-executable", "a Windows program"
	case has(0, "#!"):
		return "text/x-shellscript", "a script"
	}
	return "", "of an unknown type"
}
