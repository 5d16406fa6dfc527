package runner

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"
)

// WriteNpy writes rows as a float32 [len(rows), len(rows[0])] .npy file
// (format version 1.0). The runner carries its own writer so that a
// generated runner has no dependency beyond the packages copied with it.
func WriteNpy(path string, rows [][]float32) error {
	cols := 0
	if len(rows) > 0 {
		cols = len(rows[0])
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", len(rows), cols)
	// Magic (6) + version (2) + length (2) + header + newline, padded to 64.
	pad := 63 - (10+len(header))%64
	header += strings.Repeat(" ", pad) + "\n"
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(header)))
	w.WriteString(header)
	var b [4]byte
	for i, r := range rows {
		if len(r) != cols {
			f.Close()
			return fmt.Errorf("%s: row %d has %d values, row 0 has %d", path, i, len(r), cols)
		}
		for _, v := range r {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			w.Write(b[:])
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
