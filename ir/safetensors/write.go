package safetensors

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"
)

// WriteTensor is one tensor to write: its raw little-endian bytes.
type WriteTensor struct {
	Name  string
	DType DType
	Shape []int64
	Data  []byte
}

// Write writes a safetensors file. The output is a function of the
// arguments alone, so fixtures and golden files are stable: tensors are laid
// out in name order, the header's keys are sorted, and the header is padded
// with spaces to a multiple of 8 bytes so that the data section starts
// aligned. meta is merged over {"format": "pt"}, which the Python loaders
// expect. Each tensor's Data must be exactly product(Shape)*DType.Size()
// bytes. The file appears atomically (written aside, then renamed), so on
// error nothing is left behind and an existing file is untouched.
func Write(path string, tensors []WriteTensor, meta map[string]string) error {
	header, sorted, err := buildHeader(tensors, meta)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// Write a temporary file and rename it into place: a reader that has
	// the old file mapped keeps its pages instead of faulting on a
	// truncated file, and a failed write leaves nothing half-written.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(header)))
	w.Write(lenBuf[:])
	w.Write(header)
	for _, t := range sorted {
		w.Write(t.Data)
	}
	// bufio.Writer keeps the first write error and Flush returns it.
	err = w.Flush()
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes 0600; weights are not secret
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// buildHeader validates the tensors and returns the padded JSON header and
// the tensors in the order their bytes are written.
func buildHeader(tensors []WriteTensor, meta map[string]string) ([]byte, []WriteTensor, error) {
	sorted := slices.Clone(tensors)
	slices.SortFunc(sorted, func(a, b WriteTensor) int { return cmp.Compare(a.Name, b.Name) })
	type entry struct {
		DType       DType    `json:"dtype"`
		Shape       []int64  `json:"shape"`
		DataOffsets [2]int64 `json:"data_offsets"`
	}
	// A map marshals with sorted keys, which is what makes the header
	// deterministic; __metadata__ sorts among the tensor names.
	header := make(map[string]any, len(sorted)+1)
	md := map[string]string{"format": "pt"}
	for k, v := range meta {
		md[k] = v
	}
	header[metadataKey] = md
	var offset int64
	for i, t := range sorted {
		if t.Name == metadataKey {
			return nil, nil, fmt.Errorf("tensor name %q is reserved for metadata", t.Name)
		}
		if !utf8.ValidString(t.Name) { // JSON would silently replace the bad bytes
			return nil, nil, fmt.Errorf("tensor name %q is not valid UTF-8", t.Name)
		}
		if i > 0 && sorted[i-1].Name == t.Name {
			return nil, nil, fmt.Errorf("tensor %q is given twice", t.Name)
		}
		n, err := byteSize(t.DType, t.Shape)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %w", t.Name, err)
		}
		if n != int64(len(t.Data)) {
			return nil, nil, fmt.Errorf("tensor %q: %d bytes of data, but %s %v needs %d", t.Name, len(t.Data), t.DType, t.Shape, n)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int64{} // a scalar: "shape": [], never null
		}
		header[t.Name] = entry{t.DType, shape, [2]int64{offset, offset + n}}
		offset += n
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep names like "a<b" readable; both forms are valid JSON
	if err := enc.Encode(header); err != nil {
		return nil, nil, err
	}
	js := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	return js, sorted, nil
}
