package runnergen

import (
	"github.com/dave/jennifer/jen"

	"github.com/irc-compiler/irc/runtime/schedule"
)

// scheduleFile writes a schedule as one Go variable, name: buffers,
// kernels and the launch tables, one launch per line.
func scheduleFile(s *schedule.Schedule, name string) ([]byte, error) {
	f := jen.NewFile("main")
	header(f)
	q := func(name string) *jen.Statement { return jen.Qual(schedulePkg, name) }
	var buffers []jen.Code
	for _, b := range s.Buffers {
		d := jen.Dict{
			jen.Id("Name"):  jen.Lit(b.Name),
			jen.Id("Kind"):  q(kindConst[b.Kind]),
			jen.Id("DType"): jen.Lit(string(b.DType)),
			jen.Id("Shape"): ints(b.Shape),
			jen.Id("Bytes"): lit64(b.Bytes),
		}
		if b.File != "" {
			d[jen.Id("File")], d[jen.Id("Tensor")] = jen.Lit(b.File), jen.Lit(b.Tensor)
		}
		if len(b.Parts) > 0 {
			var parts []jen.Code
			for _, p := range b.Parts {
				parts = append(parts, jen.Values(jen.Dict{
					jen.Id("Name"): jen.Lit(p.Name), jen.Id("File"): jen.Lit(p.File), jen.Id("Tensor"): jen.Lit(p.Tensor),
					jen.Id("Shape"): ints(p.Shape), jen.Id("Offset"): lit64(p.Offset),
				}))
			}
			d[jen.Id("Parts")] = jen.Index().Add(q("Part")).Values(parts...)
		}
		if b.Data != nil {
			d[jen.Id("Data")] = jen.Index().Byte().Parens(jen.Lit(string(b.Data)))
		}
		buffers = append(buffers, jen.Values(d))
	}
	var kernels []jen.Code
	for _, k := range s.Kernels {
		kernels = append(kernels, jen.Lit(k))
	}
	var graphs []jen.Code
	for _, g := range s.Graphs {
		var launches []jen.Code
		for _, l := range g.Launches {
			launches = append(launches, jen.Line().Add(launch(l)))
		}
		var inputs, outputs []jen.Code
		for _, b := range g.Inputs {
			inputs = append(inputs, jen.Lit(b))
		}
		for _, t := range g.Outputs {
			outputs = append(outputs, jen.Values(jen.Dict{
				jen.Id("Buf"): jen.Lit(t.Buf), jen.Id("Offset"): lit64(t.Offset), jen.Id("DType"): jen.Lit(string(t.DType)),
				jen.Id("Shape"): ints(t.Shape), jen.Id("Strides"): ints(t.Strides),
			}))
		}
		d := jen.Dict{
			jen.Id("Name"):     jen.Lit(g.Name),
			jen.Id("Inputs"):   jen.Index().Int().Values(inputs...),
			jen.Id("Outputs"):  jen.Index().Add(q("Tensor")).Values(outputs...),
			jen.Id("Launches"): jen.Index().Add(q("Launch")).Values(append(launches, jen.Line())...),
		}
		if len(g.Trace) > 0 {
			d[jen.Id("Trace")] = traceTable(g.Trace)
		}
		graphs = append(graphs, jen.Values(d))
	}
	var eos []jen.Code
	for _, id := range s.Model.EOS {
		eos = append(eos, lit64(id))
	}
	f.Comment(name + " is a kernel schedule: device buffers, kernels and one launch table per graph.")
	f.Var().Id(name).Op("=").Op("&").Add(q("Schedule")).Values(jen.Dict{
		jen.Id("Model"): q("Model").Values(jen.Dict{
			jen.Id("Name"): jen.Lit(s.Model.Name), jen.Id("Vocab"): lit64(s.Model.Vocab),
			jen.Id("MaxCacheLen"): lit64(s.Model.MaxCacheLen), jen.Id("EOS"): jen.Index().Int64().Values(eos...),
		}),
		jen.Id("Buffers"): jen.Index().Add(q("Buffer")).Values(buffers...),
		jen.Id("Kernels"): jen.Index().String().Values(kernels...),
		jen.Id("Argmax"): q("Argmax").Values(jen.Dict{
			jen.Id("Launch"): q("Launch").Add(launch(s.Argmax.Launch)), jen.Id("Row"): jen.Lit(s.Argmax.Row),
			jen.Id("Count"): jen.Lit(s.Argmax.Count), jen.Id("Out"): jen.Lit(s.Argmax.Out),
		}),
		jen.Id("TopK"): q("TopK").Values(jen.Dict{
			jen.Id("Part"): q("Launch").Add(launch(s.TopK.Part)), jen.Id("Merge"): q("Launch").Add(launch(s.TopK.Merge)),
			jen.Id("Row"): jen.Lit(s.TopK.Row), jen.Id("Count"): jen.Lit(s.TopK.Count),
			jen.Id("PartK"): jen.Lit(s.TopK.PartK), jen.Id("MergeK"): jen.Lit(s.TopK.MergeK),
			jen.Id("Vals"): jen.Lit(s.TopK.Vals), jen.Id("IDs"): jen.Lit(s.TopK.IDs),
		}),
		jen.Id("Gumbel"): q("Gumbel").Values(jen.Dict{
			jen.Id("Launch"): q("Launch").Add(launch(s.Gumbel.Launch)), jen.Id("Row"): jen.Lit(s.Gumbel.Row),
			jen.Id("Count"): jen.Lit(s.Gumbel.Count), jen.Id("Params"): jen.Lit(s.Gumbel.Params), jen.Id("Out"): jen.Lit(s.Gumbel.Out),
		}),
		jen.Id("Graphs"): jen.Index().Add(q("Graph")).Values(graphs...),
	})
	return render(f)
}

// launch writes one launch on one line: field: value pairs given as a list
// (not a Dict) stay on one line.
func launch(l schedule.Launch) jen.Code {
	q := func(name string) *jen.Statement { return jen.Qual(schedulePkg, name) }
	var args []jen.Code
	for _, a := range l.Args {
		switch a.Kind {
		case schedule.TensorArg:
			args = append(args, q("T").Call(jen.Lit(a.Buf), lit64(a.Off)))
		case schedule.IntArg:
			args = append(args, q("I").Call(lit64(a.Int)))
		case schedule.FloatArg:
			args = append(args, q("F").Call(jen.Lit(a.F)))
		}
	}
	fields := []jen.Code{
		field("Kernel", jen.Lit(l.Kernel)),
		field("Global", jen.Index(jen.Lit(3)).Int().Values(jen.Lit(l.Global[0]), jen.Lit(l.Global[1]), jen.Lit(l.Global[2]))),
		field("Local", jen.Index(jen.Lit(3)).Int().Values(jen.Lit(l.Local[0]), jen.Lit(l.Local[1]), jen.Lit(l.Local[2]))),
	}
	if l.Shared != 0 {
		fields = append(fields, field("Shared", jen.Lit(l.Shared)))
	}
	if l.ArenaBytes != 0 {
		fields = append(fields, field("ArenaBytes", lit64(l.ArenaBytes)))
	}
	fields = append(fields, field("Part", jen.Lit(l.Part)), field("Node", jen.Lit(l.Node)), field("Args", jen.Index().Add(q("Arg")).Values(args...)))
	if l.CPU != nil {
		fields = append(fields, field("CPU", jen.Op("&").Add(q("Launch")).Add(launch(*l.CPU))))
	}
	return jen.Values(fields...)
}

var kindConst = map[schedule.BufferKind]string{schedule.Arena: "Arena", schedule.Weight: "Weight", schedule.State: "State", schedule.Input: "Input", schedule.Constant: "Constant", schedule.Result: "Result"}

func ints(xs []int64) jen.Code {
	var vs []jen.Code
	for _, x := range xs {
		vs = append(vs, lit64(x))
	}
	return jen.Index().Int64().Values(vs...)
}

func field(name string, value jen.Code) jen.Code { return jen.Id(name).Op(":").Add(value) }

// lit64 writes an int64 as an untyped constant (jen.Lit would wrap it in a
// conversion).
func lit64(v int64) jen.Code { return jen.Lit(int(v)) }
