package main

import (
	"bytes"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// int64Pattern is what protojson writes for a 64-bit integer and what it
// reads as one (it also reads a JSON number). uint64 and fixed64 fields get
// it too: the plugin gives them format int64 as well, so they cannot be
// told apart here, and the server refuses a negative one.
const int64Pattern = `^-?[0-9]+$`

// wrappers64 are the well-known wrappers of 64-bit integers, which the
// plugin describes as oneOf string or number.
var wrappers64 = []string{"google.protobuf.Int64Value", "google.protobuf.UInt64Value"}

// stringInt64 rewrites an OpenAPI document (YAML, as the plugin writes it)
// so that every 64-bit integer is {type: string, format: int64, pattern}:
// schemas of format int64 whose type allows a string, and the Int64Value
// and UInt64Value wrappers. Integer values of const, enum and examples in
// such schemas become strings. Everything else is written back unchanged,
// byte for byte.
func stringInt64(doc []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	if len(root.Content) == 0 {
		return doc, nil
	}
	walk(root.Content[0])
	if schemas := lookup(lookup(root.Content[0], "components"), "schemas"); schemas != nil {
		for _, name := range wrappers64 {
			if s := lookup(schemas, name); s != nil && s.Kind == yaml.MappingNode {
				description := lookup(s, "description")
				s.Content = nil
				set(s, "type", "string")
				set(s, "format", "int64")
				set(s, "pattern", int64Pattern)
				if description != nil {
					s.Content = append(s.Content, scalar("description"), description)
				}
			}
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2) // as the plugin writes it
	if err := enc.Encode(&root); err != nil {
		return nil, fmt.Errorf("writing YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// walk rewrites every 64-bit integer schema at or below n.
func walk(n *yaml.Node) {
	if n.Kind == yaml.MappingNode && isInt64(n) {
		set(n, "type", "string")
		if lookup(n, "pattern") == nil {
			insertAfter(n, "format", "pattern", int64Pattern)
		}
		for _, key := range []string{"const", "enum", "examples", "default"} {
			quoteInts(lookup(n, key))
		}
	}
	for _, c := range n.Content {
		walk(c)
	}
}

// isInt64 reports whether a schema is the plugin's 64-bit integer: format
// int64 and a type that allows a string ([integer, string]).
func isInt64(n *yaml.Node) bool {
	f := lookup(n, "format")
	if f == nil || f.Kind != yaml.ScalarNode || f.Value != "int64" {
		return false
	}
	t := lookup(n, "type")
	if t == nil || t.Kind != yaml.SequenceNode {
		return false
	}
	for _, c := range t.Content {
		if c.Value == "string" {
			return true
		}
	}
	return false
}

// quoteInts turns integer scalars at or below n into strings.
func quoteInts(n *yaml.Node) {
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		n.Tag = "!!str"
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		quoteInts(c)
	}
}

// lookup returns the value of key in a mapping node, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// set sets key to a plain string in a mapping node: in place when the key
// is there, else at the end.
func set(n *yaml.Node, key, value string) {
	if v := lookup(n, key); v != nil {
		*v = *scalar(value)
		return
	}
	n.Content = append(n.Content, scalar(key), scalar(value))
}

// insertAfter adds key: value to a mapping node right after the key after.
func insertAfter(n *yaml.Node, after, key, value string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == after {
			n.Content = slices.Insert(n.Content, i+2, scalar(key), scalar(value))
			return
		}
	}
	n.Content = append(n.Content, scalar(key), scalar(value))
}

func scalar(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
}
