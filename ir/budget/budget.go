// Package budget sizes allocations that inputs ask for before they are
// made: element counts are multiplied with overflow checks, and a size that
// is legal but larger than what this process can get (the machine's
// available memory, or the address-space limit of ulimit -v) is refused
// with one line naming what asked for it, instead of the Go runtime's
// fatal out-of-memory. It is copied into every generated runner.
package budget

import (
	"bufio"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Elements multiplies dimensions into an element count, or reports that
// the product overflows int64 (or a dimension is negative).
func Elements(dims ...int64) (int64, bool) {
	n := uint64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = lo
	}
	return int64(n), true
}

// Bytes is elements of size bytes each, or false on overflow.
func Bytes(elements, size int64) (int64, bool) { return Elements(elements, size) }

// Available is how many bytes this process can still expect to allocate:
// the smaller of the machine's available memory and what the address-space
// limit leaves. Where neither can be read it is a generous 1 TiB.
func Available() int64 {
	avail := int64(1 << 40)
	if m, ok := memAvailable(); ok {
		avail = min(avail, m)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &lim); err == nil && lim.Cur != math.MaxUint64 && lim.Cur < 1<<62 {
		left := int64(lim.Cur)
		if vm, ok := vmSize(); ok {
			left -= vm
		}
		avail = min(avail, max(left, 0))
	}
	return avail
}

// Check refuses an allocation of n bytes for what when it exceeds
// Available.
func Check(what string, n int64) error {
	if avail := Available(); n > avail {
		return fmt.Errorf("%s needs %s, more than the %s this process can allocate", what, Format(n), Format(avail))
	}
	return nil
}

// Format prints a byte count for people: B, KiB, MiB or GiB (what the
// dumps, the import summary and the refusals print).
func Format(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// memAvailable reads MemAvailable from /proc/meminfo (Linux).
func memAvailable() (int64, bool) { return procField("/proc/meminfo", "MemAvailable:") }

// vmSize is this process's virtual size, which counts against RLIMIT_AS.
func vmSize() (int64, bool) { return procField("/proc/self/status", "VmSize:") }

// procField reads a "Name: N kB" line of a /proc file, in bytes.
func procField(path, name string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == name {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil || kb < 0 || kb > math.MaxInt64/1024 {
				return 0, false
			}
			return kb * 1024, true
		}
	}
	return 0, false
}
