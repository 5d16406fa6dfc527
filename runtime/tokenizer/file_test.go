package tokenizer

import (
	"bytes"
	"reflect"
	"testing"
)

// A runner's embedded tokenizer reads back as the Vocab it was written
// from, and writing is deterministic.
func TestFileRoundTrip(t *testing.T) {
	v := &Vocab{Model: ModelBPE, Patterns: []string{`\s+|\S+`}, NFC: true, Tokens: []string{"a", "b", "ab", "<|e|>"},
		Types: []int32{TypeNormal, TypeNormal, TypeNormal, TypeControl}, Merges: []string{"a b"}, BOS: -1, EOS: []int32{3}, ChatTemplate: "{{ x }}"}
	a, err := WriteFile(v)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := WriteFile(v)
	if !bytes.Equal(a, b) {
		t.Error("two writes of one Vocab differ")
	}
	got, err := ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Errorf("read back %+v, want %+v", got, v)
	}
	for _, bad := range [][]byte{nil, []byte("not gzip"), a[:len(a)/2]} {
		if _, err := ReadFile(bad); err == nil {
			t.Errorf("ReadFile(%d bytes of garbage) succeeded", len(bad))
		}
	}
}
