package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/irc-compiler/irc/bench"
	"github.com/irc-compiler/irc/runtime/runner"
)

func newBenchCompareCmd() *cobra.Command {
	var chart, labels string
	cmd := &cobra.Command{
		Use:   "compare A.json B.json [--chart FILE.png] [--labels A,B]",
		Short: "Set two bench results side by side, with B's speed-up over A",
		Long: `Compare reads two irc bench results (two backends, two devices, or before and after a
change), prints the seed's comparison table at the positions both measured, with B's
speed-up over A (A's step time / B's), and with --chart draws both runs' tokens/s and
step time over position and the speed-up per position.

Each result's top-level executor is compared (whole when both were measured). Rows
pair by position value; a file that lists a position twice is refused (naming the
file and the position), and positions only one file measured are named on stderr
and left out. Each file is checked against bench/schema.json (embedded in irc)
first. Labels default to target and device when those differ, else to the file
names. An existing --chart file is overwritten.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if chart != "" && !strings.EqualFold(filepath.Ext(chart), ".png") {
				return fmt.Errorf("--chart %s: charts are PNG files, name it .png", chart)
			}
			if err := runner.CheckOutputFile("--chart", chart); err != nil {
				return err
			}
			a, err := bench.Read(args[0])
			if err != nil {
				return err
			}
			b, err := bench.Read(args[1])
			if err != nil {
				return err
			}
			la, lb := compareLabels(a, b, args[0], args[1])
			if labels != "" {
				parts := strings.Split(labels, ",")
				if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
					return fmt.Errorf("--labels %q: want two labels, A,B", labels)
				}
				la, lb = parts[0], parts[1]
			}
			onlyA, onlyB := bench.Unpaired(a, b)
			if len(bench.Speedups(a, b)) == 0 {
				return fmt.Errorf("%s and %s measured no position in common (%s measured %s, %s measured %s)", args[0], args[1], args[0], ints(onlyA), args[1], ints(onlyB))
			}
			// Rows pair by position; say what is left out.
			for _, only := range []struct {
				path string
				ps   []int64
			}{{args[0], onlyA}, {args[1], onlyB}} {
				if len(only.ps) > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "positions only in %s (not compared): %s\n", only.path, ints(only.ps))
				}
			}
			bench.WriteCompareTable(cmd.OutOrStdout(), a, b, la, lb)
			if chart != "" {
				if err := bench.CompareChart(a, b, la, lb, chart); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", chart)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&chart, "chart", "", "draw both runs and the speed-up to this PNG file")
	cmd.Flags().StringVar(&labels, "labels", "", "names of the two runs in tables and charts, A,B")
	return cmd
}

// ints is a list of positions, comma-separated.
func ints(ps []int64) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.FormatInt(p, 10)
	}
	return strings.Join(s, ",")
}

// compareLabels names two results by what differs between them.
func compareLabels(a, b *bench.Result, pathA, pathB string) (string, string) {
	switch {
	case a.Target != b.Target:
		return a.Target, b.Target
	case a.Device != b.Device:
		return a.Device, b.Device
	}
	return strings.TrimSuffix(filepath.Base(pathA), ".json"), strings.TrimSuffix(filepath.Base(pathB), ".json")
}
