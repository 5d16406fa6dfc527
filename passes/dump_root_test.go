package passes

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/irc-compiler/irc/ir"
)

// A dump is written inside --dump-dir even where a symbolic link there
// names a file elsewhere: the link is refused, the file elsewhere kept.
func TestDumpStaysInItsFolder(t *testing.T) {
	dir, outside := t.TempDir(), filepath.Join(t.TempDir(), "victim")
	os.WriteFile(outside, []byte("keep"), 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "001_dce.ir")); err != nil {
		t.Skip(err)
	}
	m, err := ir.Parse("m", "irc v1\ngraph g(%x: f32[2]) {\n  %y = neg(%x) : f32[2]\n  return %y\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	d := &DumpSink{Dir: dir, Format: "text"}
	if err := d.dump(1, Lookup("dce"), false, nil, m); err == nil {
		t.Error("wrote a dump through a link leading out of the folder")
	}
	if data, _ := os.ReadFile(outside); string(data) != "keep" {
		t.Errorf("the file outside the dump folder became %q", data)
	}
}
