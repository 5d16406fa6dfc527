package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 12, end to end: every class of hostile input found, reproduced
// against the built irc binary under the memory limit the guarantees are
// stated for (ulimit -v 8000000) and a hang guard. Each must end in one
// "irc: " line naming what is wrong, with the expected exit status, and no
// panic. The packages' own tests go deeper per class: ir (meta, overflow,
// budgets), ir/hf (config sizes), ir/safetensors (special files, paths,
// strict layout), runtime/ref (allocations), runnergen and runtime/runner
// (outputs, where a shipped runner finds its weights), bench (compare).
func TestUntrustedInputClasses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds irc and runs it once per reproduction")
	}
	bin := filepath.Join(t.TempDir(), "irc")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	root := t.TempDir()
	run := func(t *testing.T, args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		cmd := exec.CommandContext(ctx, "bash", "-c", "ulimit -v 8000000; exec "+bin+" "+strings.Join(quoted, " "))
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if ctx.Err() != nil {
			t.Fatalf("irc %s: still running after 60 s (a hang)", strings.Join(args, " "))
		}
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stderr.String(), code
	}
	refuse := func(t *testing.T, wantCode int, want string, args ...string) {
		t.Helper()
		stderr, code := run(t, args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if code != wantCode || !strings.HasPrefix(last, "irc: ") || !strings.Contains(last, want) ||
			strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
			t.Errorf("irc %s: exit %d (want %d), stderr:\n%s\nwant one last line with %q", strings.Join(args, " "), code, wantCode, stderr, want)
		}
	}
	if _, code := run(t, "testmodel", "-o", "models", "--preset", "qwen2-tiny"); code != 0 {
		t.Fatal("testmodel failed")
	}
	if stderr, code := run(t, "import", "models/qwen2-tiny", "-o", "m.irpb", "--prefill-len", "4"); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	dump, err := exec.Command(bin, "dump", filepath.Join(root, "m.irpb")).Output()
	if err != nil {
		t.Fatal(err)
	}
	// edited writes the dump with one replacement, beside m.irpb.
	edited := func(t *testing.T, name, old, new string) string {
		t.Helper()
		if !bytes.Contains(dump, []byte(old)) {
			t.Fatalf("the dump has no %q", old)
		}
		os.WriteFile(filepath.Join(root, name), bytes.Replace(dump, []byte(old), []byte(new), 1), 0o644)
		return name
	}
	// config writes models/NAME: the tiny checkpoint's config, edited.
	config := func(t *testing.T, name string, edit func(map[string]any)) string {
		t.Helper()
		var c map[string]any
		data, _ := os.ReadFile(filepath.Join(root, "models/qwen2-tiny/config.json"))
		json.Unmarshal(data, &c)
		edit(c)
		data, _ = json.Marshal(c)
		dir := filepath.Join(root, "models", name)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644)
		return "models/" + name
	}
	tokens := []string{"--tokens", "1,2,3", "--generate", "3"}

	t.Run("1 vocab_size past the embedding table", func(t *testing.T) {
		refuse(t, 1, "meta vocab_size: is 1000", append([]string{"run", edited(t, "c1.ir", "vocab_size = 271", "vocab_size = 1000")}, tokens...)...)
	})
	t.Run("2 metadata trusted over tensors", func(t *testing.T) {
		refuse(t, 1, "meta max_cache_len: is 1000", append([]string{"run", edited(t, "c2a.ir", "max_cache_len = 256", "max_cache_len = 1000")}, tokens...)...)
		refuse(t, 1, "meta prefill_len", append([]string{"run", edited(t, "c2b.ir", "prefill_len = 4", "prefill_len = 3")}, tokens...)...)
		refuse(t, 1, "meta num_layers", append([]string{"run", edited(t, "c2c.ir", "num_layers = 2", "num_layers = 7")}, tokens...)...)
		refuse(t, 1, "meta vocab_size: is -5", append([]string{"run", edited(t, "c2d.ir", "vocab_size = 271", "vocab_size = -5")}, tokens...)...)
	})
	t.Run("3 allocations sized by the input", func(t *testing.T) {
		refuse(t, 1, "this process can allocate", "import", config(t, "layers", func(c map[string]any) { c["num_hidden_layers"] = 100000 }), "-o", "x.irpb")
		refuse(t, 1, "this process can allocate", "import", config(t, "headdim", func(c map[string]any) { c["head_dim"] = int64(1) << 40 }), "-o", "x.irpb")
		refuse(t, 1, "overflows int64", "import", config(t, "hidden6e11", func(c map[string]any) { c["hidden_size"] = int64(600000000000) }), "-o", "x.irpb")
		refuse(t, 1, "hidden_size (4611686018427387904)", "import", config(t, "hidden262", func(c map[string]any) { c["hidden_size"] = int64(1) << 62 }), "-o", "x.irpb")
		refuse(t, 1, "max_position_embeddings", "import", "models/qwen2-tiny", "-o", "x.irpb", "--max-cache-len", "1099511627776")
		// A huge vocabulary imports (nothing of it is allocated) and is
		// refused where ref would allocate it.
		vocab := config(t, "vocab", func(c map[string]any) { c["vocab_size"] = int64(4000000000) })
		if stderr, code := run(t, "import", vocab, "-o", "vocab.irpb"); code != 0 {
			t.Fatalf("import of a config declaring a big vocabulary: %s", stderr)
		}
		refuse(t, 1, "this process can allocate", append([]string{"run", "vocab.irpb", "--random-weights"}, tokens...)...)
		decode := "graph decode(%tokens: i32[1], %pos: i32[1]) {\n"
		iota := edited(t, "iota.ir", decode, decode+"  %huge = iota() {shape=[1099511627776], axis=0, dtype=i32} : i32[1099511627776]\n")
		refuse(t, 1, "this process can allocate", append([]string{"run", iota, "--passes", "none"}, tokens...)...)
	})
	t.Run("4 element counts that overflow", func(t *testing.T) {
		bad := edited(t, "c4.ir", "%tokens: i32[4]", "%tokens: i32[4294967296,4294967296,4294967296]")
		refuse(t, 1, "has more elements than int64 can count", append([]string{"run", bad}, tokens...)...)
		refuse(t, 1, "has more elements than int64 can count", "compile", bad, "-o", "c4.irpb")
	})
	t.Run("5 special files", func(t *testing.T) {
		dir := filepath.Join(root, "models", "fifo")
		os.MkdirAll(dir, 0o755)
		if err := syscall.Mkfifo(filepath.Join(dir, "config.json"), 0o644); err != nil {
			t.Skipf("no FIFOs here: %v", err)
		}
		refuse(t, 1, "named pipe", "import", "models/fifo", "-o", "x.irpb")
		dir2 := filepath.Join(root, "models", "fifo2")
		os.MkdirAll(dir2, 0o755)
		data, _ := os.ReadFile(filepath.Join(root, "models/qwen2-tiny/config.json"))
		os.WriteFile(filepath.Join(dir2, "config.json"), data, 0o644)
		syscall.Mkfifo(filepath.Join(dir2, "model.safetensors"), 0o644)
		refuse(t, 1, "named pipe", "import", "models/fifo2", "-o", "x.irpb")
		refuse(t, 1, "not a regular file", "dump", "/dev/zero")
	})
	t.Run("6 paths out of the model folder", func(t *testing.T) {
		file := "models/qwen2-tiny/model.safetensors"
		refuse(t, 1, "outside the folder", append([]string{"run", edited(t, "c6a.ir", `"`+file+`"`, `"../../../../../../etc/passwd"`)}, tokens...)...)
		refuse(t, 1, "is an absolute path", append([]string{"run", edited(t, "c6b.ir", `"`+file+`"`, `"`+filepath.Join(root, file)+`"`)}, tokens...)...)
		if stderr, code := run(t, append([]string{"run", edited(t, "c6c.ir", `"`+file+`"`, `"`+filepath.Join(root, file)+`"`), "--allow-weights-outside"}, tokens...)...); code != 0 {
			t.Errorf("--allow-weights-outside did not allow it: %s", stderr)
		}
	})
	t.Run("7 outputs never clobber", func(t *testing.T) {
		proj := filepath.Join(root, "proj")
		os.MkdirAll(proj, 0o755)
		os.WriteFile(filepath.Join(proj, "go.mod"), []byte("module example.com/proj\n"), 0o644)
		refuse(t, 1, "irc did not write it", "compile", "m.irpb", "--target", "opencl", "-o", "proj")
		if data, _ := os.ReadFile(filepath.Join(proj, "go.mod")); string(data) != "module example.com/proj\n" {
			t.Errorf("go.mod was replaced: %q", data)
		}
	})
	t.Run("8 one weight check for every path", func(t *testing.T) {
		// The checkpoint again with its tensors' dtype said to be F16:
		// import, ref and the runners refuse it alike.
		dir := filepath.Join(root, "w16", "models", "qwen2-tiny")
		os.MkdirAll(dir, 0o755)
		data, _ := os.ReadFile(filepath.Join(root, "models/qwen2-tiny/config.json"))
		os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644)
		st, _ := os.ReadFile(filepath.Join(root, "models/qwen2-tiny/model.safetensors"))
		n := binary.LittleEndian.Uint64(st)
		header := bytes.ReplaceAll(st[8:8+n], []byte(`"BF16"`), []byte(`"F16" `))
		os.WriteFile(filepath.Join(dir, "model.safetensors"), append(append(st[:8:8], header...), st[8+n:]...), 0o644)
		refuse(t, 1, "has dtype F16, the model declares BF16", "import", "w16/models/qwen2-tiny", "-o", "x.irpb")
		refuse(t, 1, "has dtype F16, the model declares BF16", append([]string{"run", "m.irpb", "--weights", "w16"}, tokens...)...)
		refuse(t, 1, "has dtype F16, the model declares BF16", append([]string{"run", "m.irpb", "--weights", "w16", "--backend", "opencl"}, tokens...)...)
	})
	t.Run("9 a runner's source names no build folder", func(t *testing.T) {
		// Where a built runner then looks for its weights (beside itself,
		// or --weights) is TestRunnerFindsItsWeights.
		if stderr, code := run(t, "compile", "m.irpb", "--target", "opencl", "-o", "r9"); code != 0 {
			t.Fatalf("compile: %s", stderr)
		}
		for _, f := range []string{"main.go", "schedule.go"} {
			data, _ := os.ReadFile(filepath.Join(root, "r9", f))
			if len(data) == 0 || bytes.Contains(data, []byte(root)) {
				t.Errorf("r9/%s is empty or names the folder it was compiled in (%s)", f, root)
			}
		}
	})
	t.Run("10 bench compare pairs by position", func(t *testing.T) {
		var res map[string]any
		data, err := os.ReadFile(filepath.Join("..", "..", "bench", "results", "pocl-qwen2-tiny.json"))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(data, &res)
		pos := res["positions"].([]any)
		res["positions"] = append(pos, pos[len(pos)-1])
		data, _ = json.Marshal(res)
		os.WriteFile(filepath.Join(root, "dup.json"), data, 0o644)
		refuse(t, 1, "each position is measured once", "bench", "compare", "dup.json", filepath.Join("..", "..", "bench", "results", "pocl-qwen2-tiny.json"))
	})
	t.Run("11 the smaller ones", func(t *testing.T) {
		refuse(t, 1, "data after the top-level object", "import", trailing(t, root), "-o", "x.irpb")
		refuse(t, 1, "eos_token_id holds 500", "import", config(t, "eos", func(c map[string]any) { c["eos_token_id"] = 500 }), "-o", "x.irpb")
		os.WriteFile(filepath.Join(root, "header.ir"), []byte("irc v1\n"), 0o644)
		refuse(t, 1, "no graphs", "dump", "header.ir")
		refuse(t, 1, "--max-cache-len -1", "import", "models/qwen2-tiny", "-o", "x.irpb", "--max-cache-len", "-1")
		refuse(t, 1, "--json", "bench", "m.irpb", "--json", "nodir/x.json")
	})
}

// trailing writes a checkpoint folder whose config.json has data after
// its object.
func trailing(t *testing.T, root string) string {
	dir := filepath.Join(root, "models", "trailing")
	os.MkdirAll(dir, 0o755)
	data, _ := os.ReadFile(filepath.Join(root, "models/qwen2-tiny/config.json"))
	os.WriteFile(filepath.Join(dir, "config.json"), append(data, []byte(fmt.Sprintf("\n{\"x\": %d}", 1))...), 0o644)
	return "models/trailing"
}
