package ir

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/runtime/tokenizer"
)

func TestSampleUsesEveryOp(t *testing.T) {
	used := map[string]bool{}
	for _, n := range sampleModel().Graphs[0].Nodes {
		used[n.Op] = true
	}
	for _, d := range Ops() {
		if !used[d.Name] {
			t.Errorf("sampleModel does not use op %s; round-trip tests would not cover it", d.Name)
		}
		if d.Doc == "" {
			t.Errorf("op %s has no doc", d.Name)
		}
	}
}

func TestTextRoundTrip(t *testing.T) {
	m := sampleModel()
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	text := m.String()
	back, err := Parse("sample.ir", text)
	if err != nil {
		t.Fatalf("parse of printed model failed: %v\n%s", err, text)
	}
	if got := back.String(); got != text {
		t.Fatalf("text round trip changed the model:\n--- printed\n%s\n--- reprinted\n%s", text, got)
	}
}

func TestProtoRoundTripAndDeterminism(t *testing.T) {
	m := sampleModel()
	data, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Marshal(sampleModel())
	if !bytes.Equal(data, again) {
		t.Fatal("marshalling the same model twice gave different bytes")
	}
	back, err := Unmarshal("sample.irpb", data)
	if err != nil {
		t.Fatal(err)
	}
	if back.String() != m.String() {
		t.Fatalf("proto round trip changed the model:\n%s\nvs\n%s", back.String(), m.String())
	}
}

// tokenizedLLM is tinyLLM with a GGUF vocabulary, bytes that are not
// UTF-8 and quotes included.
func tokenizedLLM() *Model {
	m := tinyLLM()
	m.Meta.Tokenizer = &tokenizer.Vocab{Model: "gpt2", Pre: "qwen2",
		Patterns: []string{`\p{L}+|\s+(?!\S)`, "x"}, NFC: true, IgnoreMerges: true,
		Tokens: []string{"<unk>", "<s>", "</s>", "\xff\xfe", "a\"b", "\u2581t5", ""},
		Types:  []int32{2, 3, 3, 6, 1, 1, 1},
		Merges: []string{"a b", "\xff c"},
		BOS:    1, AddBOS: true, EOS: []int32{2, 0},
		ChatTemplate: "{{ messages }}\n"}
	return m
}

// The tokenizer a GGUF import keeps survives both formats exactly.
func TestTokenizerRoundTrip(t *testing.T) {
	m := tokenizedLLM()
	data, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal("t.irpb", data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Meta.Tokenizer, m.Meta.Tokenizer) {
		t.Fatalf("proto round trip: %+v, want %+v", back.Meta.Tokenizer, m.Meta.Tokenizer)
	}
	text := m.String()
	if !strings.Contains(text, "# gpt2 tokenizer (pre \"qwen2\"): 7 tokens, 2 merges, 2 added/special, bos 1 (added), eos [2 0], chat template 15 bytes") {
		t.Errorf("no tokenizer summary in\n%s", text)
	}
	parsed, err := Parse("t.ir", text)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(parsed.Meta.Tokenizer, m.Meta.Tokenizer) || parsed.String() != text {
		t.Fatalf("text round trip: %+v, want %+v", parsed.Meta.Tokenizer, m.Meta.Tokenizer)
	}
	for _, bad := range []struct{ val, want string }{
		{`"x"`, `meta tokenizer: want "irpb.Tokenizer:" and base64`},
		{`"irpb.Tokenizer:!!"`, "meta tokenizer: base64"},
		{`"irpb.Tokenizer:/w=="`, "meta tokenizer: not a tokenizer message"},
		{`3`, "meta tokenizer: want a string"},
	} {
		i := strings.Index(text, "  tokenizer = ")
		j := i + strings.Index(text[i:], "\n")
		_, err := Parse("t.ir", text[:i]+"  tokenizer = "+bad.val+text[j:])
		if err == nil || !strings.Contains(err.Error(), bad.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("tokenizer = %s: %v, want one line with %q", bad.val, err, bad.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := sampleModel().String()
	cases := []struct {
		name, src, want string
	}{
		{"version", strings.Replace(good, "irc v1", "irc v9", 1), "only version v1"},
		{"unknown op", strings.Replace(good, "= neg(", "= negate(", 1), `unknown op "negate"`},
		{"undefined value", strings.Replace(good, "neg(%s.sqrt)", "neg(%nope)", 1), "%nope is not defined"},
		{"bad dtype", strings.Replace(good, ": f32[11,6]", ": f31[11,6]", 1), `unknown dtype "f31"`},
		{"unknown attr", strings.Replace(good, "{exponent=2}", "{exponent=2, bogus=1}", 1), `no attribute "bogus"`},
		{"attr kind", strings.Replace(good, "{exponent=2}", `{exponent="two"}`, 1), "want a number"},
		{"wrong type", strings.Replace(good, "%s.neg = neg(%s.sqrt) : f32[2,6]", "%s.neg = neg(%s.sqrt) : f32[2,7]", 1), "declared f32[2,7], op neg gives f32[2,6]"},
		{"missing attr", strings.Replace(good, " {exponent=2}", "", 1), `missing attribute "exponent"`},
		{"unterminated", strings.Replace(good, `"model.embed.weight"`, `"model.embed.weight`, 1), "unterminated string"},
		{"redefined", strings.Replace(good, "%s.sqrt = sqrt", "%s.exp = sqrt", 1), "%s.exp defined twice"},
		{"bad char", good + "\n$", "unexpected character"},
		{"state twice", strings.Replace(good, "state @cache.0.k", "state @embed", 1), "@embed declared twice"},
		{"view out of range", strings.Replace(good, "strides=[6,2], offset=1}", "strides=[6,2], offset=2}", 1), "view reads elements 2..12 of an input with 12"},
		{"view rank", strings.Replace(good, "strides=[6,2], offset=1}", "strides=[6], offset=1}", 1), "strides [6] have 1 entries"},
		{"norm weight", strings.Replace(good, "weight @norm : f32[6]", "weight @norm : f32[5]", 1), "weight is f32[5], want a float vector of 6"},
		{"placement kind", strings.Replace(good, `device="cpu", part=1}`, `device="cpu", part="one"}`, 1), "attribute part: want an integer"},
		{"rope freqs", strings.Replace(good, "inv_freq=[1,0.1,0.01]", "inv_freq=[1,0.1]", 1), "inv_freq has 2 entries, want 3"},
		{"causal positions", strings.Replace(good, "masked_softmax(%s.rope, %tokens)", "masked_softmax(%s.rope, %pos)", 1), "positions are i32[1], want an integer vector of 2"},
		{"grouped heads", strings.Replace(good, "grouped_matmul(%s.rope, %s.view_2)", "grouped_matmul(%s.rope, %s.rope)", 1), "cannot group"},
		{"bound value", strings.Replace(good, `{causal_bound="reduction"}`, `{causal_bound="rows"}`, 1), `causal_bound="rows", want "columns" or "reduction"`},
		{"bound kind", strings.Replace(good, `{causal_bound="reduction"}`, `{causal_bound=1}`, 1), "causal_bound"},
		{"bound without positions", strings.Replace(good, "%s.view_3, %tokens) {causal_bound", "%s.view_3) {causal_bound", 1), "needs the positions operand"},
		{"positions without bound", strings.Replace(good, `%tokens) {causal_bound="reduction"}`, "%tokens)", 1), "third input (positions) without causal_bound"},
		{"bound positions", strings.Replace(good, `%s.view_3, %tokens) {causal_bound`, `%s.view_3, %pos) {causal_bound`, 1), "positions are i32[1], want i32[2]"},
		{"linear epilogues", strings.Replace(good, "{bias=1, residual=1}", "{bias=1}", 1), "4 inputs, want 3 for bias=1 residual=0"},
		{"attention start", strings.Replace(good, "@cache.1.v, %tokens, %pos)", "@cache.1.v, %tokens, %tokens)", 1), "start is i32[2], want i32[1]"},
		{"attention on weight", strings.Replace(good, "state @cache.1.v : f32[1,8,6]", `weight @cache.1.v : f32[1,8,6] = "model.safetensors" "v"`, 1), "attention must write its caches in place: @cache.1.v is not a state"},
		{"cache_write on value", strings.Replace(good, "cache_write(@cache.0.k", "cache_write(%s.transpose", 1), "cache_write"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.src == good {
				t.Fatal("test case did not change the input")
			}
			_, err := Parse("bad.ir", c.src)
			if err == nil {
				t.Fatalf("parse accepted bad input")
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "bad.ir:") {
				t.Fatalf("error %q does not name the file and contain %q", err, c.want)
			}
		})
	}
}

func TestParseErrorPosition(t *testing.T) {
	_, err := Parse("x.ir", "irc v1\nmeta {\n  hidden_size = \"big\"\n}\n")
	if err == nil || !strings.Contains(err.Error(), "x.ir:3:3: meta hidden_size: want an integer") {
		t.Fatalf("got %v", err)
	}
}

func TestUnmarshalRejectsCorruptData(t *testing.T) {
	data, _ := Marshal(sampleModel())
	for _, bad := range [][]byte{data[:len(data)/2], {0xff, 0xff, 0xff}, []byte("hello world")} {
		if _, err := Unmarshal("bad.irpb", bad); err == nil || !strings.HasPrefix(err.Error(), "bad.irpb: ") {
			t.Errorf("corrupt input accepted or error unnamed: %v", err)
		}
	}
}

// checkAccepted is what every model a reader accepts must satisfy, whatever
// the input: it validates again, and what it declares (weights, states, its
// largest value) adds up without overflow, so whatever allocates it can
// check it against its memory before allocating.
func checkAccepted(t *testing.T, m *Model) {
	t.Helper()
	if err := m.Validate(); err != nil {
		t.Fatalf("accepted a model that does not validate: %v", err)
	}
	if _, err := m.DeclaredSize(); err != nil {
		t.Fatalf("accepted a model whose size overflows: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sampleModel().String())
	f.Add(tinyLLM().String())
	f.Add(tokenizedLLM().String())
	f.Add("irc v1\nmeta {\n}\n")
	f.Add("irc v1 graph g(%a: f32[2]) { %b = neg(%a) : f32[2]\n return %b }")
	f.Add("irc v1 graph g(%a: f32[2]) { %b = iota() {shape=[4294967296,4294967296], axis=0, dtype=i32} : i32[4294967296,4294967296]\n return %a }")
	f.Add("irc v1 graph g(%a: f32[10]) { %b = view(%a) {shape=[3], strides=[4611686018427387904]} : f32[3]\n return %b }")
	f.Fuzz(func(t *testing.T, src string) {
		m, err := Parse("fuzz.ir", src)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		checkAccepted(t, m)
		// Whatever parses must print and parse back to the same text.
		text := m.String()
		back, err := Parse("fuzz2.ir", text)
		if err != nil {
			t.Fatalf("reparse failed: %v\n%s", err, text)
		}
		if back.String() != text {
			t.Fatalf("round trip not stable:\n%s\nvs\n%s", text, back.String())
		}
	})
}

func FuzzUnmarshal(f *testing.F) {
	data, _ := Marshal(sampleModel())
	f.Add(data)
	data, _ = Marshal(tinyLLM())
	f.Add(data)
	data, _ = Marshal(tokenizedLLM())
	f.Add(data)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Unmarshal("fuzz.irpb", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		checkAccepted(t, m)
		// A model that loads is verified; it must survive a round trip.
		out, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Unmarshal("again.irpb", out); err != nil {
			t.Fatalf("re-read of a loaded model failed: %v", err)
		}
	})
}
