package attachment

import (
	"bytes"
	"encoding/binary"
)

// JPEG markers this file names.
const (
	markerSOI   = 0xD8
	markerEOI   = 0xD9
	markerSOS   = 0xDA
	markerRST0  = 0xD0
	markerRST7  = 0xD7
	markerTEM   = 0x01
	markerAPP0  = 0xE0
	markerAPP2  = 0xE2
	markerAPP14 = 0xEE
	markerAPP15 = 0xEF
	markerCOM   = 0xFE
)

// stripJPEG walks the segments of a JPEG and copies all but the metadata,
// leaving the compressed image data byte for byte as it was.
//
// Application segments are kept by an allow-list, since cameras and phone
// vendors put metadata in most of the sixteen: APP0 JFIF (with its optional
// thumbnail emptied), APP2 ICC_PROFILE and APP14 Adobe. So APP1 (EXIF with
// the GPS position, XMP), APP13 (IPTC, Photoshop), APP2 MPF, the other APPn
// and COM comments are dropped. The ICC profile stays because the colours
// depend on it (iPhone photos are in Display P3 and look washed out
// without), and it describes the colour space, not the photo or the person.
// Everything after the end-of-image marker is dropped too: that is where MPF
// hides further images (depth maps, previews) with EXIF of their own, and
// where a second file can be appended to make a polyglot.
func stripJPEG(b []byte) ([]byte, error) {
	bad := func(reason string) ([]byte, error) { return nil, &MalformedError{Type: JPEG, Reason: reason} }
	if len(b) < 4 || b[0] != 0xFF || b[1] != markerSOI {
		return bad("it does not start with a start-of-image marker")
	}
	out := make([]byte, 0, len(b))
	out = append(out, 0xFF, markerSOI)
	i := 2
	for {
		if i >= len(b) {
			return bad("it ends before its end-of-image marker")
		}
		if b[i] != 0xFF {
			return bad("there are stray bytes between segments")
		}
		for i < len(b) && b[i] == 0xFF { // fill bytes
			i++
		}
		if i >= len(b) {
			return bad("it ends inside a marker")
		}
		m := b[i]
		i++
		switch {
		case m == markerEOI:
			return append(out, 0xFF, markerEOI), nil
		case m == markerSOI || m == 0x00:
			return bad("it has a misplaced marker")
		case m >= markerRST0 && m <= markerRST7, m == markerTEM:
			out = append(out, 0xFF, m)
			continue
		}
		if i+2 > len(b) {
			return bad("it ends inside a segment header")
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 || n > len(b)-i {
			return bad("a segment runs past the end of the file")
		}
		seg := b[i : i+n] // the length field and the payload
		i += n
		if keep, segOut := jpegSegment(m, seg); keep {
			out = append(out, 0xFF, m)
			out = append(out, segOut...)
		}
		if m != markerSOS {
			continue
		}
		// The entropy-coded scan runs to the next marker that is neither a
		// stuffed 0xFF00 nor a restart marker.
		start := i
		for {
			j := bytes.IndexByte(b[i:], 0xFF)
			if j < 0 || i+j+1 >= len(b) {
				return bad("a scan runs past the end of the file")
			}
			i += j
			next := b[i+1]
			if next == 0x00 || (next >= markerRST0 && next <= markerRST7) {
				i += 2
				continue
			}
			if next == 0xFF { // a fill byte before a marker
				i++
				continue
			}
			break
		}
		out = append(out, b[start:i]...)
	}
}

// jpegSegment says whether to keep a segment (seg is its length field and
// payload) and what to write for it.
func jpegSegment(m byte, seg []byte) (bool, []byte) {
	payload := seg[2:]
	switch {
	case m == markerAPP0 && bytes.HasPrefix(payload, []byte("JFIF\x00")) && len(payload) >= 14:
		if payload[12] == 0 && payload[13] == 0 {
			return true, seg
		}
		// Drop the embedded thumbnail: a thumbnail can show what the image
		// looked like before it was cropped.
		jfif := make([]byte, 16)
		binary.BigEndian.PutUint16(jfif, 16)
		copy(jfif[2:], payload[:12])
		return true, jfif
	case m == markerAPP2:
		return bytes.HasPrefix(payload, []byte("ICC_PROFILE\x00")), seg
	case m == markerAPP14:
		// The Adobe segment says how CMYK and YCCK data are to be decoded.
		return bytes.HasPrefix(payload, []byte("Adobe")), seg
	case m >= markerAPP0 && m <= markerAPP15, m == markerCOM:
		return false, nil
	}
	return true, seg
}
