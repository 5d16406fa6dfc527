package proto

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The checked-in Go code must be exactly what `go generate ./proto` makes.
func TestGeneratedCodeIsUpToDate(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command("go", "run", "./gen", "-out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator failed: %v\n%s", err, msg)
	}
	want, err := os.ReadFile("irpb/ir.pb.go")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "ir.pb.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("proto/irpb/ir.pb.go is stale: run go generate ./proto")
	}
}
