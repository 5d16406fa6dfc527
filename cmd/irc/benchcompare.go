package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/irc-compiler/irc/bench"
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

Each result's top-level executor is compared (whole when both were measured). Labels
default to target and device when those differ, else to the file names.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
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
			if len(bench.Speedups(a, b)) == 0 {
				return fmt.Errorf("%s and %s measured no position in common", args[0], args[1])
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
