package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/irc-compiler/irc/codegen"
	"github.com/irc-compiler/irc/passes"
)

// irc compile: the stats JSON has the documented shape, dumps are numbered,
// written only for passes that changed the graph, and run as models; the
// compiled model generates what the imported one does.
func TestCompileContract(t *testing.T) {
	_, irpb := tinyModel(t, "qwen3-tiny")
	dir := filepath.Dir(irpb)
	stats := filepath.Join(dir, "stats.json")
	dumps := filepath.Join(dir, "dumps")
	out := filepath.Join(dir, "compiled", "model.ir")
	os.MkdirAll(filepath.Dir(out), 0o755)
	stdout, errOut, code := irc(t, "compile", irpb, "--target", "ref", "-o", out, "--stats-json", stats,
		"--dump-after=all", "--dump-dir", dumps, "--gpu-layers", "1", "--time-passes", "--stats", "--explain", "views")
	if code != 0 {
		t.Fatalf("compile failed: %s", errOut)
	}
	if !strings.Contains(stdout, "compiled") || !strings.Contains(errOut, "partition") || !strings.Contains(errOut, "candidates") {
		t.Fatalf("no summary, time table or stats:\n%s\n%s", stdout, errOut)
	}
	if strings.Contains(errOut, "explain ") {
		t.Errorf("the default pipeline declined candidates on a model it should fuse completely:\n%s", errOut)
	}
	// Alone, views meets repeat_kv (a broadcast axis merged with a real one)
	// and must say why it copies.
	if _, errOut, code := irc(t, "compile", irpb, "-o", filepath.Join(dir, "views.irpb"), "--passes", "views", "--explain", "views"); code != 0 ||
		!strings.Contains(errOut, "explain views: decode %l0.attn.repeat_kv: reshape of") || !strings.Contains(errOut, "a copy") {
		t.Errorf("--passes views --explain views: exit %d, stderr:\n%s", code, errOut)
	}
	var doc struct {
		GQAOp  string `json:"gqa_op"`
		Decode struct {
			Ops        map[string]int `json:"ops"`
			Copies     int            `json:"copies"`
			Partitions []struct {
				Device        string `json:"device"`
				TransferBytes int64  `json:"transfer_bytes_per_step"`
			} `json:"partitions"`
		} `json:"decode"`
		Prefill struct {
			Ops map[string]int `json:"ops"`
		} `json:"prefill"`
		Passes []struct {
			Pass string `json:"pass"`
		} `json:"passes"`
	}
	data, err := os.ReadFile(stats)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	// Two layers: the q/k norms stay rms_norm, the others are linear
	// prologues; decode merges q/k/v and gate/up (two concats each), so
	// four linears a layer and the head's; silu_mul is the glu epilogue.
	if doc.GQAOp == "" || doc.Decode.Ops[doc.GQAOp] != 0 || doc.Decode.Ops["attention"] != 2 || doc.Decode.Ops["rms_norm"] != 4 || doc.Decode.Ops["masked_softmax"] != 0 ||
		doc.Decode.Ops["linear"] != 9 || doc.Decode.Ops["concat"] != 4 || doc.Prefill.Ops["silu_mul"] != 0 {
		t.Errorf("stats: gqa_op %q, decode ops %v, prefill ops %v", doc.GQAOp, doc.Decode.Ops, doc.Prefill.Ops)
	}
	if doc.Decode.Copies != 0 || len(doc.Decode.Partitions) != 2 || doc.Decode.Partitions[1].Device != "cpu" || doc.Decode.Partitions[1].TransferBytes == 0 {
		t.Errorf("stats: decode copies %d, partitions %+v", doc.Decode.Copies, doc.Decode.Partitions)
	}
	if len(doc.Passes) == 0 {
		t.Errorf("stats: no pass counters")
	}
	files, _ := filepath.Glob(filepath.Join(dumps, "*.ir"))
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	// dce finds nothing dead in a fresh import, so it has no dump.
	last := fmt.Sprintf("%03d_partition.ir", len(passes.Names()))
	if len(names) == 0 || names[0] != "002_cse.ir" || names[len(names)-1] != last {
		t.Fatalf("dumps %v, want 002_cse.ir ... %s", names, last)
	}
	if text, _, code := irc(t, "dump", out); code != 0 || !strings.HasPrefix(text, "# graph prefill: 2 partitions") || !strings.Contains(text, "p1 on cpu: layers 1 + head") {
		t.Errorf("dump of the compiled model does not start with its partition DAG:\n%.600s", text)
	}
	dotDir := filepath.Join(dir, "dot")
	if _, errOut, code := irc(t, "compile", irpb, "-o", filepath.Join(dir, "d.irpb"), "--gpu-layers", "1", "--dump-after", "partition", "--dump-format", "dot", "--dump-dir", dotDir); code != 0 {
		t.Fatalf("dot dumps: %s", errOut)
	}
	if dot, err := os.ReadFile(filepath.Join(dotDir, last[:len(last)-3]+".dot")); err != nil || !strings.Contains(string(dot), `label="p1 on cpu"`) {
		t.Errorf("dot dump of the partition pass lacks the partition clusters (%v)", err)
	}
	want, _, code := irc(t, "run", irpb, "--passes", "none", "--tokens", "5,17,3", "--generate", "4")
	if code != 0 {
		t.Fatal("run --passes none failed")
	}
	// The compiled model and the dumps sit in folders beside the
	// checkpoint's: their weight files are outside, read on request.
	for _, model := range []string{out, filepath.Join(dumps, "006_rope.ir"), filepath.Join(dumps, last)} {
		got, errOut, code := irc(t, "run", model, "--passes", "none", "--tokens", "5,17,3", "--generate", "4", "--allow-weights-outside")
		if code != 0 || got != want {
			t.Errorf("%s generates %q (%s), the imported model %q", model, got, errOut, want)
		}
	}
	got, errOut, code := irc(t, "run", irpb, "--gpu-layers", "1", "--partition", "layer", "--tokens", "5,17,3", "--generate", "4")
	if code != 0 || got != want {
		t.Errorf("run --gpu-layers 1 generates %q (%s), want %q", got, errOut, want)
	}
}

func TestPipelineFlagErrors(t *testing.T) {
	_, irpb := tinyModel(t, "llama-tiny")
	out := filepath.Join(t.TempDir(), "x.irpb")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--passes", "views,rms_norm"}, "pass rms_norm must run before views"},
		{[]string{"--passes", "causal_bound,gqa"}, "pass gqa must run before causal_bound"},
		{[]string{"--passes", "fuse_everything"}, `unknown pass "fuse_everything"`},
		{[]string{"--passes", "dce,dce"}, "listed twice"},
		{[]string{"--target", "tpu"}, `unknown target "tpu"`},
		{[]string{"--explain", "nope"}, `--explain: unknown pass "nope"`},
		{[]string{"--dump-after", "all", "--dump-format", "svg"}, `unknown --dump-format "svg"`},
		{[]string{"--dump-dir", "d"}, "--dump-dir needs --dump-after or --dump-before"},
		{[]string{"--partition", "bytes"}, `unknown --partition "bytes"`},
		{[]string{"--gpu-layers", "-3"}, "--gpu-layers -3"},
		{[]string{"--target", "none", "--gpu-layers", "1"}, "--gpu-layers needs the partition pass"},
		{[]string{"--target", "opencl", "--bandwidth", "0"}, `--bandwidth "0": want a positive number of GB/s`},
		{[]string{"--target", "opencl", "--bandwidth", "-5"}, `--bandwidth "-5": want a positive number of GB/s`},
		{[]string{"--target", "opencl", "--bandwidth", "3TB/s"}, `--bandwidth "3TB/s": want a positive number of GB/s`},
		{[]string{"--target", "opencl", "--bandwidth", "NaN"}, `--bandwidth "NaN": want a positive number of GB/s`},
		{[]string{"--target", "opencl", "--bandwidth", "Inf"}, `--bandwidth "Inf": want a positive number of GB/s`},
		{[]string{"--bandwidth", "10"}, "--bandwidth: the ref target has no kernel schedule to bound"},
	} {
		args := append([]string{"compile", irpb, "-o", out}, tc.args...)
		_, errOut, code := irc(t, args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("irc %s: exit %d, stderr %q, want exit 1 and %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
	if _, errOut, code := irc(t, "compile", irpb); code != 1 || !strings.Contains(errOut, "-o OUT is required") {
		t.Errorf("compile without -o: exit %d, %q", code, errOut)
	}
}

// --stats-json writes the same document for every target (the opencl target
// writes a runner folder besides, and used to drop the stats): the op
// histograms after the pipeline, the partitions on the target's device, and
// the pass counters, causal_bound's among them. Its dump, numbered by its
// place after gqa, shows the bound on both halves of attention.
func TestCompileStatsJSONEveryTarget(t *testing.T) {
	_, irpb := tinyModel(t, "qwen2-tiny")
	dir := t.TempDir()
	type stats struct {
		GQAOp  string `json:"gqa_op"`
		Decode struct {
			Ops        map[string]int `json:"ops"`
			Partitions []struct {
				Device string `json:"device"`
			} `json:"partitions"`
			Roofline *codegen.Roofline `json:"roofline"`
		} `json:"decode"`
		Passes []struct {
			Pass     string `json:"pass"`
			Graph    string `json:"graph"`
			Rewrites int    `json:"rewrites"`
			Declined int    `json:"declined"`
		} `json:"passes"`
	}
	read := func(target string) stats {
		file := filepath.Join(dir, target+".json")
		out := filepath.Join(dir, target+".irpb")
		if target == "opencl" {
			out = filepath.Join(dir, "runner")
		}
		args := []string{"compile", irpb, "--target", target, "-o", out, "--stats-json", file}
		if target == "opencl" {
			args = append(args, "--bandwidth", "10")
		}
		if target == "ref" {
			args = append(args, "--explain", "causal_bound", "--dump-after", "causal_bound", "--dump-dir", filepath.Join(dir, "dumps"))
		}
		_, errOut, code := irc(t, args...)
		if code != 0 {
			t.Fatalf("compile --target %s: %s", target, errOut)
		}
		if strings.Contains(errOut, "explain causal_bound") {
			t.Errorf("causal_bound declined a candidate of the tiny model:\n%s", errOut)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("--target %s --stats-json: %v", target, err)
		}
		var s stats
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatalf("--target %s --stats-json: %v", target, err)
		}
		return s
	}
	ref, none, gpu := read("ref"), read("none"), read("opencl")
	if ref.GQAOp != passes.GQAOp || gpu.GQAOp != passes.GQAOp || ref.Decode.Ops["attention"] != 2 {
		t.Fatalf("gqa_op %q / %q, decode ops %v", ref.GQAOp, gpu.GQAOp, ref.Decode.Ops)
	}
	if fmt.Sprint(gpu.Decode.Ops) != fmt.Sprint(ref.Decode.Ops) || fmt.Sprint(none.Decode.Ops) != fmt.Sprint(ref.Decode.Ops) {
		t.Errorf("decode ops: opencl %v, none %v, ref %v", gpu.Decode.Ops, none.Decode.Ops, ref.Decode.Ops)
	}
	// The GPU target's stats hold the schedule's roofline, the figures of
	// the dump (codegen.Rooflines, tested there) at --bandwidth.
	if r := gpu.Decode.Roofline; r == nil || r.Graph != "decode" || r.WeightBytes <= 0 || r.StateBytes <= 0 || r.BandwidthGBs != 10 ||
		len(r.Points) != 2 || r.Points[1].FloorMs != float64(r.Points[1].Bytes)/1e7 {
		t.Errorf("opencl decode roofline %+v", r)
	}
	if ref.Decode.Roofline != nil || none.Decode.Roofline != nil {
		t.Errorf("a roofline without a schedule: ref %+v, none %+v", ref.Decode.Roofline, none.Decode.Roofline)
	}
	if len(gpu.Decode.Partitions) != 1 || gpu.Decode.Partitions[0].Device != "opencl" || len(none.Decode.Partitions) != 0 {
		t.Errorf("partitions: opencl %+v, none %+v", gpu.Decode.Partitions, none.Decode.Partitions)
	}
	for _, s := range []stats{ref, none, gpu} {
		bounded := 0
		for _, p := range s.Passes {
			if p.Pass == "causal_bound" {
				bounded += p.Rewrites
				if p.Declined != 0 {
					t.Errorf("causal_bound declined %d in %s", p.Declined, p.Graph)
				}
			}
		}
		if bounded != 8 { // 2 layers x 2 matmuls x 2 graphs
			t.Errorf("causal_bound rewrote %d grouped_matmuls, want 8", bounded)
		}
	}
	at := slices.Index(passes.Names(), "causal_bound") + 1
	dump, err := os.ReadFile(filepath.Join(dir, "dumps", fmt.Sprintf("%03d_causal_bound.ir", at)))
	if err != nil {
		t.Fatal(err)
	}
	if n, m := strings.Count(string(dump), `causal_bound="columns"`), strings.Count(string(dump), `causal_bound="reduction"`); n != 4 || m != 4 {
		t.Errorf("the causal_bound dump holds %d columns and %d reduction bounds, want 4 and 4", n, m)
	}
}
