package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/nara-care/nara/rpc"
)

// jsonCodec is Connect's JSON codec with one difference: a field this
// server does not know (sent by a newer app) is still ignored, but an enum
// name it does not know is refused, with or without unknown fields beside it, so that a misspelled filter such as
// "SERVICE_VACINATION" is an INVALID_ARGUMENT and not silently no filter.
//
// It also sends an answer a domain keeps encoded (rpc.Encoder, such as
// the appointment list cache) as it was encoded.
type jsonCodec struct {
	encoders *[]rpc.Encoder
}

func (jsonCodec) Name() string { return "json" }

func (c jsonCodec) Marshal(m any) ([]byte, error) {
	if c.encoders != nil {
		for _, e := range *c.encoders {
			if b, ok := e.EncodedJSON(m); ok {
				// Connect reuses the slice it is given.
				return bytes.Clone(b), nil
			}
		}
	}
	msg, ok := m.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("json codec: %T is not a protobuf message", m)
	}
	return protojson.MarshalOptions{}.Marshal(msg)
}

func (jsonCodec) Unmarshal(b []byte, m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return fmt.Errorf("json codec: %T is not a protobuf message", m)
	}
	if len(b) == 0 {
		return errors.New("json codec: empty body; send {} for an empty message")
	}
	err := protojson.UnmarshalOptions{}.Unmarshal(b, msg)
	if err != nil && strings.Contains(err.Error(), "unknown field") {
		proto.Reset(msg)
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, msg); err != nil {
			return err
		}
		// DiscardUnknown also reads an unknown enum name as unset: read
		// the known fields strictly once more to refuse one.
		known, ok := withoutUnknownFields(b, msg.ProtoReflect().Descriptor())
		if !ok {
			return errors.New("json codec: the body cannot be read")
		}
		return protojson.UnmarshalOptions{}.Unmarshal(known, msg.ProtoReflect().New().Interface())
	}
	return err
}

// withoutUnknownFields re-encodes the JSON object b without the keys that
// name no field of md, at every depth, so the rest can be read strictly.
// It declines (false) text that is not valid UTF-8, which encoding/json
// would quietly repair.
func withoutUnknownFields(b []byte, md protoreflect.MessageDescriptor) ([]byte, bool) {
	if !utf8.Valid(b) {
		return nil, false
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // 64-bit integers keep every digit
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, false // more after the object
	}
	dropUnknown(v, md)
	out, err := json.Marshal(v)
	return out, err == nil
}

func dropUnknown(v any, md protoreflect.MessageDescriptor) {
	obj, ok := v.(map[string]any)
	// The well-known types have JSON forms of their own (Struct takes any
	// key); protojson checks them.
	if !ok || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return
	}
	fields := md.Fields()
	for key, val := range obj {
		fd := fields.ByJSONName(key)
		if fd == nil {
			fd = fields.ByName(protoreflect.Name(key))
		}
		switch {
		case fd == nil:
			delete(obj, key)
		case fd.IsMap():
			if m, ok := val.(map[string]any); ok && fd.MapValue().Message() != nil {
				for _, x := range m {
					dropUnknown(x, fd.MapValue().Message())
				}
			}
		case fd.Message() == nil:
		case fd.IsList():
			if l, ok := val.([]any); ok {
				for _, x := range l {
					dropUnknown(x, fd.Message())
				}
			}
		default:
			dropUnknown(val, fd.Message())
		}
	}
}
