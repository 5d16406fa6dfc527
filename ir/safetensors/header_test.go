package safetensors

import (
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

func lenPrefix(n uint64, extra int) []byte {
	b := make([]byte, 8+extra)
	binary.LittleEndian.PutUint64(b, n)
	return b
}

type rejectCase struct {
	name     string
	file     []byte
	fileSize int64    // 0: len(file)
	want     []string // phrases the error must contain, besides the file name
}

// rejectCases is one case per way a header can be wrong; the fuzzer also
// starts from them.
var rejectCases = []rejectCase{
	{"empty file", nil, 0, []string{"file is 0 bytes, too short"}},
	{"shorter than 8 bytes", []byte{1, 2, 3}, 0, []string{"file is 3 bytes, too short"}},
	{"header length huge", lenPrefix(1<<60, 8), 0, []string{"header length 1152921504606846976 is absurd"}},
	{"header length past the file", lenPrefix(4096, 8), 0, []string{"header length 4096 is absurd", "only 8 bytes follow"}},
	{"header length one past the file", append(lenPrefix(3, 0), "{}"...), 0, []string{"header length 3 is absurd", "only 2 bytes follow"}},
	{"header length over 100 MiB", lenPrefix(100<<20+1, 8), 1 << 40, []string{"header length 104857601 is absurd", "limit is 104857600"}},
	{"header cut short in the prefix", lenPrefix(100, 10), 1 << 20, []string{"header is truncated: 100 bytes announced, 10 given"}},
	{"empty header", rawFile("", 0), 0, []string{"header is not valid JSON"}},
	{"invalid UTF-8", rawFile("{\"\xff\": {}}", 0), 0, []string{"header is not valid UTF-8"}},
	{"not JSON", rawFile("{nope", 0), 0, []string{"header is not valid JSON"}},
	{"unterminated object", rawFile(`{"a": {"dtype":"F32","shape":[],"data_offsets":[0,4]}`, 4), 0, []string{"header is not valid JSON"}},
	{"garbage after the object", rawFile(`{} x`, 0), 0, []string{"header is not valid JSON"}},
	{"second object", rawFile(`{}{}`, 0), 0, []string{"header is not valid JSON", "after the closing brace"}},
	{"array", rawFile(`[1,2]`, 0), 0, []string{"header is not a JSON object", `starts with "["`}},
	{"null", rawFile(`null`, 0), 0, []string{"header is not a JSON object", "null"}},
	{"string", rawFile(`"x"`, 0), 0, []string{"header is not a JSON object"}},
	{"entry a number", rawFile(`{"t": 5}`, 0), 0, []string{`tensor "t": entry must be an object`, "got 5"}},
	{"entry null", rawFile(`{"t": null}`, 0), 0, []string{`tensor "t": entry must be an object`}},
	{"entry an array", rawFile(`{"t": ["F32"]}`, 0), 0, []string{`tensor "t": entry must be an object`}},
	{"entry key twice", rawFile(`{"t": {"dtype":"F32","dtype":"BF16","shape":[1],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": entry has "dtype" twice`}},
	{"no dtype", rawFile(`{"t": {"shape":[1],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": entry has no "dtype"`}},
	{"no shape", rawFile(`{"t": {"dtype":"F32","data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": entry has no "shape"`}},
	{"no data_offsets", rawFile(`{"t": {"dtype":"F32","shape":[1]}}`, 4), 0, []string{`tensor "t": entry has no "data_offsets"`}},
	{"dtype key in other case", rawFile(`{"t": {"DTYPE":"F32","shape":[1],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": entry has no "dtype"`}},
	{"unknown dtype", rawFile(`{"t": {"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, 1), 0, []string{`tensor "t": unknown dtype "Q4"`, "BF16, F16, F32"}},
	{"lower-case dtype", rawFile(`{"t": {"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": unknown dtype "f32"`}},
	{"dtype not a string", rawFile(`{"t": {"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": dtype must be a string, got 4`}},
	{"dtype null", rawFile(`{"t": {"dtype":null,"shape":[1],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": dtype must be a string`}},
	{"negative dim", rawFile(`{"t": {"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": shape must be an array of non-negative integers, got [-1]`}},
	{"fractional dim", rawFile(`{"t": {"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": shape must be an array of non-negative integers, got [1.5]`}},
	{"integral float dim", rawFile(`{"t": {"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": shape must be an array of non-negative integers`}},
	{"exponent dim", rawFile(`{"t": {"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": shape must be an array`}},
	{"quoted dim", rawFile(`{"t": {"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": shape must be an array`, `got ["1"]`}},
	{"dim beyond int64", rawFile(`{"t": {"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": shape must be an array`}},
	{"shape not an array", rawFile(`{"t": {"dtype":"F32","shape":4,"data_offsets":[0,16]}}`, 16), 0, []string{`tensor "t": shape must be an array`}},
	{"shape null", rawFile(`{"t": {"dtype":"F32","shape":null,"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t": shape must be an array`}},
	{"one offset", rawFile(`{"t": {"dtype":"F32","shape":[1],"data_offsets":[0]}}`, 4), 0, []string{`tensor "t": data_offsets must be two integers`}},
	{"three offsets", rawFile(`{"t": {"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, 8), 0, []string{`tensor "t": data_offsets must be two integers`}},
	{"fractional offset", rawFile(`{"t": {"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}`, 4), 0, []string{`tensor "t": data_offsets must be two integers`}},
	{"offsets an object", rawFile(`{"t": {"dtype":"F32","shape":[1],"data_offsets":{"0":4}}}`, 4), 0, []string{`tensor "t": data_offsets must be two integers`}},
	{"begin after end", rawFile(`{"t": {"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, 4), 0, []string{`tensor "t": data_offsets [4, 0] must satisfy 0 <= begin <= end`}},
	{"negative begin", rawFile(`{"t": {"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, 4), 0, []string{`tensor "t": data_offsets [-4, 0] must satisfy`}},
	{"end past the data", rawFile(`{"t": {"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), 0, []string{`tensor "t": data_offsets end 8 lies beyond the data section (4 bytes)`}},
	{"empty tensor past the data", rawFile(`{"t": {"dtype":"F32","shape":[0],"data_offsets":[9,9]}}`, 4), 0, []string{`tensor "t": data_offsets end 9 lies beyond`}},
	{"size too small for shape", rawFile(`{"t": {"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8), 0, []string{`tensor "t": data_offsets [0, 8] span 8 bytes, but F32 [3] needs 12`}},
	{"size too large for shape", rawFile(`{"t": {"dtype":"BF16","shape":[2,2],"data_offsets":[0,16]}}`, 16), 0, []string{`tensor "t":`, "but BF16 [2 2] needs 8"}},
	{"scalar size", rawFile(`{"t": {"dtype":"I64","shape":[],"data_offsets":[0,4]}}`, 4), 0, []string{`tensor "t":`, "but I64 [] needs 8"}},
	{"shape overflows", rawFile(`{"t": {"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, 8), 0, []string{`tensor "t": F32 [4294967296 4294967296] is too large`}},
	{"shape wraps to zero", rawFile(`{"t": {"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}}`, 0), 0, []string{`tensor "t":`, "is too large"}},
	{"overlap", rawFile(`{"a": {"dtype":"F32","shape":[2],"data_offsets":[0,8]}, "b": {"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12), 0, []string{`tensors "a" [0, 8) and "b" [4, 12) overlap`}},
	{"same range", rawFile(`{"b": {"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "a": {"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, 4), 0, []string{`tensors "a" [0, 4) and "b" [0, 4) overlap`}},
	{"range inside another", rawFile(`{"a": {"dtype":"U8","shape":[12],"data_offsets":[0,12]}, "b": {"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 12), 0, []string{`tensors "a" [0, 12) and "b" [4, 8) overlap`}},
	{"duplicate tensor", rawFile(`{"a": {"dtype":"F32","shape":[1],"data_offsets":[0,4]}, "a": {"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), 0, []string{`tensor "a" appears twice in the header`}},
	// The header region holds one JSON object padded with spaces, nothing else.
	{"leading space", rawFile(` {}`, 0), 0, []string{"header starts with a space: it must start with '{'"}},
	{"leading newline", rawFile("\n{}", 0), 0, []string{"header starts with a newline"}},
	{"trailing NUL", rawFile("{}\x00\x00", 0), 0, []string{"header is not valid JSON", "after the closing brace"}},
	{"trailing newline", rawFile("{}\n", 0), 0, []string{"header has a newline after its JSON object, at byte 2 of 3: only spaces may pad the header"}},
	{"trailing tab after spaces", rawFile("{}  \t ", 0), 0, []string{"header has a tab after its JSON object, at byte 4 of 6"}},
	{"trailing CR", rawFile("{}\r", 0), 0, []string{"header has a carriage return"}},
	{"trailing garbage", rawFile(`{"a": {"dtype":"U8","shape":[4],"data_offsets":[0,4]}}  junk`, 4), 0, []string{"header is not valid JSON", "after the closing brace"}},
	// The tensors tile the data section exactly (as the reference reader requires).
	{"bytes after the data", rawFile(`{"a": {"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, 100), 0, []string{"the data section is 100 bytes but its tensors end at byte 4: 96 bytes after the last tensor \"a\" belong to no tensor"}},
	{"data but no tensors", rawFile(`{}`, 3), 0, []string{"the data section is 3 bytes but its tensors end at byte 0", "the header names no tensor"}},
	{"hole between tensors", rawFile(`{"a": {"dtype":"U8","shape":[4],"data_offsets":[0,4]}, "b": {"dtype":"U8","shape":[4],"data_offsets":[8,12]}}`, 12), 0, []string{`bytes [4, 8) of the data section belong to no tensor (between tensors "a" and "b")`}},
	{"hole at the start", rawFile(`{"b": {"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, 6), 0, []string{`bytes [0, 2) of the data section belong to no tensor (at the start of the data section, before tensor "b")`}},
	{"empty tensor inside another", rawFile(`{"a": {"dtype":"U8","shape":[4],"data_offsets":[0,4]}, "e": {"dtype":"F32","shape":[0],"data_offsets":[2,2]}}`, 4), 0, []string{`empty tensor "e" at offset 2 lies inside tensor "a" [0, 4)`}},
	{"metadata twice", rawFile(`{"__metadata__": {}, "__metadata__": {}}`, 0), 0, []string{`"__metadata__" appears twice`}},
	{"metadata value not a string", rawFile(`{"__metadata__": {"a": 1}}`, 0), 0, []string{`__metadata__["a"] must be a string, got 1`}},
	{"metadata not an object", rawFile(`{"__metadata__": ["a"]}`, 0), 0, []string{"__metadata__ must be an object of strings"}},
}

func TestParseHeaderRejects(t *testing.T) {
	for _, c := range rejectCases {
		t.Run(c.name, func(t *testing.T) {
			size := c.fileSize
			if size == 0 {
				size = int64(len(c.file))
			}
			tensors, start, meta, err := ParseHeader(c.file, size, "dir/bad.safetensors")
			wantErr(t, err, c.want...)
			if err != nil && !strings.HasPrefix(err.Error(), "dir/bad.safetensors: ") {
				t.Errorf("error %q does not start with the file name", err)
			}
			if tensors != nil || start != 0 || meta != nil {
				t.Errorf("results alongside an error: %v %d %v", tensors, start, meta)
			}
		})
	}
}

func TestParseHeaderAccepts(t *testing.T) {
	header := `{"z": {"dtype":"BF16","shape":[2,3],"data_offsets":[16,28],"extra":"ignored"},` +
		`"a": {"dtype":"I64","shape":[],"data_offsets":[0,8]},` +
		`"e0": {"dtype":"F32","shape":[0],"data_offsets":[0,0]},` + // empty, at the start
		`"e1": {"dtype":"F32","shape":[0,4],"data_offsets":[8,8]},` + // empty, at a boundary
		`"e2": {"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],"data_offsets":[40,40]},` + // empty at the very end
		`"b": {"dtype":"BOOL","shape":[8],"data_offsets":[8,16]},` +
		`"f8": {"dtype":"F8_E4M3","shape":[12],"data_offsets":[28,40]},` +
		`"__metadata__": {"format":"pt","k":"v"}}   ` // trailing spaces: the usual padding
	file := rawFile(header, 40)
	tensors, start, meta, err := ParseHeader(file, int64(len(file)), "ok.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if start != int64(8+len(header)) {
		t.Errorf("data starts at %d, want %d", start, 8+len(header))
	}
	if meta["format"] != "pt" || meta["k"] != "v" || len(meta) != 2 {
		t.Errorf("metadata %v", meta)
	}
	var names []string
	for _, tt := range tensors {
		names = append(names, tt.Name)
		if tt.File != "ok.safetensors" {
			t.Errorf("%s: File %q", tt.Name, tt.File)
		}
	}
	if want := []string{"a", "b", "e0", "e1", "e2", "f8", "z"}; !slices.Equal(names, want) {
		t.Fatalf("names %v, want %v (sorted)", names, want)
	}
	z := tensors[6]
	if z.DType != BF16 || !slices.Equal(z.Shape, []int64{2, 3}) || z.Begin != 16 || z.End != 28 {
		t.Errorf("z parsed as %+v", z)
	}
	if a := tensors[0]; a.Shape == nil || len(a.Shape) != 0 {
		t.Errorf("scalar shape %#v, want empty non-nil", a.Shape)
	}

	// Only the header prefix is needed: the data bytes may be absent.
	prefix := file[:start]
	if _, _, _, err := ParseHeader(prefix, int64(len(file)), "ok.safetensors"); err != nil {
		t.Errorf("prefix only: %v", err)
	}
	// The same data section one byte shorter cuts off f8 and e2; one byte
	// longer leaves a byte no tensor holds.
	if _, _, _, err := ParseHeader(file[:len(file)-1], int64(len(file)-1), "ok.safetensors"); err == nil {
		t.Error("a data section one byte short was accepted")
	}
	if _, _, _, err := ParseHeader(append(file, 0), int64(len(file)+1), "ok.safetensors"); err == nil {
		t.Error("a data section one byte long was accepted")
	}

	for _, h := range []string{`{}`, `{"__metadata__": null}`, `{"__metadata__": {}}`, `{}       `} {
		f := rawFile(h, 0)
		tensors, _, meta, err := ParseHeader(f, int64(len(f)), "x")
		if err != nil || len(tensors) != 0 || len(meta) != 0 {
			t.Errorf("%s: %v %v %v", h, tensors, meta, err)
		}
	}
}

func TestDTypeSize(t *testing.T) {
	for d, want := range map[DType]int{BF16: 2, F16: 2, F32: 4, "I64": 8, "BOOL": 1, "F8_E5M2": 1, "U16": 2, "F64": 8, "Q4": 0, "": 0} {
		if got := d.Size(); got != want {
			t.Errorf("%q.Size() = %d, want %d", d, got, want)
		}
	}
}
