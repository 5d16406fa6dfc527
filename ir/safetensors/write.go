package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// WriteTensor is one tensor to write.
type WriteTensor struct {
	Name  string
	DType DType
	Shape []int64
	Data  []byte
}

// Write writes a safetensors file deterministically: tensors in name order,
// header keys sorted (encoding/json sorts map keys), the header padded with
// spaces to a multiple of 8 so the data section is aligned.
func Write(path string, tensors []WriteTensor, meta map[string]string) error {
	sorted := append([]WriteTensor(nil), tensors...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	header := map[string]any{}
	md := map[string]string{"format": "pt"}
	for k, v := range meta {
		md[k] = v
	}
	header["__metadata__"] = md
	var offset int64
	for _, t := range sorted {
		n := int64(t.DType.Size())
		for _, d := range t.Shape {
			n *= d
		}
		if t.DType.Size() == 0 || n != int64(len(t.Data)) {
			return fmt.Errorf("%s: tensor %q: %d bytes given for %s%v", path, t.Name, len(t.Data), t.DType, t.Shape)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("%s: tensor %q given twice", path, t.Name)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int64{}
		}
		header[t.Name] = map[string]any{"dtype": t.DType, "shape": shape, "data_offsets": []int64{offset, offset + n}}
		offset += n
	}
	js, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(js)))
	b.Write(js)
	for _, t := range sorted {
		b.Write(t.Data)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
