package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/nara-care/nara/access"
	supportv1 "github.com/nara-care/nara/gen/nara/support/v1"
	"github.com/nara-care/nara/gen/nara/support/v1/supportv1connect"
	"github.com/nara-care/nara/identity/oidcdev"
)

// photo is a small picture with some detail, so that it encodes to more
// than a header.
func photo() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), uint8(x + y), 255})
		}
	}
	return img
}

// gpsMarker is in the EXIF of jpegWithGPS, so its absence shows the EXIF
// is gone.
const gpsMarker = "GPS-59.3293N-18.0686E"

// jpegWithGPS is a JPEG as a phone takes it: an EXIF segment (APP1) with a
// position right after the start of image.
func jpegWithGPS() []byte {
	var b bytes.Buffer
	_ = jpeg.Encode(&b, photo(), nil) // writes to memory; cannot fail
	exif := append([]byte("Exif\x00\x00MM\x00\x2A\x00\x00\x00\x08\x00\x00"), gpsMarker...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(exif)+2))
	out := append([]byte{}, b.Bytes()[:2]...)
	out = append(out, append(seg, exif...)...)
	return append(out, b.Bytes()[2:]...)
}

func pngImage() []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, photo()) // writes to memory; cannot fail
	return b.Bytes()
}

// TestSupportAttachments sends files to a case both ways: the citizen's
// photo reaches staff without its EXIF and still decodes, a file that
// lies about its type or is too large is refused with what was wrong and
// nothing is kept, another citizen reads nothing, a guest with the secret
// adds and reads, a closed case takes no file, and a second replica
// serves what the first stored.
func TestSupportAttachments(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ids, citizens := e.citizens(t, 2)
	citizen := supportv1connect.NewSupportServiceClient(e.client, e.url, citizens[0])
	other := supportv1connect.NewSupportServiceClient(e.client, e.url, citizens[1])
	lena := e.staff(t, oidcdev.HSAIDSupportFirstLine, []access.Role{access.RoleSupportFirstLine}, nil, "")
	desk := supportv1connect.NewSupportDeskServiceClient(e.client, e.url, lena)

	opened, err := citizen.OpenCase(ctx, &supportv1.OpenCaseRequest{Category: supportv1.Category_CATEGORY_TECHNICAL,
		Text: "Appen visar fel", IdempotencyKey: supportKey("att-open")})
	if err != nil {
		t.Fatal(err)
	}
	id := opened.Case.Id
	stored := func() int {
		return e.count(t, `SELECT count(*) FROM support_attachment WHERE case_id = $1`, id) +
			e.count(t, `SELECT count(*) FROM attachment_blob`)
	}

	sent := jpegWithGPS()
	if !bytes.Contains(sent, []byte(gpsMarker)) {
		t.Fatal("the test photo has no EXIF")
	}
	added, err := citizen.AddAttachment(ctx, &supportv1.AddAttachmentRequest{CaseId: id, FileName: "IMG_0042.jpg",
		ContentType: "image/jpeg", Data: sent, Text: "Så här ser det ut", IdempotencyKey: supportKey("att-photo")})
	if err != nil {
		t.Fatal(err)
	}
	m := added.Event.GetMessage()
	if m == nil || len(m.Attachments) != 1 || m.Text != "Så här ser det ut" {
		t.Fatalf("AddAttachment got %v, want a message with one attachment", added.Event)
	}
	att := m.Attachments[0]
	if att.ContentType != "image/jpeg" || att.FileName != "IMG_0042.jpg" || att.SizeBytes <= 0 || att.SizeBytes >= int64(len(sent)) {
		t.Errorf("the attachment got %v, want a JPEG smaller than the %d bytes sent", att, len(sent))
	}

	got, err := desk.GetAttachment(ctx, &supportv1.SupportDeskServiceGetAttachmentRequest{CaseId: id, AttachmentId: att.Id})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(got.Data, []byte(gpsMarker)) || bytes.Contains(got.Data, []byte("Exif\x00")) {
		t.Error("staff's copy of the photo still has its EXIF")
	}
	if _, err := jpeg.Decode(bytes.NewReader(got.Data)); err != nil {
		t.Errorf("staff's copy does not decode: %v", err)
	}
	if int64(len(got.Data)) != att.SizeBytes || got.Attachment.Id != att.Id {
		t.Errorf("GetAttachment got %d bytes of %v, want %d of %v", len(got.Data), got.Attachment, att.SizeBytes, att)
	}
	if n := e.count(t, `SELECT count(*) FROM access_log WHERE patient_id = $1 AND procedure = $2`,
		ids[0], supportv1connect.SupportDeskServiceGetAttachmentProcedure); n != 1 {
		t.Errorf("staff's GetAttachment left %d access log entries, want 1", n)
	}
	thread, err := desk.GetCase(ctx, &supportv1.SupportDeskServiceGetCaseRequest{CaseId: id})
	if err != nil || len(thread.Events) != 2 || len(thread.Events[1].GetMessage().GetAttachments()) != 1 {
		t.Errorf("staff's GetCase got %v, %v, want the photo in the thread", thread, err)
	}
	if mine, err := citizen.GetAttachment(ctx, &supportv1.GetAttachmentRequest{CaseId: id, AttachmentId: att.Id}); err != nil || !bytes.Equal(mine.Data, got.Data) {
		t.Errorf("the citizen's GetAttachment got %v, want what staff got", err)
	}
	// Replicas share the bytes: they are in PostgreSQL, not on a disk.
	second := supportv1connect.NewSupportDeskServiceClient(e.client, e.replica(t), lena)
	if res, err := second.GetAttachment(ctx, &supportv1.SupportDeskServiceGetAttachmentRequest{CaseId: id, AttachmentId: att.Id}); err != nil || !bytes.Equal(res.Data, got.Data) {
		t.Errorf("a second replica's GetAttachment got %v", err)
	}

	before := stored()
	for _, tt := range []struct {
		name string
		req  *supportv1.AddAttachmentRequest
		code connect.Code
		says string
	}{
		{"a PNG declared as PDF", &supportv1.AddAttachmentRequest{FileName: "kvitto.pdf", ContentType: "application/pdf", Data: pngImage()},
			connect.CodeInvalidArgument, "declared as application/pdf but its content is a PNG"},
		{"a Word file", &supportv1.AddAttachmentRequest{FileName: "brev.docx", Data: append([]byte("PK\x03\x04"), make([]byte, 100)...)},
			connect.CodeInvalidArgument, "allowed types are JPEG, PNG and PDF"},
		{"9 MB", &supportv1.AddAttachmentRequest{FileName: "stor.jpg", Data: append(jpegWithGPS(), make([]byte, 9<<20)...)},
			connect.CodeInvalidArgument, "8388608"},
	} {
		tt.req.CaseId, tt.req.IdempotencyKey = id, supportKey("att-bad")
		_, err := citizen.AddAttachment(ctx, tt.req)
		if connect.CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: AddAttachment got %v, want %v saying %q", tt.name, err, tt.code, tt.says)
		}
	}
	// 30 MB is over the request limit: refused before it is read whole.
	_, err = citizen.AddAttachment(ctx, &supportv1.AddAttachmentRequest{CaseId: id, FileName: "film.jpg",
		Data: append(jpegWithGPS(), make([]byte, 30<<20)...), IdempotencyKey: supportKey("att-huge")})
	if c := connect.CodeOf(err); c != connect.CodeResourceExhausted && c != connect.CodeInvalidArgument {
		t.Errorf("a 30 MB AddAttachment got %v, want ResourceExhausted", err)
	}
	// Another citizen can neither add to the case nor read from it.
	if _, err := other.AddAttachment(ctx, &supportv1.AddAttachmentRequest{CaseId: id, FileName: "x.png", Data: pngImage(),
		IdempotencyKey: supportKey("att-other")}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("another citizen's AddAttachment got %v, want NotFound", err)
	}
	if _, err := other.GetAttachment(ctx, &supportv1.GetAttachmentRequest{CaseId: id, AttachmentId: att.Id}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("another citizen's GetAttachment got %v, want NotFound", err)
	}
	if after := stored(); after != before {
		t.Errorf("refused attachments left %d rows and blobs, want %d", after, before)
	}

	// Staff send a PDF; the citizen sees it in the thread.
	pdf := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	if _, err := desk.AddAttachment(ctx, &supportv1.SupportDeskServiceAddAttachmentRequest{CaseId: id, FileName: "guide.pdf",
		ContentType: "application/pdf", Data: pdf, IdempotencyKey: supportKey("att-desk")}); err != nil {
		t.Fatal(err)
	}
	mine, err := citizen.GetCase(ctx, &supportv1.GetCaseRequest{CaseId: id})
	if err != nil || len(mine.Events[len(mine.Events)-1].GetMessage().GetAttachments()) != 1 {
		t.Errorf("the citizen's GetCase got %v, %v, want staff's PDF last", mine, err)
	}

	// A closed case takes no file.
	if _, err := desk.CloseCase(ctx, &supportv1.CloseCaseRequest{CaseId: id, Reason: supportv1.CloseReason_CLOSE_REASON_RESOLVED}); err != nil {
		t.Fatal(err)
	}
	if _, err := citizen.AddAttachment(ctx, &supportv1.AddAttachmentRequest{CaseId: id, FileName: "x.png", Data: pngImage(),
		IdempotencyKey: supportKey("att-closed")}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("AddAttachment on a closed case got %v, want FailedPrecondition", err)
	}
	if _, err := desk.AddAttachment(ctx, &supportv1.SupportDeskServiceAddAttachmentRequest{CaseId: id, FileName: "x.png", Data: pngImage(),
		IdempotencyKey: supportKey("att-closed-desk")}); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Errorf("staff's AddAttachment on a closed case got %v, want FailedPrecondition", err)
	}

	// A guest adds and reads with the secret, and nothing without it.
	guest := supportv1connect.NewSupportServiceClient(e.client, e.url)
	g, err := guest.OpenCase(ctx, &supportv1.OpenCaseRequest{Category: supportv1.Category_CATEGORY_TECHNICAL, Text: "Kan inte logga in",
		IdempotencyKey: supportKey("att-guest"), Guest: &supportv1.Guest{DeviceId: "device-att"}})
	if err != nil {
		t.Fatal(err)
	}
	gadd, err := guest.AddAttachment(ctx, &supportv1.AddAttachmentRequest{CaseId: g.Case.Id, GuestSecret: g.GuestSecret,
		FileName: "skärm.png", Data: pngImage(), IdempotencyKey: supportKey("att-guest-add")})
	if err != nil {
		t.Fatal(err)
	}
	gatt := gadd.Event.GetMessage().GetAttachments()[0]
	if res, err := guest.GetAttachment(ctx, &supportv1.GetAttachmentRequest{CaseId: g.Case.Id, GuestSecret: g.GuestSecret, AttachmentId: gatt.Id}); err != nil || gatt.ContentType != "image/png" || int64(len(res.Data)) != gatt.SizeBytes {
		t.Errorf("the guest's GetAttachment got %v, %v", gatt, err)
	}
	if _, err := guest.GetAttachment(ctx, &supportv1.GetAttachmentRequest{CaseId: g.Case.Id, GuestSecret: "not-the-secret", AttachmentId: gatt.Id}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("GetAttachment with a wrong secret got %v, want NotFound", err)
	}
	if _, err := guest.GetAttachment(ctx, &supportv1.GetAttachmentRequest{CaseId: id, GuestSecret: g.GuestSecret, AttachmentId: att.Id}); connect.CodeOf(err) != connect.CodeNotFound {
		t.Errorf("the guest's secret on the citizen's case got %v, want NotFound", err)
	}
}
