package main

import (
	"testing"
)

func TestStringInt64(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{
			name: "an int64 field",
			in: `properties:
  version:
    type:
      - integer
      - string
    title: version
    format: int64
    description: version grows with every change.
`,
			want: `properties:
  version:
    type: string
    title: version
    format: int64
    pattern: ^-?[0-9]+$
    description: version grows with every change.
`,
		},
		{
			name: "repeated, with protovalidate's const, enum and examples",
			in: `type: array
items:
  type:
    - integer
    - string
  format: int64
  const: 5
  enum:
    - 1
    - 2
  examples:
    - 3
  minimum: 1
`,
			want: `type: array
items:
  type: string
  format: int64
  pattern: ^-?[0-9]+$
  const: "5"
  enum:
    - "1"
    - "2"
  examples:
    - "3"
  minimum: 1
`,
		},
		{
			name: "the wrappers",
			in: `components:
  schemas:
    google.protobuf.Int64Value:
      oneOf:
        - type: string
        - type: number
      description: Wrapper message for int64.
    google.protobuf.DoubleValue:
      oneOf:
        - type: string
        - type: number
`,
			want: `components:
  schemas:
    google.protobuf.Int64Value:
      type: string
      format: int64
      pattern: ^-?[0-9]+$
      description: Wrapper message for int64.
    google.protobuf.DoubleValue:
      oneOf:
        - type: string
        - type: number
`,
		},
		{
			name: "other integers and strings stay",
			in: `a:
  type: integer
  format: int64
b:
  type: integer
  format: int32
c:
  type: string
  format: int64
  pattern: ^[0-9]+$
d:
  type: string
  description: |-
    Two lines,
    kept.
`,
			want: `a:
  type: integer
  format: int64
b:
  type: integer
  format: int32
c:
  type: string
  format: int64
  pattern: ^[0-9]+$
d:
  type: string
  description: |-
    Two lines,
    kept.
`,
		},
	}
	for _, tt := range tests {
		got, err := stringInt64([]byte(tt.in))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if string(got) != tt.want {
			t.Errorf("%s: stringInt64 got\n%s\nwant\n%s", tt.name, got, tt.want)
		}
		again, err := stringInt64(got)
		if err != nil || string(again) != string(got) {
			t.Errorf("%s: a second run changed the output:\n%s", tt.name, again)
		}
	}
}
