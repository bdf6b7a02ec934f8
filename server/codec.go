package server

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
)

// jsonCodec is Connect's JSON codec with one difference: a field this
// server does not know (sent by a newer app) is still ignored, but an enum
// name it does not know is refused, so that a misspelled filter such as
// "SERVICE_VACINATION" is an INVALID_ARGUMENT and not silently no filter.
//
// It also sends a cached appointment list as it was encoded when cached.
type jsonCodec struct {
	lists *listCache
}

func (jsonCodec) Name() string { return "json" }

func (c jsonCodec) Marshal(m any) ([]byte, error) {
	if w, ok := m.(*appointmentv1.ListAppointmentsResponse); ok && c.lists != nil {
		if b, ok := c.lists.encoding(w); ok {
			// Connect reuses the slice it is given.
			return bytes.Clone(b), nil
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
		err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, msg)
	}
	return err
}
