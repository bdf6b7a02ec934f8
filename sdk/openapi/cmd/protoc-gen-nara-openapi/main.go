// Command protoc-gen-nara-openapi is protoc-gen-connect-openapi (the
// version pinned in go.mod) with one correction to its output: 64-bit
// integers are described as the decimal strings protojson writes, not as
// the union [integer, string] that the Swift generator cannot map (it
// made an empty struct of Appointment.version). buf.gen.yaml runs it with
// protoc-gen-connect-openapi's own options.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/sudorandom/protoc-gen-connect-openapi/converter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "protoc-gen-nara-openapi:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	b, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	req := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(b, req); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	res, err := converter.Convert(req)
	if err != nil {
		return err
	}
	for _, f := range res.GetFile() {
		doc, err := stringInt64([]byte(f.GetContent()))
		if err != nil {
			return fmt.Errorf("%s: %w", f.GetName(), err)
		}
		f.Content = proto.String(string(doc))
	}
	b, err = proto.Marshal(res)
	if err != nil {
		return err
	}
	_, err = out.Write(b)
	return err
}
