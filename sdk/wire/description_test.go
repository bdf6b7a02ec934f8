package wire_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	// Every API package, so that its descriptors are registered;
	// TestEveryAPIFileIsChecked fails when one is missing here.
	_ "github.com/nara-care/nara/gen/nara/app/v1"
	_ "github.com/nara-care/nara/gen/nara/appointment/v1"
	_ "github.com/nara-care/nara/gen/nara/auth/v1"
	_ "github.com/nara-care/nara/gen/nara/help/v1"
	_ "github.com/nara-care/nara/gen/nara/patient/v1"
	_ "github.com/nara-care/nara/gen/nara/push/v1"
	_ "github.com/nara-care/nara/gen/nara/support/v1"
)

var (
	apiDir      = filepath.Join("..", "..", "api")
	openAPIFile = filepath.Join("..", "openapi", "gen", "nara.openapi.yaml")
	swiftModels = filepath.Join("..", "ios", "NaraAPI", "Sources", "NaraAPI", "Models")
)

// apiFiles returns the descriptors of every .proto file under api/nara.
func apiFiles(t *testing.T) []protoreflect.FileDescriptor {
	t.Helper()
	var files []protoreflect.FileDescriptor
	err := filepath.WalkDir(filepath.Join(apiDir, "nara"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".proto") {
			return err
		}
		rel, err := filepath.Rel(apiDir, path)
		if err != nil {
			return err
		}
		if fd, ferr := protoregistry.GlobalFiles.FindFileByPath(filepath.ToSlash(rel)); ferr == nil {
			files = append(files, fd)
		} else {
			t.Errorf("%s is not registered: import its gen package in description_test.go", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no .proto files under api/nara")
	}
	return files
}

func TestEveryAPIFileIsChecked(t *testing.T) {
	t.Parallel()
	apiFiles(t)
}

// messages and enums list every message and enum of files, nested ones too.
func messages(files []protoreflect.FileDescriptor) (ms []protoreflect.MessageDescriptor, es []protoreflect.EnumDescriptor) {
	var walk func(protoreflect.MessageDescriptors, protoreflect.EnumDescriptors)
	walk = func(m protoreflect.MessageDescriptors, e protoreflect.EnumDescriptors) {
		for i := range e.Len() {
			es = append(es, e.Get(i))
		}
		for i := range m.Len() {
			ms = append(ms, m.Get(i))
			walk(m.Get(i).Messages(), m.Get(i).Enums())
		}
	}
	for _, f := range files {
		walk(f.Messages(), f.Enums())
	}
	return ms, es
}

// schema is the part of an OpenAPI schema object these checks read.
type schema struct {
	Ref                  string            `yaml:"$ref"`
	Type                 any               `yaml:"type"` // a name or a list of names
	Format               string            `yaml:"format"`
	Pattern              string            `yaml:"pattern"`
	ContentEncoding      string            `yaml:"contentEncoding"`
	Enum                 []string          `yaml:"enum"`
	Properties           map[string]schema `yaml:"properties"`
	Items                *schema           `yaml:"items"`
	AdditionalProperties any               `yaml:"additionalProperties"`
}

func (s schema) types() []string {
	switch v := s.Type.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

type openAPI struct {
	Paths map[string]map[string]struct {
		RequestBody struct {
			Content map[string]struct{ Schema schema } `yaml:"content"`
		} `yaml:"requestBody"`
		Responses map[string]struct {
			Content map[string]struct{ Schema schema } `yaml:"content"`
		} `yaml:"responses"`
	} `yaml:"paths"`
	Components struct {
		Schemas map[string]schema `yaml:"schemas"`
	} `yaml:"components"`
}

func loadOpenAPI(t *testing.T) openAPI {
	t.Helper()
	raw, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func ref(name protoreflect.FullName) string { return "#/components/schemas/" + string(name) }

// TestOpenAPIMatchesDescriptors checks what clients generated from the
// OpenAPI description (the iOS SDK, API explorers) will send and expect
// against the descriptors the server's protojson uses: every message's
// property names are its fields' JSON names, every enum lists its value
// names, timestamps are date-time strings, 64-bit integers may be strings,
// and every unary RPC is a POST of its request to /<service>/<method>.
func TestOpenAPIMatchesDescriptors(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	schemas := doc.Components.Schemas
	files := apiFiles(t)
	ms, es := messages(files)

	described := map[string]bool{}
	for _, md := range ms {
		described[string(md.FullName())] = true
		s, ok := schemas[string(md.FullName())]
		if !ok {
			t.Errorf("%s has no schema", md.FullName())
			continue
		}
		if !slices.Equal(s.types(), []string{"object"}) {
			t.Errorf("%s: type %v, want object", md.FullName(), s.Type)
		}
		var want, got []string
		for i := range md.Fields().Len() {
			want = append(want, md.Fields().Get(i).JSONName())
		}
		for name := range s.Properties {
			got = append(got, name)
		}
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: properties %v, want the fields' JSON names %v", md.FullName(), got, want)
		}
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			p, ok := s.Properties[fd.JSONName()]
			if !ok {
				continue
			}
			for _, problem := range checkField(fd, p) {
				t.Errorf("%s.%s: %s", md.FullName(), fd.JSONName(), problem)
			}
		}
	}
	for _, ed := range es {
		described[string(ed.FullName())] = true
		s, ok := schemas[string(ed.FullName())]
		if !ok {
			t.Errorf("enum %s has no schema", ed.FullName())
			continue
		}
		var names []string
		for i := range ed.Values().Len() {
			names = append(names, string(ed.Values().Get(i).Name()))
		}
		if !slices.Equal(s.Enum, names) || !slices.Equal(s.types(), []string{"string"}) {
			t.Errorf("enum %s: %v %v, want string %v (the server reads and writes enum names)", ed.FullName(), s.Type, s.Enum, names)
		}
	}
	for name := range schemas {
		if strings.HasPrefix(name, "nara.") && !described[name] {
			t.Errorf("schema %s describes no message or enum of api/", name)
		}
	}

	for name, format := range map[string]string{"google.protobuf.Timestamp": "date-time", "google.protobuf.Duration": "duration"} {
		if s := schemas[name]; !slices.Equal(s.types(), []string{"string"}) || s.Format != format {
			t.Errorf("%s: %v %q, want a string of format %s (the proto3 JSON mapping)", name, s.Type, s.Format, format)
		}
	}
	if v := schemas["connect-protocol-version"]; !slices.Equal(v.Enum, []string{"1"}) || !slices.Equal(v.types(), []string{"string"}) {
		t.Errorf("Connect-Protocol-Version: %v %v, want the string \"1\"", v.Type, v.Enum)
	}
	var codes []string
	for c := connect.CodeCanceled; c <= connect.CodeUnauthenticated; c++ {
		codes = append(codes, c.String())
	}
	if got := schemas["connect.error"].Properties["code"].Enum; !slices.Equal(got, codes) {
		t.Errorf("connect.error code: %v, want connect-go's code names %v", got, codes)
	}
	// connect-go writes a detail's value as unpadded base64 and its debug as
	// the message's protobuf JSON.
	detail := schemas["connect.error_details.Any"].Properties
	if v := detail["value"]; !slices.Equal(v.types(), []string{"string"}) || v.Format != "" || v.ContentEncoding != "base64" {
		t.Errorf("connect.error_details.Any value: %v %q %q, want a string with contentEncoding base64 and no format (binary and byte become URL and Data in Swift)", v.Type, v.Format, v.ContentEncoding)
	}
	if d := detail["debug"]; !slices.Equal(d.types(), []string{"object"}) {
		t.Errorf("connect.error_details.Any debug: %v, want an object", d.Type)
	}

	operations := map[string]bool{}
	for _, f := range files {
		for i := range f.Services().Len() {
			sd := f.Services().Get(i)
			for j := range sd.Methods().Len() {
				m := sd.Methods().Get(j)
				path := "/" + string(sd.FullName()) + "/" + string(m.Name())
				op, ok := doc.Paths[path]["post"]
				if m.IsStreamingClient() || m.IsStreamingServer() {
					if ok {
						t.Errorf("%s streams, but the description offers it as a unary POST", path)
					}
					continue
				}
				operations[path] = true
				if !ok {
					t.Errorf("%s has no POST operation", path)
					continue
				}
				if got := op.RequestBody.Content["application/json"].Schema.Ref; got != ref(m.Input().FullName()) {
					t.Errorf("%s: request body %q, want %q", path, got, ref(m.Input().FullName()))
				}
				if got := op.Responses["200"].Content["application/json"].Schema.Ref; got != ref(m.Output().FullName()) {
					t.Errorf("%s: 200 response %q, want %q", path, got, ref(m.Output().FullName()))
				}
				if got := op.Responses["default"].Content["application/json"].Schema.Ref; got != ref("connect.error") {
					t.Errorf("%s: error response %q, want the Connect error", path, got)
				}
			}
		}
	}
	for path, item := range doc.Paths {
		// Streaming RPCs are left as empty path items.
		if len(item) > 0 && !operations[path] {
			t.Errorf("the description has %s, which is no unary RPC of api/", path)
		}
	}
}

// checkField compares one field's property schema with its descriptor.
func checkField(fd protoreflect.FieldDescriptor, p schema) []string {
	switch {
	case fd.IsMap():
		if !slices.Equal(p.types(), []string{"object"}) {
			return []string{fmt.Sprintf("a map field has type %v, want object", p.Type)}
		}
		v, ok := p.AdditionalProperties.(map[string]any)
		if !ok {
			return []string{"a map field has no additionalProperties schema"}
		}
		raw, _ := yaml.Marshal(v)
		var vs schema
		_ = yaml.Unmarshal(raw, &vs)
		return checkValue(fd.MapValue(), vs)
	case fd.IsList():
		if !slices.Equal(p.types(), []string{"array"}) || p.Items == nil {
			return []string{fmt.Sprintf("a repeated field has type %v, want array", p.Type)}
		}
		return checkValue(fd, *p.Items)
	}
	return checkValue(fd, p)
}

func checkValue(fd protoreflect.FieldDescriptor, p schema) []string {
	is := func(types ...string) bool { return slices.Equal(p.types(), types) }
	var ok bool
	want := ""
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		want = ref(fd.Message().FullName())
		ok = p.Ref == want
	case protoreflect.EnumKind:
		want = ref(fd.Enum().FullName())
		ok = p.Ref == want
	case protoreflect.StringKind:
		want, ok = "string", is("string")
	case protoreflect.BoolKind:
		want, ok = "boolean", is("boolean")
	case protoreflect.BytesKind:
		want, ok = "string (base64)", is("string") && (p.Format == "byte" || p.Format == "base64")
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		want, ok = "integer int32", is("integer") && p.Format == "int32"
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		want, ok = "integer", is("integer")
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		// protojson writes 64-bit integers as decimal strings (and reads
		// numbers too); a union with integer made an empty Swift struct.
		want, ok = "a string of format int64 with a pattern", is("string") && p.Format == "int64" && p.Pattern != ""
	case protoreflect.DoubleKind, protoreflect.FloatKind:
		want, ok = "number", slices.Contains(p.types(), "number")
	}
	if ok {
		return nil
	}
	return []string{fmt.Sprintf("schema {$ref: %q, type: %v, format: %q}, want %s for a %v field", p.Ref, p.Type, p.Format, want, fd.Kind())}
}

// swiftName is openapi-generator's Swift type name for a schema name:
// "nara.push.v1.QuietHours" is NaraPushV1QuietHours.
func swiftName(name protoreflect.FullName) string {
	var b strings.Builder
	for _, part := range strings.Split(string(name), ".") {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

var (
	swiftCodingKeys = regexp.MustCompile(`(?s)public enum CodingKeys: (?:String, )?CodingKey, CaseIterable \{(.*?)\n    \}`)
	swiftCase       = regexp.MustCompile(`case (\w+)(?: = "([^"]*)")?`)
	swiftProperty   = regexp.MustCompile(`(?m)^    public var (\w+): (.+?)\?$`)
	swiftEnumRaw    = regexp.MustCompile(`(?m)^    case \w+ = "([^"]*)"$`)
)

// knownSwiftProblems are findings this test reports but accepts until they
// are fixed, each with the reason (field full name → why); the test fails
// when one disappears, so that the list stays true. None are known.
var knownSwiftProblems = map[string]string{}

// TestSwiftModelsMatchDescriptors checks the iOS package's Codable models,
// which cannot be compiled here, against the descriptors: the JSON keys
// they read and write (CodingKeys), their enums' raw values, and the Swift
// type of every property (Date for timestamps, String for 64-bit integers,
// arrays for repeated fields).
func TestSwiftModelsMatchDescriptors(t *testing.T) {
	t.Parallel()
	ms, es := messages(apiFiles(t))

	// Enums by their values: the generator writes two enums with the same
	// values once (nara.help.v1.Language is NaraAuthV1Language).
	swiftEnums := map[string]string{} // Swift name → its raw values, joined
	for _, ed := range es {
		raw, err := os.ReadFile(filepath.Join(swiftModels, swiftName(ed.FullName())+".swift"))
		if err != nil {
			continue
		}
		var values []string
		for _, m := range swiftEnumRaw.FindAllStringSubmatch(string(raw), -1) {
			if m[1] != "unknown_default_open_api" {
				values = append(values, m[1])
			}
		}
		swiftEnums[swiftName(ed.FullName())] = strings.Join(values, ",")
	}
	enumValues := func(ed protoreflect.EnumDescriptor) string {
		var names []string
		for i := range ed.Values().Len() {
			names = append(names, string(ed.Values().Get(i).Name()))
		}
		return strings.Join(names, ",")
	}
	for _, ed := range es {
		if got, ok := swiftEnums[swiftName(ed.FullName())]; ok && got != enumValues(ed) {
			t.Errorf("enum %s: Swift raw values %s, want %s", swiftName(ed.FullName()), got, enumValues(ed))
		}
	}

	problems := map[string]string{}
	for _, md := range ms {
		if md.Fields().Len() == 0 {
			continue // the generator writes no model for an empty message
		}
		file := filepath.Join(swiftModels, swiftName(md.FullName())+".swift")
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s has no Swift model: %v", md.FullName(), err)
			continue
		}
		src := string(raw)
		keys := map[string]string{} // Swift property → JSON key
		block := swiftCodingKeys.FindStringSubmatch(src)
		if block == nil {
			t.Errorf("%s: no CodingKeys", file)
			continue
		}
		for _, c := range swiftCase.FindAllStringSubmatch(block[1], -1) {
			keys[c[1]] = c[1]
			if c[2] != "" {
				keys[c[1]] = c[2]
			}
		}
		types := map[string]string{} // JSON key → Swift type
		for _, p := range swiftProperty.FindAllStringSubmatch(src, -1) {
			types[keys[p[1]]] = p[2]
		}
		var got, want []string
		for _, k := range keys {
			got = append(got, k)
		}
		for i := range md.Fields().Len() {
			want = append(want, md.Fields().Get(i).JSONName())
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: Swift CodingKeys %v, want the JSON names %v", swiftName(md.FullName()), got, want)
		}
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			typ, ok := types[fd.JSONName()]
			if !ok {
				continue
			}
			if w, okType := swiftType(fd, swiftEnums, enumValues); typ != w && !okType(typ) {
				problems[string(fd.FullName())] = fmt.Sprintf("%s.%s is %s in Swift, want %s", swiftName(md.FullName()), fd.JSONName(), typ, w)
			}
		}
	}
	for field, p := range problems {
		if _, known := knownSwiftProblems[field]; !known {
			t.Error(p)
		}
	}
	for field, why := range knownSwiftProblems {
		if _, still := problems[field]; !still {
			t.Errorf("%s (%s) is fixed: remove it from knownSwiftProblems", field, why)
		}
	}
}

// TestSwiftErrorDetailIsReadable checks that an iOS app can read a Connect
// error detail: its value as the base64 string it is (URL or Data cannot
// decode connect-go's unpadded base64) and its debug JSON.
func TestSwiftErrorDetailIsReadable(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(swiftModels, "ConnectErrorDetailsAny.swift"))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, p := range swiftProperty.FindAllStringSubmatch(string(raw), -1) {
		types[p[1]] = p[2]
	}
	for name, want := range map[string]string{"type": "String", "value": "String", "debug": "[String: JSONValue]"} {
		if types[name] != want {
			t.Errorf("ConnectErrorDetailsAny.%s is %q in Swift, want %s", name, types[name], want)
		}
	}
}

// swiftType returns the Swift type a field should have, and a test for
// other acceptable spellings: an enum generated once under another name,
// Foundation's UUID for a string (only uuid fields become one; it encodes
// as a string), a Set for a repeated field (its items must be unique; it
// encodes as an array).
func swiftType(fd protoreflect.FieldDescriptor, enums map[string]string, values func(protoreflect.EnumDescriptor) string) (string, func(string) bool) {
	none := func(string) bool { return false }
	var elem string
	alt := none
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		switch fd.Message().FullName() {
		case "google.protobuf.Timestamp":
			elem = "Date"
		case "google.protobuf.Duration":
			elem = "String"
		default:
			elem = swiftName(fd.Message().FullName())
		}
	case protoreflect.EnumKind:
		elem = swiftName(fd.Enum().FullName())
		want := values(fd.Enum())
		alt = func(typ string) bool {
			typ = strings.TrimSuffix(strings.TrimPrefix(typ, "["), "]")
			return enums[typ] == want
		}
	case protoreflect.StringKind:
		elem = "String"
		alt = func(typ string) bool { return typ == "UUID" || typ == "[UUID]" || typ == "Set<UUID>" }
	case protoreflect.BoolKind:
		elem = "Bool"
	case protoreflect.BytesKind:
		elem = "Data"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind, protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		elem = "Int"
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		elem = "String"
	case protoreflect.DoubleKind:
		elem = "Double"
	case protoreflect.FloatKind:
		elem = "Float"
	}
	if fd.IsList() {
		return "[" + elem + "]", func(typ string) bool {
			return typ == "Set<"+elem+">" || alt(typ) || alt(strings.TrimSuffix(strings.TrimPrefix(typ, "Set<"), ">"))
		}
	}
	if fd.IsMap() {
		return "[String: " + elem + "]", none
	}
	return elem, alt
}
