package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// PrintTable writes the summary table: figure, value, reference, ratio,
// target and whether the target is met.
func PrintTable(w io.Writer, r *Report) error {
	fmt.Fprintf(w, "leadstream bench: %s, %d cores (%s), go %s, quick=%v, %.0fs\n\n",
		r.Machine.CPU, r.Machine.Cores, r.Machine.OS, r.Machine.Go, r.Quick, r.Seconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\treference\tratio\ttarget\tmet?\t")
	fmt.Fprintln(tw, "------\t-----\t---------\t-----\t------\t----\t")
	for _, f := range r.Figures {
		fmt.Fprintln(tw, strings.Join(row(f), "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print table: %w", err)
	}
	notes(w, r)
	return nil
}

// row returns the cells of one figure.
func row(f Figure) []string {
	if f.Missing {
		return []string{f.Name, "n/a", "", "", f.Target.String(), "-"}
	}
	value := num(f.Value) + " " + f.Unit
	ref, ratio := "", ""
	if f.Reference != 0 {
		ref = num(f.Reference) + " " + f.Unit
		ratio = fmt.Sprintf("%.2f", f.Ratio())
	}
	met := "-"
	if ok, has := f.Met(); has && ok {
		met = "yes"
	} else if has {
		met = "NO"
	}
	return []string{f.Name, value, ref, ratio, f.Target.String(), met}
}

// notes lists the references and conditions under the table.
func notes(w io.Writer, r *Report) {
	fmt.Fprintln(w)
	for _, f := range r.Figures {
		var parts []string
		if f.RefName != "" {
			parts = append(parts, "ref: "+f.RefName)
		}
		if f.Note != "" {
			parts = append(parts, f.Note)
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "  %s: %s\n", f.Name, strings.Join(parts, "; "))
		}
	}
}
