package passes

import (
	"fmt"
	"strings"
)

// TargetNames lists the targets the passes know by themselves: ref (the
// reference runtime: every pass) and none (stops before placement, so the
// graphs carry no partitions). A GPU backend (codegen/backend) is a target
// too, with every pass: placement names it as the device.
func TargetNames() []string { return []string{"ref", "none"} }

// DefaultPipeline returns the default pipeline of a target: every pass in
// canonical order, or for none all but placement.
func DefaultPipeline(target string) ([]string, error) {
	switch target {
	case "":
		return nil, fmt.Errorf("no target given (want ref, none or a GPU backend)")
	case "none":
		var out []string
		for _, n := range Names() {
			if n != "partition" {
				out = append(out, n)
			}
		}
		return out, nil
	}
	return Names(), nil
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
