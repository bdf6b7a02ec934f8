package server

import (
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	appointmentv1 "github.com/nara-care/nara/gen/nara/appointment/v1"
	helpv1 "github.com/nara-care/nara/gen/nara/help/v1"
	pushv1 "github.com/nara-care/nara/gen/nara/push/v1"
)

// FuzzJSONCodec: whatever body a client sends, the JSON codec never
// panics; what it accepts is what protojson reads with unknown fields
// dropped, re-encodes to itself, and never has an enum name it does not
// know silently read as unset, even next to a field it does not know.
func FuzzJSONCodec(f *testing.F) {
	newMessages := []func() proto.Message{
		func() proto.Message { return &appointmentv1.ListSlotsRequest{} },
		func() proto.Message { return &appointmentv1.SearchSlotsRequest{} },
		func() proto.Message { return &appointmentv1.PublishSlotsRequest{} },
		func() proto.Message { return &pushv1.UpdatePreferencesRequest{} },
		func() proto.Message { return &helpv1.CreateArticleRequest{} },
	}
	for i, s := range []string{
		`{"unitHsaId":"SE2321000016-1A02","service":"SERVICE_VACCINATION","startTime":"2026-01-07T08:00:00Z","endTime":"2026-01-08T16:30:00.250Z"}`,
		`{"service":"SERVICE_VACINATION"}`,
		`{"newField":1,"service":"SERVICE_VACINATION"}`,
		`{"near":{"latitude":59.3,"longitude":18.0,"altitude":3},"service":2,"pageSize":"20"}`,
		`{"repeatWeekdays":["WEEKDAY_MONDAY","WEEKDAY_FUNDAY"],"future":{"x":[1,2]},"slotDuration":"600s"}`,
		`{"preferences":{"quietHours":{"start":"22:00","end":"07:00","later":true}},"kinds":[]}`,
		`{"language":"LANGUAGE_EN","content":{"title":"Åtkomst","sources":[{"url":"https://1177.se/","rank":1}]},"extra":null}`,
		``, `null`, `[]`, `{"service":null}`, `{"unitHsaId":"\ud800"}`,
	} {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		newMsg := newMessages[int(which)%len(newMessages)]
		got := newMsg()
		if err := (jsonCodec{}).Unmarshal(body, got); err != nil {
			return
		}
		lenient := newMsg()
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, lenient); err != nil || !proto.Equal(got, lenient) {
			t.Fatalf("codec read %s as %v; protojson without unknown fields got %v, %v", body, got, lenient, err)
		}
		out, err := (jsonCodec{}).Marshal(got)
		if err != nil {
			t.Fatalf("Marshal(%v): %v", got, err)
		}
		again := newMsg()
		if err := (jsonCodec{}).Unmarshal(out, again); err != nil || !proto.Equal(got, again) {
			t.Fatalf("%s re-encodes to %s, which reads back as %v, %v", body, out, again, err)
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(body, &top) != nil {
			return
		}
		fields := got.ProtoReflect().Descriptor().Fields()
		for i := range fields.Len() {
			fd := fields.Get(i)
			if fd.Kind() != protoreflect.EnumKind || fd.IsList() || fd.IsMap() {
				continue
			}
			for _, key := range []string{fd.JSONName(), string(fd.Name())} {
				var name string
				if raw := top[key]; len(raw) > 0 && string(raw) != "null" && json.Unmarshal(raw, &name) == nil && fd.Enum().Values().ByName(protoreflect.Name(name)) == nil {
					t.Fatalf("codec accepted %s with %s = %q, which %s does not name", body, key, name, fd.Enum().FullName())
				}
			}
		}
	})
}
