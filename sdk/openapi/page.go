package openapi

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed page.html.tmpl
var pageTemplate string

// Page renders an OpenAPI description as written by
// protoc-gen-connect-openapi into one self-contained HTML page: every
// service and RPC with its comments, the fields of its request and
// response, and every other message and enum they use. It has no scripts
// and loads nothing, so it works offline and under a strict CSP.
func Page(description []byte) ([]byte, error) {
	var doc document
	if err := yaml.Unmarshal(description, &doc); err != nil {
		return nil, fmt.Errorf("reading the OpenAPI description: %w", err)
	}
	p, err := newPage(&doc)
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New("page").Parse(pageTemplate)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// document is the part of an OpenAPI description the page shows.
type document struct {
	Info struct {
		Title       string `yaml:"title"`
		Version     string `yaml:"version"`
		Description string `yaml:"description"`
	} `yaml:"info"`
	Tags []struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
	} `yaml:"tags"`
	Paths      map[string]map[string]operation `yaml:"paths"`
	Components struct {
		Schemas map[string]*schema `yaml:"schemas"`
	} `yaml:"components"`
}

type operation struct {
	Tags        []string `yaml:"tags"`
	Summary     string   `yaml:"summary"`
	Description string   `yaml:"description"`
	RequestBody struct {
		Content map[string]struct{ Schema schema } `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]struct {
		Content map[string]struct{ Schema schema } `yaml:"content"`
	} `yaml:"responses"`
}

type schema struct {
	Ref                  string     `yaml:"$ref"`
	Type                 any        `yaml:"type"` // a name or a list of names
	Format               string     `yaml:"format"`
	Title                string     `yaml:"title"`
	Description          string     `yaml:"description"`
	Enum                 []any      `yaml:"enum"`
	Const                any        `yaml:"const"`
	Not                  *schema    `yaml:"not"`
	Items                *schema    `yaml:"items"`
	Properties           properties `yaml:"properties"`
	AdditionalProperties mapValues  `yaml:"additionalProperties"`
	Required             []string   `yaml:"required"`
	MinLength            *int       `yaml:"minLength"`
	MaxLength            *int       `yaml:"maxLength"`
	Pattern              string     `yaml:"pattern"`
	Minimum              any        `yaml:"minimum"`
	Maximum              any        `yaml:"maximum"`
	ExclusiveMinimum     any        `yaml:"exclusiveMinimum"`
	ExclusiveMaximum     any        `yaml:"exclusiveMaximum"`
	MinItems             *int       `yaml:"minItems"`
	MaxItems             *int       `yaml:"maxItems"`
	UniqueItems          bool       `yaml:"uniqueItems"`
}

// properties keeps a schema's properties in the description's order, which
// is the order of the fields in the .proto file.
type properties []property

type property struct {
	name   string
	schema *schema
}

func (ps *properties) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: properties are not a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		s := &schema{}
		if err := n.Content[i+1].Decode(s); err != nil {
			return err
		}
		*ps = append(*ps, property{name: n.Content[i].Value, schema: s})
	}
	return nil
}

// mapValues is the schema of a map's values; additionalProperties can also
// be a boolean, which says nothing the page shows.
type mapValues struct{ schema *schema }

func (m *mapValues) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	m.schema = &schema{}
	return n.Decode(m.schema)
}

func (s *schema) types() []string {
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

// The page's view of the description, ready for the template.
type (
	page struct {
		Title, Version string
		Intro          []string
		Services       []service
		Types          []typeDoc
	}
	service struct {
		Name string
		Doc  []string
		RPCs []rpc
	}
	rpc struct {
		ID, Name, Path    string
		Doc               []string
		Request, Response typeDoc
	}
	typeDoc struct {
		ID, Name, FullName string
		Doc                []string
		Fields             []field
		Values             []string // an enum's value names
		Scalar             string   // a type the JSON mapping writes as a string, such as a Timestamp
	}
	field struct {
		Name, ProtoName string
		Type            fieldType
		Doc             []string
		Rules           []string
	}
	fieldType struct {
		Prefix, Name, Link string
	}
)

const schemaRef = "#/components/schemas/"

func newPage(doc *document) (*page, error) {
	p := &page{Title: doc.Info.Title, Version: doc.Info.Version, Intro: paragraphs(doc.Info.Description)}
	schemas := doc.Components.Schemas
	messages := map[string]bool{} // schemas shown as a request or response
	anchored := map[string]bool{}
	typeOf := func(ref string) (typeDoc, error) {
		name := strings.TrimPrefix(ref, schemaRef)
		s, ok := schemas[name]
		if !ok {
			return typeDoc{}, fmt.Errorf("%s refers to no schema", ref)
		}
		t := newTypeDoc(name, s, schemas)
		messages[name] = true
		if !anchored[name] {
			anchored[name] = true
			t.ID = name
		}
		return t, nil
	}

	paths := make([]string, 0, len(doc.Paths))
	for path := range doc.Paths {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	rpcs := map[string][]rpc{} // by tag
	for _, path := range paths {
		op, ok := doc.Paths[path]["post"]
		if !ok || len(op.Tags) == 0 {
			continue
		}
		r := rpc{ID: op.Tags[0] + "/" + op.Summary, Name: op.Summary, Path: path, Doc: paragraphs(op.Description)}
		var err error
		if r.Request, err = typeOf(op.RequestBody.Content["application/json"].Schema.Ref); err != nil {
			return nil, fmt.Errorf("%s request: %w", path, err)
		}
		if r.Response, err = typeOf(op.Responses["200"].Content["application/json"].Schema.Ref); err != nil {
			return nil, fmt.Errorf("%s response: %w", path, err)
		}
		rpcs[op.Tags[0]] = append(rpcs[op.Tags[0]], r)
	}
	for _, tag := range doc.Tags {
		p.Services = append(p.Services, service{Name: tag.Name, Doc: paragraphs(tag.Description), RPCs: rpcs[tag.Name]})
	}

	names := make([]string, 0, len(schemas))
	for name := range schemas {
		// Request and response messages are shown with their RPC; names
		// without a dot are the Connect headers.
		if !messages[name] && strings.Contains(name, ".") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		t := newTypeDoc(name, schemas[name], schemas)
		t.ID = name
		p.Types = append(p.Types, t)
	}
	return p, nil
}

func newTypeDoc(name string, s *schema, schemas map[string]*schema) typeDoc {
	t := typeDoc{Name: s.Title, FullName: name, Doc: paragraphs(s.Description)}
	if t.Name == "" {
		t.Name = shortName(name)
	}
	switch {
	case len(s.Enum) > 0:
		for _, v := range s.Enum {
			t.Values = append(t.Values, fmt.Sprint(v))
		}
	case len(s.Properties) > 0 || slices.Contains(s.types(), "object"):
		required := map[string]bool{}
		for _, r := range s.Required {
			required[r] = true
		}
		for _, p := range s.Properties {
			f := field{Name: p.name, ProtoName: p.schema.Title, Type: typeName(p.schema, schemas), Doc: paragraphs(p.schema.Description), Rules: rules(p.schema)}
			if f.ProtoName == f.Name {
				f.ProtoName = ""
			}
			if required[p.name] {
				f.Rules = append([]string{"required"}, f.Rules...)
			}
			t.Fields = append(t.Fields, f)
		}
	default:
		t.Scalar = scalarName(s)
	}
	return t
}

// typeName is how a field's type reads on the page: a JSON type, or a link
// to a message or enum.
func typeName(s *schema, schemas map[string]*schema) fieldType {
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, schemaRef)
		if target, ok := schemas[name]; ok && len(target.Enum) == 0 && len(target.Properties) == 0 && !slices.Contains(target.types(), "object") {
			// A well-known type written as a string (Timestamp, Duration):
			// say what the JSON holds.
			return fieldType{Name: scalarName(target), Link: "#" + name}
		}
		return fieldType{Name: shortName(name), Link: "#" + name}
	}
	if slices.Contains(s.types(), "array") && s.Items != nil {
		t := typeName(s.Items, schemas)
		t.Prefix = "array of " + t.Prefix
		return t
	}
	if v := s.AdditionalProperties.schema; v != nil {
		t := typeName(v, schemas)
		t.Prefix = "map of string to " + t.Prefix
		return t
	}
	return fieldType{Name: scalarName(s)}
}

// scalarName is a JSON type with its format, such as "string (date-time)".
func scalarName(s *schema) string {
	name := strings.Join(s.types(), " or ")
	if name == "" {
		name = "any"
	}
	if s.Format != "" {
		name += " (" + s.Format + ")"
	}
	return name
}

// rules lists a field's validation rules in words.
func rules(s *schema) []string {
	if slices.Contains(s.types(), "array") && s.Items != nil {
		var out []string
		if s.MinItems != nil {
			out = append(out, "at least "+count(*s.MinItems, "item"))
		}
		if s.MaxItems != nil {
			out = append(out, "at most "+count(*s.MaxItems, "item"))
		}
		if s.UniqueItems {
			out = append(out, "unique items")
		}
		for _, r := range rules(s.Items) {
			out = append(out, "each: "+r)
		}
		return out
	}
	var out []string
	if s.MinLength != nil {
		out = append(out, "at least "+count(*s.MinLength, "character"))
	}
	if s.MaxLength != nil {
		out = append(out, "at most "+count(*s.MaxLength, "character"))
	}
	if s.Pattern != "" {
		out = append(out, "matches "+s.Pattern)
	}
	for _, b := range []struct {
		words string
		value any
	}{{"≥", s.Minimum}, {">", s.ExclusiveMinimum}, {"≤", s.Maximum}, {"<", s.ExclusiveMaximum}} {
		if b.value != nil {
			out = append(out, fmt.Sprintf("%s %v", b.words, b.value))
		}
	}
	if s.Const != nil {
		out = append(out, fmt.Sprintf("always %v", s.Const))
	}
	if len(s.Enum) > 0 && s.Ref == "" {
		out = append(out, "one of "+join(s.Enum))
	}
	if s.Not != nil && len(s.Not.Enum) > 0 {
		out = append(out, "not "+join(s.Not.Enum))
	}
	return out
}

// count is "1 item" or "n items".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func join(values []any) string {
	var out []string
	for _, v := range values {
		out = append(out, fmt.Sprint(v))
	}
	return strings.Join(out, ", ")
}

// paragraphs splits a proto comment into paragraphs, joining its lines.
func paragraphs(text string) []string {
	var out []string
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if para = strings.Join(strings.Fields(para), " "); para != "" {
			out = append(out, para)
		}
	}
	return out
}

// shortName is a schema's name without its package: "Appointment" for
// "nara.appointment.v1.Appointment".
func shortName(name string) string {
	return name[strings.LastIndex(name, ".")+1:]
}
