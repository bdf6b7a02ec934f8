package pnr

import "testing"

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"person 19121212-1212 not found", "person [number] not found"},
		{"person 191212121212 not found", "person [number] not found"},
		{"person 121212-1212 not found", "person [number] not found"},
		{"person 121212+1212 not found", "person [number] not found"},
		{"person 1212121212 not found", "person [number] not found"},
		{"slot 42 at 2026-11-24 12:00", "slot 42 at 2026-11-24 12:00"},
		{"SQLSTATE 42P01", "SQLSTATE 42P01"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) got %q, want %q", tt.in, got, tt.want)
		}
	}
}
