package pgcluster

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

// tailLines is how many server log lines an error message quotes.
const tailLines = 30

// serverLog forwards the server's output, line by line, to a slog.Logger and
// keeps the last lines so that a failed start can say why.
type serverLog struct {
	logger *slog.Logger

	mu      sync.Mutex
	partial []byte
	last    []string
}

func newServerLog(logger *slog.Logger) *serverLog {
	return &serverLog{logger: logger}
}

// Write implements io.Writer for exec.Cmd's Stdout and Stderr.
func (w *serverLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		w.logger.Log(context.Background(), severity(line), line)
		w.last = append(w.last, line)
		if len(w.last) > tailLines {
			w.last = w.last[len(w.last)-tailLines:]
		}
	}
	return len(p), nil
}

// tail returns the last lines written.
func (w *serverLog) tail() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.last, "\n")
}

// severity maps a PostgreSQL log line ("<prefix>WARNING:  text") to a slog
// level: the server's routine chatter is debug, its warnings and errors keep
// their weight.
func severity(line string) slog.Level {
	head, _, ok := strings.Cut(line, ":  ")
	if !ok {
		return slog.LevelDebug
	}
	fields := strings.Fields(head)
	if len(fields) == 0 {
		return slog.LevelDebug
	}
	switch fields[len(fields)-1] {
	case "FATAL":
		// Every shutdown ends sessions and workers this way.
		if strings.Contains(line, "due to administrator command") {
			return slog.LevelDebug
		}
		return slog.LevelError
	case "PANIC", "ERROR":
		return slog.LevelError
	case "WARNING":
		return slog.LevelWarn
	default:
		return slog.LevelDebug
	}
}

// lastLines returns at most n trailing lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
