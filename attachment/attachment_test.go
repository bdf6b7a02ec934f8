package attachment_test

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/nara-care/nara/attachment"
)

// leaks are byte strings of metadata that must not survive Inspect.
var leaks = []string{
	"Exif\x00", "MM\x00\x2A", "http://ns.adobe.com/xap", "GPSLatitude", "Photoshop 3.0", "IPTC",
	"Storgatan", "MPF\x00", "eXIf", "tEXt", "iTXt", "zTXt", "tIME", "prVt", "Anna", "trailing secret",
}

func assertNoLeaks(t *testing.T, data []byte) {
	t.Helper()
	for _, l := range leaks {
		if bytes.Contains(data, []byte(l)) {
			t.Errorf("stripped file still contains %q", l)
		}
	}
}

func samePixels(t *testing.T, a, b image.Image) {
	t.Helper()
	if a.Bounds() != b.Bounds() {
		t.Fatalf("bounds %v, want %v", b.Bounds(), a.Bounds())
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				t.Fatalf("pixel (%d,%d) is %v, want %v", x, y, b.At(x, y), a.At(x, y))
			}
		}
	}
}

func TestInspectJPEGStripsMetadataLosslessly(t *testing.T) {
	t.Parallel()
	in := jpegWithMetadata(t, 67, 41)
	if !bytes.Contains(in, []byte("Exif\x00")) {
		t.Fatal("test JPEG has no EXIF to strip")
	}
	f, err := attachment.Inspect("IMG_0001.JPG", "image/jpeg", in, attachment.DefaultLimit)
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != attachment.JPEG || f.Name != "IMG_0001.JPG" || f.Width != 67 || f.Height != 41 {
		t.Errorf("got %q %q %d×%d, want image/jpeg IMG_0001.JPG 67×41", f.Type, f.Name, f.Width, f.Height)
	}
	assertNoLeaks(t, f.Data)
	if !bytes.Contains(f.Data, []byte("ICC_PROFILE\x00")) {
		t.Error("the ICC profile was dropped")
	}
	if !bytes.Contains(f.Data, []byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00\xFF")) {
		t.Error("the JFIF segment was not kept with its thumbnail emptied")
	}
	want, err := jpeg.Decode(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	got, err := jpeg.Decode(bytes.NewReader(f.Data))
	if err != nil {
		t.Fatalf("stripped JPEG does not decode: %v", err)
	}
	samePixels(t, want, got)
	// The scan data is copied, not re-encoded.
	plain := encodeJPEG(t, 67, 41)
	sos := bytes.Index(plain, []byte{0xFF, 0xDA})
	if !bytes.HasSuffix(f.Data, plain[sos:]) {
		t.Error("the compressed image data changed")
	}
	// Stripping again changes nothing.
	again, err := attachment.Inspect(f.Name, "", f.Data, attachment.DefaultLimit)
	if err != nil || !bytes.Equal(again.Data, f.Data) {
		t.Errorf("second Inspect: %v, changed %v", err, !bytes.Equal(again.Data, f.Data))
	}
}

func TestInspectJPEGScanWithStuffingAndRestarts(t *testing.T) {
	t.Parallel()
	// A hand-made scan with stuffed bytes, restart markers and fill bytes
	// must be copied whole; image/jpeg's encoder makes none of these.
	plain := encodeJPEG(t, 16, 16)
	sos := bytes.Index(plain, []byte{0xFF, 0xDA})
	n := int(plain[sos+2])<<8 | int(plain[sos+3])
	head := plain[:sos+2+n]
	scan := []byte{0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xFF, 0xD9}
	in := append(bytes.Clone(head), scan...)
	in = append(in, "after"...)
	f, err := attachment.Inspect("x.jpg", "", in, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(f.Data, scan) {
		t.Errorf("scan not copied whole: % x", f.Data[len(head):])
	}
}

func TestInspectPNGStripsMetadataLosslessly(t *testing.T) {
	t.Parallel()
	in := pngWithMetadata(t, 33, 21)
	f, err := attachment.Inspect("screenshot.png", "image/png", in, attachment.DefaultLimit)
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != attachment.PNG || f.Name != "screenshot.png" || f.Width != 33 || f.Height != 21 {
		t.Errorf("got %q %q %d×%d, want image/png screenshot.png 33×21", f.Type, f.Name, f.Width, f.Height)
	}
	assertNoLeaks(t, f.Data)
	if !bytes.Contains(f.Data, []byte("pHYs")) {
		t.Error("the pHYs chunk was dropped")
	}
	want, err := png.Decode(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	got, err := png.Decode(bytes.NewReader(f.Data))
	if err != nil {
		t.Fatalf("stripped PNG does not decode: %v", err)
	}
	samePixels(t, want, got)
	if plain := encodePNG(t, 33, 21); !bytes.Equal(f.Data, append(append(bytes.Clone(plain[:33]), chunk("pHYs", []byte{0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1})...), plain[33:]...)) {
		t.Error("stripped PNG is not the original chunks minus the metadata")
	}
}

func TestInspectErrors(t *testing.T) {
	t.Parallel()
	jpg := encodeJPEG(t, 8, 8)
	pngData := encodePNG(t, 8, 8)
	pdf := []byte("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
	badCRC := bytes.Clone(pngData)
	badCRC[30] ^= 1
	unknownCritical := append(bytes.Clone(pngData[:33]), append(chunk("ABCD", nil), pngData[33:]...)...)
	heic := []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
	elf := []byte("\x7FELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	exe := []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00")
	zip := []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")

	var (
		tooLarge   *attachment.TooLargeError
		unsup      *attachment.UnsupportedTypeError
		mismatch   *attachment.TypeMismatchError
		malformed  *attachment.MalformedError
		tooManyPix *attachment.TooManyPixelsError
	)
	tests := []struct {
		name, file, declared string
		data                 []byte
		limit                int64
		target               any
		msg                  string // a part of the message
	}{
		{"empty", "a.jpg", "", nil, 0, nil, "attachment is empty"},
		{"over the limit", "a.jpg", "", append(bytes.Clone(jpg), make([]byte, 2<<20)...), 2 << 20, &tooLarge, "limit of 2 MB"},
		{"PNG declared as PDF", "a.pdf", "application/pdf", pngData, 0, &mismatch, "declared as application/pdf but its content is a PNG file"},
		{"PDF declared as JPEG", "a.jpg", "image/jpeg", pdf, 0, &mismatch, "declared as image/jpeg but its content is a PDF file"},
		{"JPEG declared as GIF", "a.gif", "image/gif", jpg, 0, &mismatch, "declared as image/gif"},
		{"ELF declared as JPEG", "photo.jpg", "image/jpeg", elf, 0, &unsup, "claims to be image/jpeg but is an executable program; allowed types are JPEG, PNG and PDF"},
		{"exe named photo.jpg", "photo.jpg", "", exe, 0, &unsup, "claims to be image/jpeg but is a Windows program"},
		{"ZIP", "scan.zip", "application/zip", zip, 0, &unsup, "is a ZIP archive"},
		{"unknown", "notes.txt", "", []byte("hello"), 0, &unsup, "attachment is of an unknown type; allowed types are JPEG, PNG and PDF"},
		{"HEIC", "IMG_0001.HEIC", "image/heic", heic, 0, &unsup, "send the photo as JPEG"},
		{"PDF without %%EOF", "a.pdf", "application/pdf", []byte("%PDF-1.7\n1 0 obj <<>> endobj\n"), 0, &malformed, "no %%EOF"},
		{"truncated JPEG", "a.jpg", "", jpg[:len(jpg)/2], 0, &malformed, "not a valid JPEG file"},
		{"JPEG with a segment past the end", "a.jpg", "", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00, 'E'}, 0, &malformed, "runs past the end"},
		{"PNG with a bad CRC", "a.png", "", badCRC, 0, &malformed, "checksum is wrong"},
		{"PNG with an unknown critical chunk", "a.png", "", unknownCritical, 0, &malformed, "unknown critical chunk ABCD"},
		{"truncated PNG", "a.png", "", pngData[:40], 0, &malformed, "not a valid PNG file"},
		{"PNG too wide", "a.png", "", withSize(t, pngData, 12001, 1), 0, &tooManyPix, "12001 × 1 pixels"},
		{"PNG 64 megapixels", "a.png", "", withSize(t, pngData, 8000, 8000), 0, &tooManyPix, "50 megapixels"},
		{"JPEG too tall", "a.jpg", "", withSize(t, jpg, 8, 40000), 0, &tooManyPix, "8 × 40000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := attachment.Inspect(tc.file, tc.declared, tc.data, tc.limit)
			if err == nil {
				t.Fatalf("Inspect(%q, %q) succeeded, want an error", tc.file, tc.declared)
			}
			if tc.target == nil && !errors.Is(err, attachment.ErrEmpty) {
				t.Errorf("Inspect(%q) = %v, want ErrEmpty", tc.file, err)
			}
			if tc.target != nil && !errors.As(err, tc.target) {
				t.Errorf("Inspect(%q) = %T %v, want %T", tc.file, err, err, tc.target)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Inspect(%q) error %q, want it to contain %q", tc.file, err, tc.msg)
			}
		})
	}
}

func TestInspectAccepts(t *testing.T) {
	t.Parallel()
	jpg := encodeJPEG(t, 8, 8)
	pngData := encodePNG(t, 8, 8)
	pdf := []byte("%PDF-1.4\n%âãÏÓ\n1 0 obj <<>> endobj\n%%EOF\r\n\x00\x00")
	tests := []struct {
		file, declared string
		data           []byte
		wantType       attachment.Type
		wantName       string
	}{
		{"a.jpg", "image/jpg", jpg, attachment.JPEG, "a.jpg"},
		{"a.jpeg", "IMAGE/JPEG; charset=binary", jpg, attachment.JPEG, "a.jpeg"},
		{"a.bin", "application/octet-stream", jpg, attachment.JPEG, "a.jpg"},
		{"picture.jpg", "", pngData, attachment.PNG, "picture.png"},
		{"kallelse.pdf", "application/pdf", pdf, attachment.PDF, "kallelse.pdf"},
		{"", "", pdf, attachment.PDF, "attachment.pdf"},
	}
	for _, tc := range tests {
		f, err := attachment.Inspect(tc.file, tc.declared, tc.data, 0)
		if err != nil {
			t.Errorf("Inspect(%q, %q) = %v", tc.file, tc.declared, err)
			continue
		}
		if f.Type != tc.wantType || f.Name != tc.wantName {
			t.Errorf("Inspect(%q, %q) = %q %q, want %q %q", tc.file, tc.declared, f.Type, f.Name, tc.wantType, tc.wantName)
		}
	}
	// A PDF is kept byte for byte, as a copy.
	f, _ := attachment.Inspect("a.pdf", "", pdf, 0)
	if !bytes.Equal(f.Data, pdf) || &f.Data[0] == &pdf[0] {
		t.Error("the PDF was not kept as a copy of what was sent")
	}
}

// endless yields zeros after a JPEG header, as much as is asked, counting.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n >= 30<<20 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), 30<<20-e.n)]
	clear(p)
	if e.n == 0 && len(p) >= 3 {
		copy(p, "\xFF\xD8\xFF")
	}
	e.n += int64(len(p))
	return len(p), nil
}

func TestInspectReaderStopsAtTheLimit(t *testing.T) {
	t.Parallel()
	const limit = 10 << 20
	r := &endless{}
	_, err := attachment.InspectReader("big.jpg", "image/jpeg", r, limit)
	var tooLarge *attachment.TooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Limit != limit {
		t.Fatalf("InspectReader of 30 MB = %v, want a TooLargeError for 10 MB", err)
	}
	if err.Error() != "attachment is larger than the limit of 10 MB" {
		t.Errorf("message %q", err)
	}
	if r.n > limit+1 {
		t.Errorf("read %d bytes, want at most %d", r.n, limit+1)
	}
	f, err := attachment.InspectReader("a.png", "", bytes.NewReader(encodePNG(t, 3, 2)), limit)
	if err != nil || f.Width != 3 {
		t.Errorf("InspectReader of a small PNG = %v, %d wide", err, f.Width)
	}
}
