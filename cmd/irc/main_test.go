package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npy"

	"github.com/irc-compiler/irc/internal/testmodel"
)

// irc runs the CLI in-process and returns stdout, stderr and the exit code.
func irc(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	stdout, stderr := os.Stdout, os.Stderr
	ro, wo, _ := os.Pipe()
	re, we, _ := os.Pipe()
	os.Stdout, os.Stderr = wo, we
	outc, errc := make(chan string), make(chan string)
	go func() { var b bytes.Buffer; b.ReadFrom(ro); outc <- b.String() }()
	go func() { var b bytes.Buffer; b.ReadFrom(re); errc <- b.String() }()
	code := run(args)
	wo.Close()
	we.Close()
	os.Stdout, os.Stderr = stdout, stderr
	return <-outc, <-errc, code
}

func tinyModel(t *testing.T, preset string) (dir, irpb string) {
	t.Helper()
	root := t.TempDir()
	if _, errOut, code := irc(t, "testmodel", "-o", root, "--preset", preset); code != 0 {
		t.Fatalf("testmodel: %s", errOut)
	}
	// The model file beside the checkpoint's folder: its weight files lie
	// inside the model's folder, as irc reads them by default.
	dir = filepath.Join(root, preset)
	irpb = filepath.Join(root, "model.irpb")
	if _, errOut, code := irc(t, "import", dir, "-o", irpb, "--prefill-len", "4"); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	return dir, irpb
}

func TestRunContract(t *testing.T) {
	_, irpb := tinyModel(t, "qwen2-tiny")
	npyPath := filepath.Join(t.TempDir(), "logits.npy")
	out, errOut, code := irc(t, "run", irpb, "--backend", "ref", "--tokens", "5,17,3", "--generate", "4", "--logits-out", npyPath)
	if code != 0 {
		t.Fatalf("run failed: %s", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	ids := strings.Split(lines[len(lines)-1], ",")
	if len(ids) != 4 {
		t.Fatalf("last line %q is not 4 comma-separated ids", lines[len(lines)-1])
	}
	h, _ := readNpy(t, npyPath)
	p, _ := testmodel.Find("qwen2-tiny")
	if s := h.Descr.Shape; len(s) != 2 || s[0] != 3+3 || s[1] != p.Vocab || !strings.Contains(h.Descr.Type, "<f4") {
		t.Fatalf("logits.npy is %v %s, want [6 %d] <f4", s, h.Descr.Type, p.Vocab)
	}
	// The same run through a text dump of the model gives the same ids:
	// dumps are valid inputs.
	dump, _, code := irc(t, "dump", irpb)
	if code != 0 || !strings.HasPrefix(dump, "irc v1") {
		t.Fatalf("dump failed")
	}
	irPath := filepath.Join(filepath.Dir(irpb), "model.ir")
	os.WriteFile(irPath, []byte(dump), 0o644)
	again, errOut, code := irc(t, "run", irPath, "--tokens", "5,17,3", "--generate", "4")
	if code != 0 || strings.TrimSpace(again) != lines[len(lines)-1] {
		t.Fatalf("run from the text dump: %q vs %q (%s)", again, lines[len(lines)-1], errOut)
	}
	for _, format := range []string{"json", "dot"} {
		out, errOut, code := irc(t, "dump", irpb, "--format", format, "--graph", "decode")
		if code != 0 || len(out) < 100 {
			t.Fatalf("dump --format=%s: %s", format, errOut)
		}
		if format == "json" && !json.Valid([]byte(out)) {
			t.Fatal("dump --format=json is not JSON")
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, cmd := range []string{"import", "dump", "run", "testmodel", "version"} {
		out, _, code := irc(t, cmd, "--help")
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("%s --help: code %d, output %q", cmd, code, out)
		}
	}
	if out, _, code := irc(t, "version"); code != 0 || !strings.Contains(out, "IR format v1") {
		t.Errorf("version: %q", out)
	}
}

// Every bad input gets a one-line error naming the thing and a non-zero
// exit, never a panic trace.
func TestBadInputs(t *testing.T) {
	dir, irpb := tinyModel(t, "llama-tiny")
	cases := []struct {
		name  string
		setup func(t *testing.T) []string
		want  string
	}{
		{"unknown architecture", func(t *testing.T) []string {
			return []string{"import", writeConfig(t, dir, func(c map[string]any) { c["architectures"] = []string{"MambaForCausalLM"} }), "-o", tmp(t, "m.irpb")}
		}, `unknown architecture "MambaForCausalLM"`},
		{"missing field", func(t *testing.T) []string {
			return []string{"import", writeConfig(t, dir, func(c map[string]any) { delete(c, "vocab_size") }), "-o", tmp(t, "m.irpb")}
		}, `missing field "vocab_size"`},
		{"inconsistent heads", func(t *testing.T) []string {
			return []string{"import", writeConfig(t, dir, func(c map[string]any) { c["num_key_value_heads"] = 3 }), "-o", tmp(t, "m.irpb")}
		}, "multiple of num_key_value_heads"},
		{"broken json", func(t *testing.T) []string {
			d := copyDir(t, dir)
			os.WriteFile(filepath.Join(d, "config.json"), []byte(`{"architectures": [`), 0o644)
			return []string{"import", d, "-o", tmp(t, "m.irpb")}
		}, "config.json: invalid JSON"},
		{"mis-shaped tensor", func(t *testing.T) []string {
			return []string{"import", writeConfig(t, dir, func(c map[string]any) { c["intermediate_size"] = 95 }), "-o", tmp(t, "m.irpb")}
		}, `has shape [96,64], the model declares [95,64]`},
		{"missing tensor", func(t *testing.T) []string {
			return []string{"import", writeConfig(t, dir, func(c map[string]any) { c["num_hidden_layers"] = 3 }), "-o", tmp(t, "m.irpb")}
		}, `missing tensor "model.layers.2.input_layernorm.weight"`},
		{"truncated safetensors", func(t *testing.T) []string {
			d := copyDir(t, dir)
			p := filepath.Join(d, "model.safetensors")
			data, _ := os.ReadFile(p)
			os.WriteFile(p, data[:len(data)/2], 0o644)
			return []string{"import", d, "-o", tmp(t, "m.irpb")}
		}, "model.safetensors: tensor"},
		{"absurd header", func(t *testing.T) []string {
			d := copyDir(t, dir)
			os.WriteFile(filepath.Join(d, "model.safetensors"), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'}, 0o644)
			return []string{"import", d, "-o", tmp(t, "m.irpb")}
		}, "header length 9223372036854775807 is absurd"},
		{"corrupt irpb", func(t *testing.T) []string {
			p := tmp(t, "bad.irpb")
			os.WriteFile(p, []byte("\x0a\xff\xff\xff garbage"), 0o644)
			return []string{"run", p, "--tokens", "1"}
		}, "bad.irpb: not an irc model"},
		{"verifier failure", func(t *testing.T) []string {
			out, _, _ := irc(t, "dump", irpb)
			p := tmp(t, "bad.ir")
			os.WriteFile(p, []byte(strings.Replace(out, "%pos.positions = add(%pos.iota, %pos) : i32[4]", "%pos.positions = add(%pos.iota, %pos) : i32[5]", 1)), 0o644)
			return []string{"run", p, "--tokens", "1"}
		}, "declared i32[5], op add gives i32[4]"},
		{"token out of range", func(t *testing.T) []string { return []string{"run", irpb, "--tokens", "1,97"} }, "token id 97 out of range [0, 97)"},
		{"bad token list", func(t *testing.T) []string { return []string{"run", irpb, "--tokens", "1,x"} }, `"x" is not a token id`},
		{"prompt longer than cache", func(t *testing.T) []string {
			return []string{"run", irpb, "--tokens", strings.TrimSuffix(strings.Repeat("1,", 255), ","), "--generate", "3"}
		}, "max cache length is 256"},
		{"missing weights", func(t *testing.T) []string { return []string{"run", irpb, "--tokens", "1", "--weights", t.TempDir()} }, "model.safetensors: no such file"},
		{"unknown backend", func(t *testing.T) []string { return []string{"run", irpb, "--tokens", "1", "--backend", "tpu"} }, `unknown --backend "tpu"`},
		{"no output flag", func(t *testing.T) []string { return []string{"import", dir} }, "import needs -o"},
		{"missing config", func(t *testing.T) []string { return []string{"import", t.TempDir(), "-o", tmp(t, "m.irpb")} }, "config.json: no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := irc(t, c.setup(t)...)
			if code != 1 {
				t.Fatalf("exit code %d, want 1 (stderr %q)", code, errOut)
			}
			if !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || strings.Contains(errOut, "goroutine") {
				t.Fatalf("stderr %q, want one line containing %q", errOut, c.want)
			}
		})
	}
}

// readNpy reads a float32 .npy file: its header and its values.
func readNpy(t *testing.T, path string) (npy.Header, []float32) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npy.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var data []float32
	if err := r.Read(&data); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r.Header, data
}

func tmp(t *testing.T, name string) string { return filepath.Join(t.TempDir(), name) }

func copyDir(t *testing.T, src string) string {
	dst := t.TempDir()
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(src, e.Name()))
		os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644)
	}
	return dst
}

func writeConfig(t *testing.T, src string, edit func(map[string]any)) string {
	d := copyDir(t, src)
	var c map[string]any
	data, _ := os.ReadFile(filepath.Join(d, "config.json"))
	json.Unmarshal(data, &c)
	edit(c)
	data, _ = json.Marshal(c)
	os.WriteFile(filepath.Join(d, "config.json"), data, 0o644)
	return d
}
