// Package proto holds the irc model format (ir.proto); its Go code lives in
// proto/irpb and is regenerated with `go generate ./proto`.
package proto

//go:generate go run ./gen
