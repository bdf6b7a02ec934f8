// Package wire checks that every SDK and the server agree on the wire: the
// JSON field names, enum names, timestamps and error details of the Connect
// protocol. It holds no code for the server, only golden files and tests:
//
//   - requests/<sdk>/*.json: what the web and Android SDK suites recorded
//     sending; server/wire_test.go decodes them with the server's rules.
//   - errors/*.json: what the server answers for failures, written by
//     server/wire_test.go; the SDK suites play them back.
//   - this package's tests: the OpenAPI description (and so the iOS package
//     generated from it) against the protobuf descriptors the server uses.
//
// See README.md for the whole picture and how to update the files.
package wire
