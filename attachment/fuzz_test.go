package attachment_test

import (
	"bytes"
	"errors"
	"path"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/nara-care/nara/attachment"
)

// FuzzInspect: whatever is sent, Inspect does not panic, fails only with
// the package's own errors, and what it accepts is an allowed type within
// the limits, no larger than what was sent, with a safe name whose
// extension fits the type, and stripped for good: inspecting the result
// again returns it unchanged.
func FuzzInspect(f *testing.F) {
	f.Add(jpegWithMetadata(f, 9, 7), "IMG_0001.JPG", "image/jpeg")
	f.Add(pngWithMetadata(f, 5, 3), "../../etc/passwd", "image/png")
	f.Add([]byte("%PDF-1.7\n%%EOF\n"), "kallelse.pdf", "application/pdf")
	f.Add([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), "IMG.HEIC", "")
	f.Add([]byte("\x7FELF\x02\x01\x01"), "photo\u202Egpj.exe", "image/jpeg")
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0x00, 0xFF, 0xD0, 0xFF, 0xD9}, "a.jpg", "")
	f.Fuzz(func(t *testing.T, data []byte, name, declared string) {
		const limit = 1 << 20
		file, err := attachment.Inspect(name, declared, data, limit)
		if err != nil {
			var (
				tooLarge  *attachment.TooLargeError
				unsup     *attachment.UnsupportedTypeError
				mismatch  *attachment.TypeMismatchError
				malformed *attachment.MalformedError
				pixels    *attachment.TooManyPixelsError
			)
			if !errors.Is(err, attachment.ErrEmpty) && !errors.As(err, &tooLarge) && !errors.As(err, &unsup) &&
				!errors.As(err, &mismatch) && !errors.As(err, &malformed) && !errors.As(err, &pixels) {
				t.Fatalf("Inspect returned a foreign error %T: %v", err, err)
			}
			return
		}
		switch file.Type {
		case attachment.JPEG, attachment.PNG:
			if file.Width <= 0 || file.Height <= 0 || file.Width > attachment.MaxSide || file.Height > attachment.MaxSide ||
				file.Width*file.Height > attachment.MaxPixels {
				t.Fatalf("accepted an image of %d × %d", file.Width, file.Height)
			}
		case attachment.PDF:
			if !bytes.Equal(file.Data, data) {
				t.Fatal("a PDF was changed")
			}
		default:
			t.Fatalf("accepted type %q", file.Type)
		}
		if len(file.Data) > len(data) {
			t.Fatalf("stripping grew the file from %d to %d bytes", len(data), len(file.Data))
		}
		n := file.Name
		if n == "" || len(n) > attachment.MaxNameBytes || !utf8.ValidString(n) || strings.ContainsAny(n, `/\`) ||
			strings.HasPrefix(n, ".") || strings.ContainsFunc(n, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
			t.Fatalf("unsafe name %q from %q", n, name)
		}
		if again := attachment.SanitizeName(n, file.Type); again != n {
			t.Fatalf("SanitizeName is not stable: %q then %q", n, again)
		}
		exts := map[attachment.Type][]string{
			attachment.JPEG: {".jpg", ".jpeg", ".jpe", ".jfif"}, attachment.PNG: {".png"}, attachment.PDF: {".pdf"},
		}[file.Type]
		if !slices.Contains(exts, strings.ToLower(path.Ext(n))) {
			t.Fatalf("name %q does not end in an extension for %s", n, file.Type)
		}
		again, err := attachment.Inspect(file.Name, string(file.Type), file.Data, limit)
		if err != nil {
			t.Fatalf("the stripped file is refused: %v", err)
		}
		if !bytes.Equal(again.Data, file.Data) || again.Name != file.Name {
			t.Fatal("inspecting the stripped file changed it again")
		}
	})
}
