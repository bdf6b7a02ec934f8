package openapi_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nara-care/nara/sdk/openapi"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestPageGolden renders a small description that has every construct the
// page shows (services, RPCs, nested and repeated messages, maps, enums,
// rules, well-known types) and compares it with testdata/page.html.golden.
func TestPageGolden(t *testing.T) {
	t.Parallel()
	in, err := os.ReadFile(filepath.Join("testdata", "page.openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := openapi.Page(in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := openapi.Page(in)
	if err != nil || !bytes.Equal(got, again) {
		t.Fatal("Page gave different output for the same description")
	}
	golden := filepath.Join("testdata", "page.html.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Page differs from %s; if the change is intended, run go test ./sdk/openapi -update and review the diff", golden)
	}
}

// TestPageOfTheAPI renders the embedded description: it must parse, name
// every RPC, and load nothing from elsewhere.
func TestPageOfTheAPI(t *testing.T) {
	t.Parallel()
	page, err := openapi.Page(openapi.Description())
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, want := range []string{`id="AppointmentService/BookSlot"`, `id="HelpService/SearchArticles"`, `id="nara.appointment.v1.Status"`, "STATUS_BOOKED"} {
		if !strings.Contains(s, want) {
			t.Errorf("the page has no %s", want)
		}
	}
	for _, banned := range []string{"<script", "src=", "<link", "@import", "url("} {
		if strings.Contains(s, banned) {
			t.Errorf("the page contains %q; it must load nothing", banned)
		}
	}
}

func TestPageRefusesBrokenReferences(t *testing.T) {
	t.Parallel()
	doc := `paths:
  /a.v1.S/M:
    post:
      tags: [S]
      summary: M
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/a.v1.Missing'}}}}
`
	if _, err := openapi.Page([]byte(doc)); err == nil {
		t.Error("Page accepted an RPC whose request refers to no schema")
	}
}
