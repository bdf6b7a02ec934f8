package attachment

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

const pngSignature = "\x89PNG\r\n\x1A\n"

// pngKeep says whether a stripped PNG keeps a chunk: the critical ones and
// the ancillary ones that change how the pixels look (transparency, gamma,
// colour space, ICC profile, pixel density). Everything else goes: eXIf,
// the text chunks (tEXt, iTXt, zTXt, where editors write authors,
// locations and software), tIME, the animation chunks (frames a preview
// would not show) and private chunks.
func pngKeep(typ string) bool {
	switch typ {
	case "IHDR", "PLTE", "IDAT", "IEND",
		"tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "pHYs", "cICP":
		return true
	}
	return false
}

// stripPNG walks the chunks of a PNG and copies those in pngKeep unchanged,
// CRCs included: each CRC covers only its own chunk, so nothing needs to be
// recomputed. Every CRC is checked, an unknown critical chunk is refused
// (a decoder would refuse it too), and anything after IEND is dropped.
func stripPNG(b []byte) ([]byte, error) {
	bad := func(reason string) ([]byte, error) { return nil, &MalformedError{Type: PNG, Reason: reason} }
	if !bytes.HasPrefix(b, []byte(pngSignature)) {
		return bad("it does not start with the PNG signature")
	}
	out := make([]byte, 0, len(b))
	out = append(out, pngSignature...)
	for i := len(pngSignature); ; {
		if len(b)-i < 12 {
			return bad("it ends before its IEND chunk")
		}
		n := binary.BigEndian.Uint32(b[i:])
		if n > 1<<31-1 || int64(n) > int64(len(b)-i-12) {
			return bad("a chunk runs past the end of the file")
		}
		chunk := b[i : i+12+int(n)]
		i += len(chunk)
		typ := string(chunk[4:8])
		for _, c := range chunk[4:8] {
			if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
				return bad("a chunk has an invalid type")
			}
		}
		if (i == len(pngSignature)+len(chunk)) != (typ == "IHDR") {
			return bad("IHDR is not the first chunk")
		}
		if crc32.ChecksumIEEE(chunk[4:8+n]) != binary.BigEndian.Uint32(chunk[8+n:]) {
			return bad("the " + typ + " chunk's checksum is wrong")
		}
		critical := typ[0] >= 'A' && typ[0] <= 'Z'
		switch {
		case pngKeep(typ):
			out = append(out, chunk...)
		case critical:
			return bad("it has an unknown critical chunk " + typ)
		}
		if typ == "IEND" {
			return out, nil
		}
	}
}
