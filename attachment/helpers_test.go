package attachment_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// gradient is a w×h image with enough detail that a lossy change would show.
func gradient(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 13), uint8(x ^ y), 255})
		}
	}
	return img
}

func encodeJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, gradient(w, h), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, gradient(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// segment is a JPEG marker segment with its length.
func segment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
	return append(s, payload...)
}

// exifWithGPS is an APP1 payload: an EXIF block, big-endian, whose IFD0
// points to a GPS IFD holding latitude 59° 20′ N (Stockholm).
func exifWithGPS() []byte {
	var b bytes.Buffer
	be := binary.BigEndian
	w16 := func(v uint16) { _ = binary.Write(&b, be, v) }
	w32 := func(v uint32) { _ = binary.Write(&b, be, v) }
	b.WriteString("Exif\x00\x00")
	b.WriteString("MM\x00\x2A")
	w32(8) // IFD0 offset, from the TIFF header
	// IFD0: one entry, GPSInfo (0x8825) LONG pointing to the GPS IFD at 26.
	w16(1)
	w16(0x8825)
	w16(4)
	w32(1)
	w32(26)
	w32(0) // no next IFD
	// GPS IFD at 26: GPSLatitudeRef "N", GPSLatitude three RATIONALs at 56.
	w16(2)
	w16(0x0001)
	w16(2)
	w32(2)
	b.WriteString("N\x00\x00\x00")
	w16(0x0002)
	w16(5)
	w32(3)
	w32(56)
	w32(0)
	for _, r := range [][2]uint32{{59, 1}, {20, 1}, {0, 1}} {
		w32(r[0])
		w32(r[1])
	}
	return b.Bytes()
}

// jpegWithMetadata puts EXIF with GPS, XMP, IPTC, a comment, an MPF segment
// and a JFIF thumbnail into a JPEG, and a hidden second image after its end.
func jpegWithMetadata(t testing.TB, w, h int) []byte {
	t.Helper()
	plain := encodeJPEG(t, w, h)
	var b bytes.Buffer
	b.Write(plain[:2])
	jfif := []byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x01\x01\x00\x00\x00") // a 1×1 thumbnail
	b.Write(segment(0xE0, jfif))
	b.Write(segment(0xE1, exifWithGPS()))
	b.Write(segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>59,20N</exif:GPSLatitude></x:xmpmeta>")))
	b.Write(segment(0xED, []byte("Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10IPTC-secret-name")))
	b.Write(segment(0xE2, []byte("MPF\x00MM\x00\x2A")))
	b.Write(segment(0xE2, []byte("ICC_PROFILE\x00\x01\x01fake-profile")))
	b.Write(segment(0xFE, []byte("comment: taken at Storgatan 1")))
	b.Write(plain[2:])
	b.Write([]byte{0xFF, 0xD8, 0xFF})
	b.Write(segment(0xE1, exifWithGPS()))
	return b.Bytes()
}

// chunk is a PNG chunk with its length and CRC.
func chunk(typ string, data []byte) []byte {
	c := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(c, uint32(len(data)))
	copy(c[4:], typ)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// pngWithMetadata puts text, EXIF and time chunks into a PNG next to a pHYs
// chunk that must stay, and a trailer after IEND.
func pngWithMetadata(t testing.TB, w, h int) []byte {
	t.Helper()
	plain := encodePNG(t, w, h)
	ihdrEnd := 8 + 12 + 13
	var b bytes.Buffer
	b.Write(plain[:ihdrEnd])
	b.Write(chunk("pHYs", []byte{0, 0, 0x0B, 0x13, 0, 0, 0x0B, 0x13, 1}))
	b.Write(chunk("eXIf", exifWithGPS()[6:]))
	b.Write(chunk("tEXt", []byte("Author\x00Anna Andersson 19121212-1212")))
	b.Write(chunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<exif:GPSLatitude>59,20N</exif:GPSLatitude>")))
	b.Write(chunk("zTXt", []byte("Comment\x00\x00x\x9c\x03\x00\x00\x00\x00\x01")))
	b.Write(chunk("tIME", []byte{0x07, 0xEA, 1, 2, 3, 4, 5}))
	b.Write(chunk("prVt", []byte("private")))
	b.Write(plain[ihdrEnd:])
	b.WriteString("trailing secret")
	return b.Bytes()
}

// withSize rewrites the size an image claims: in a PNG's IHDR (fixing its
// CRC) or a JPEG's first SOF segment.
func withSize(t testing.TB, data []byte, w, h int) []byte {
	t.Helper()
	out := bytes.Clone(data)
	if bytes.HasPrefix(out, []byte("\x89PNG")) {
		binary.BigEndian.PutUint32(out[16:], uint32(w))
		binary.BigEndian.PutUint32(out[20:], uint32(h))
		binary.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29]))
		return out
	}
	for i := 2; i+9 < len(out); {
		m, n := out[i+1], int(binary.BigEndian.Uint16(out[i+2:]))
		if m == 0xC0 || m == 0xC2 {
			binary.BigEndian.PutUint16(out[i+5:], uint16(h))
			binary.BigEndian.PutUint16(out[i+7:], uint16(w))
			return out
		}
		i += 2 + n
	}
	t.Fatal("no SOF segment")
	return nil
}
