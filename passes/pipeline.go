package passes

import (
	"fmt"
	"strings"
)

// Targets the pipeline knows. Each has a default pipeline; "none" stops
// before placement, so its graphs carry no partitions.
var targets = map[string][]string{
	"ref":    Names(),
	"opencl": Names(),
	"none":   withoutPass(Names(), "partition"),
}

// TargetNames lists the targets ParsePipeline accepts.
func TargetNames() []string { return []string{"ref", "opencl", "none"} }

func withoutPass(names []string, drop string) []string {
	var out []string
	for _, n := range names {
		if n != drop {
			out = append(out, n)
		}
	}
	return out
}

// DefaultPipeline returns the default pipeline of a target.
func DefaultPipeline(target string) ([]string, error) {
	p, ok := targets[target]
	if !ok {
		return nil, fmt.Errorf("unknown target %q (want one of %s)", target, strings.Join(TargetNames(), ", "))
	}
	return append([]string(nil), p...), nil
}

// ParsePipeline reads a --passes value: "" for the target's default, "none"
// for no passes, or a comma-separated list of pass names in a legal order.
func ParsePipeline(spec, target string) ([]string, error) {
	switch strings.TrimSpace(spec) {
	case "":
		return DefaultPipeline(target)
	case "none":
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		if Lookup(name) == nil {
			return nil, fmt.Errorf("--passes: unknown pass %q (passes: %s)", name, strings.Join(Names(), ", "))
		}
		if seen[name] {
			return nil, fmt.Errorf("--passes: pass %q listed twice", name)
		}
		seen[name] = true
		out = append(out, name)
	}
	if err := checkOrder(out); err != nil {
		return nil, fmt.Errorf("--passes: %v", err)
	}
	return out, nil
}

// ParsePassSet reads a --dump-after/--dump-before/--explain value: "all" or
// a comma-separated list of pass names.
func ParsePassSet(flag, spec string) (map[string]bool, error) {
	set := map[string]bool{}
	if spec == "" {
		return set, nil
	}
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		if name == "all" {
			for _, p := range table {
				set[p.Name] = true
			}
			continue
		}
		if Lookup(name) == nil {
			return nil, fmt.Errorf("%s: unknown pass %q (passes: %s, or all)", flag, name, strings.Join(Names(), ", "))
		}
		set[name] = true
	}
	return set, nil
}
