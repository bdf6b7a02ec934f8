package attachment

import "bytes"

// pdfTail is how far from the end "%%EOF" may be: writers add line ends
// and sometimes a little padding after it.
const pdfTail = 1024

// checkPDF checks that a PDF at least starts and ends like one: a header at
// the very start (the standard tolerates junk before it, which is how
// polyglot files are made, so this does not) and "%%EOF" near the end, so
// that a truncated upload is refused rather than stored.
//
// A PDF keeps its document information (author, title, the producing
// software, XMP metadata) and whatever else it contains: removing that safely
// needs a full PDF parser and writer, which this package does not have.
// Serve PDFs as downloads, never inline, since they can carry scripts.
func checkPDF(b []byte) error {
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		return &MalformedError{Type: PDF, Reason: "it does not start with %PDF-"}
	}
	if !bytes.Contains(b[max(0, len(b)-pdfTail):], []byte("%%EOF")) {
		return &MalformedError{Type: PDF, Reason: "it has no %%EOF marker at its end, so it is probably cut short"}
	}
	return nil
}
