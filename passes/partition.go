package passes

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/irc-compiler/irc/ir"
	"github.com/irc-compiler/irc/ir/budget"
)

// CPUDevice names the device of partitions that run on the CPU (the ref runtime).
const CPUDevice = "cpu"

// runPartition gives every node a placement: the partition of the graph's
// DAG that runs it and that partition's device. Each node belongs to a stage:
// "pre" (embedding, positions, mask), decoder layer i (it reads layer i's
// weights, or a value of layer i), or "head" (final norm and logits); a
// stage never reads a later one, so ordering nodes by partition keeps the
// graph in execution order. Where a value crosses devices an explicit
// transfer node moves it, once per destination device. A layer's KV cache
// goes with its attention, since the cache_write is in that layer's stage.
func runPartition(c *Context) {
	g, opt := c.Graph, c.Options
	hadTransfer := dropTransfers(g)
	layers := int(c.Model.Meta.NumLayers)
	target := opt.Target
	if target == "" {
		target = "target"
	}
	stage := map[*ir.Value]int{}
	stageOf := func(n *ir.Node) int {
		s := -1
		for _, in := range n.Inputs {
			switch in.Kind {
			case ir.WeightValue:
				s = max(s, weightStage(in.Name, layers))
			case ir.Local:
				s = max(s, stage[in])
			}
		}
		return s
	}
	onTarget := func(s int) bool {
		return opt.GPULayers < 0 || min(max(s, 0), layers-1) < opt.GPULayers
	}
	type place struct {
		part   int
		device string
	}
	placeOf := func(s int) place {
		dev := CPUDevice
		if onTarget(s) {
			dev = target
		}
		if opt.Partition == "layer" {
			return place{s + 1, dev}
		}
		if dev == target {
			return place{0, dev}
		}
		if opt.GPULayers == 0 {
			return place{0, dev}
		}
		return place{1, dev}
	}
	places := map[*ir.Node]place{}
	for _, n := range g.Nodes {
		c.candidate()
		s := stageOf(n)
		for _, o := range n.Outputs {
			stage[o] = s
		}
		places[n] = placeOf(s)
	}
	nodes := slices.Clone(g.Nodes)
	slices.SortStableFunc(nodes, func(a, b *ir.Node) int { return places[a].part - places[b].part })
	// Renumber partitions densely in execution order.
	dense := map[int]int{}
	for _, n := range nodes {
		if _, ok := dense[places[n].part]; !ok {
			dense[places[n].part] = len(dense)
		}
	}
	device := map[*ir.Value]string{}
	moved := map[string]*ir.Value{} // value name + destination -> transferred copy
	names := valueNames(g)
	out := make([]*ir.Node, 0, len(nodes))
	for _, n := range nodes {
		p := places[n]
		p.part = dense[p.part]
		for i, in := range n.Inputs {
			from, ok := device[in]
			if !ok || from == p.device {
				continue
			}
			key := in.Name + "\x00" + p.device
			t := moved[key]
			if t == nil {
				name := freshName(names, in.Name+".to_"+p.device)
				tn := &ir.Node{Op: "transfer", Inputs: []*ir.Value{in},
					Attrs: ir.Attrs{"to": p.device, ir.AttrPartition: int64(p.part), ir.AttrDevice: p.device}}
				t = &ir.Value{Name: name, Type: in.Type, Def: tn}
				tn.Outputs = []*ir.Value{t}
				out = append(out, tn)
				device[t] = p.device
				moved[key] = t
				if !hadTransfer[key] {
					c.rewrote()
				}
			}
			n.Inputs[i] = t
		}
		if n.Attrs == nil {
			n.Attrs = ir.Attrs{}
		}
		if old, ok := n.Attrs[ir.AttrPartition].(int64); !ok || old != int64(p.part) || n.Attrs.String(ir.AttrDevice) != p.device {
			c.rewrote() // (re)placed
		}
		n.Attrs[ir.AttrPartition] = int64(p.part)
		n.Attrs[ir.AttrDevice] = p.device
		for _, o := range n.Outputs {
			device[o] = p.device
		}
		out = append(out, n)
	}
	g.Nodes = out
}

// dropTransfers undoes an earlier placement's transfers, so partitioning a
// placed graph again places it afresh. It returns which (value, device)
// transfers there were.
func dropTransfers(g *ir.Graph) map[string]bool {
	had := map[string]bool{}
	r := newRewriter(g)
	for _, n := range g.Nodes {
		if n.Op == "transfer" {
			r.substitute(n.Outputs[0], n.Inputs[0])
			had[n.Inputs[0].Name+"\x00"+n.Attrs.String("to")] = true
		}
	}
	r.commit()
	return had
}

// weightStage is the stage a weight belongs to: its decoder layer for
// model.layers.N.*, "pre" (-1) for the token embedding, "head" (layers)
// for everything else (final norm, lm_head).
func weightStage(name string, layers int) int {
	if rest, ok := strings.CutPrefix(name, "model.layers."); ok {
		if i := strings.IndexByte(rest, '.'); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				return n
			}
		}
	}
	if strings.HasPrefix(name, "model.embed_tokens.") {
		return -1
	}
	return layers
}

// Partition is one node of a placed graph's DAG.
type Partition struct {
	Index         int      `json:"index"`
	Device        string   `json:"device"`
	Nodes         int      `json:"nodes"`
	Layers        string   `json:"layers"`                  // which decoder layers' weights it reads, e.g. "0-13"
	Embedding     bool     `json:"embedding"`               // it reads the token embedding as the input lookup
	Head          bool     `json:"head"`                    // it reads the final norm or output weights
	WeightBytes   int64    `json:"weight_bytes"`            // bytes of the weights it reads (resident on its device)
	Inputs        []string `json:"inputs"`                  // values it reads from other partitions or the caller
	Outputs       []string `json:"outputs"`                 // values other partitions or the caller read
	States        []string `json:"states,omitempty"`        // KV caches it reads and writes
	StateBytes    int64    `json:"state_bytes"`             // their size
	Transfers     []string `json:"transfers,omitempty"`     // values moved onto its device
	TransferBytes int64    `json:"transfer_bytes_per_step"` // bytes those transfers move per step
}

// Partitions reads a placed graph's DAG back from its nodes' placement
// attributes; it is empty for a graph that was not partitioned.
func Partitions(g *ir.Graph) []*Partition {
	var parts []*Partition
	partOf := map[*ir.Value]int{}
	layerSet := map[int]map[int]bool{}
	weightSeen := map[[2]any]bool{}
	at := func(i int) *Partition {
		for len(parts) <= i {
			parts = append(parts, &Partition{Index: len(parts)})
			layerSet[len(parts)-1] = map[int]bool{}
		}
		return parts[i]
	}
	for _, n := range g.Nodes {
		i, ok := n.Attrs[ir.AttrPartition].(int64)
		if !ok {
			return nil
		}
		p := at(int(i))
		p.Device = n.Attrs.String(ir.AttrDevice)
		p.Nodes++
		for _, in := range n.Inputs {
			switch in.Kind {
			case ir.Input:
				addOnce(&p.Inputs, ir.Ref(in))
			case ir.StateValue:
				if !slices.Contains(p.States, ir.Ref(in)) {
					p.States = append(p.States, ir.Ref(in))
					p.StateBytes += in.Type.Bytes()
				}
			case ir.WeightValue:
				if key := [2]any{p.Index, in}; !weightSeen[key] {
					weightSeen[key] = true
					p.WeightBytes += in.Type.Bytes()
				}
				switch s := weightStage(in.Name, 1<<30); {
				case s == 1<<30:
					p.Head = true
				case s >= 0:
					layerSet[p.Index][s] = true
				case n.Op == "embedding":
					p.Embedding = true
				default: // a tied embedding read as the output layer
					p.Head = true
				}
			case ir.Local:
				if from := partOf[in]; from != p.Index {
					addOnce(&p.Inputs, ir.Ref(in))
					addOnce(&parts[from].Outputs, ir.Ref(in))
				}
			}
		}
		if n.Op == "transfer" {
			p.Transfers = append(p.Transfers, ir.Ref(n.Inputs[0]))
			p.TransferBytes += n.Outputs[0].Type.Bytes()
		}
		for _, o := range n.Outputs {
			partOf[o] = p.Index
		}
	}
	for _, o := range g.Outputs {
		if i, ok := partOf[o]; ok {
			addOnce(&parts[i].Outputs, ir.Ref(o))
		}
	}
	for _, p := range parts {
		p.Layers = spans(layerSet[p.Index])
	}
	return parts
}

func addOnce(list *[]string, s string) {
	if !slices.Contains(*list, s) {
		*list = append(*list, s)
	}
}

// spans prints a set of layer numbers as "0-3,7".
func spans(set map[int]bool) string {
	var ks []int
	for k := range set {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	var parts []string
	for i := 0; i < len(ks); {
		j := i
		for j+1 < len(ks) && ks[j+1] == ks[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(ks[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ks[i], ks[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// describePartitions prints one line per partition and a total.
func describePartitions(parts []*Partition) []string {
	var lines []string
	var total int64
	for _, p := range parts {
		var holds []string
		if p.Embedding {
			holds = append(holds, "embedding")
		}
		if p.Layers != "" {
			holds = append(holds, "layers "+p.Layers)
		}
		if p.Head {
			holds = append(holds, "head")
		}
		if len(holds) == 0 {
			holds = append(holds, "no weights")
		}
		line := fmt.Sprintf("p%d on %s: %s (%s of weights), %d nodes, reads %s, gives %s", p.Index, p.Device, strings.Join(holds, " + "),
			budget.Format(p.WeightBytes), p.Nodes, listOrNone(p.Inputs), listOrNone(p.Outputs))
		if len(p.States) > 0 {
			line += fmt.Sprintf(", %d caches (%s)", len(p.States), budget.Format(p.StateBytes))
		}
		if len(p.Transfers) > 0 {
			line += fmt.Sprintf(", transfers in %s (%s/step)", strings.Join(p.Transfers, " "), budget.Format(p.TransferBytes))
		}
		lines = append(lines, line)
		total += p.TransferBytes
	}
	return append(lines, fmt.Sprintf("moved between devices per step: %s", budget.Format(total)))
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "nothing"
	}
	return strings.Join(l, " ")
}
