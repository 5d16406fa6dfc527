package runner

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The bench protocol lets irc bench drive a runner it built (or one built
// elsewhere and carried): the runner (--bench-serve) loads its executors
// once, reads one request per line and answers each with one JSON line.
//
//	info                      -> [Report without timings, one per executor]
//	measure POSITION MIN_NS   -> {"ns": [median step time per executor], "steps": n}
//	                             (POSITION -1 is TTFT)
//
// A failed request answers {"error": "..."} and the runner carries on. A
// runner that cannot start serving (an executor fails to load: a bad
// --device, a missing weights file) writes one {"error": "..."} line and
// exits with status 1; the client reads it as the reply to its first
// request.

type measurement struct {
	Ns    []int64 `json:"ns"`
	Steps int     `json:"steps"`
	Error string  `json:"error,omitempty"`
}

// Serve answers bench requests from in on out with m until in ends.
func Serve(m Measurer, in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	enc := json.NewEncoder(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		var reply any
		switch {
		case len(f) == 1 && f[0] == "info":
			r, err := m.Info()
			if err != nil {
				reply = measurement{Error: err.Error()}
			} else {
				reply = r
			}
		case len(f) == 3 && f[0] == "measure":
			pos, err1 := strconv.ParseInt(f[1], 10, 64)
			minNs, err2 := strconv.ParseInt(f[2], 10, 64)
			if err1 != nil || err2 != nil {
				reply = measurement{Error: fmt.Sprintf("bad request %q: want measure POSITION MIN_NS", sc.Text())}
				break
			}
			if err := CheckMinTime(time.Duration(minNs)); err != nil {
				reply = measurement{Error: err.Error()}
				break
			}
			ds, n, err := m.Measure(pos, time.Duration(minNs))
			if err != nil {
				reply = measurement{Error: err.Error()}
				break
			}
			ns := make([]int64, len(ds))
			for i, d := range ds {
				ns[i] = int64(d)
			}
			reply = measurement{Ns: ns, Steps: n}
		default:
			reply = measurement{Error: fmt.Sprintf("unknown request %q (want info, or measure POSITION MIN_NS)", sc.Text())}
		}
		if err := enc.Encode(reply); err != nil {
			return err
		}
	}
	return sc.Err()
}

// ErrNoReply is a Client's error when the runner ended without answering.
var ErrNoReply = errors.New("the runner exited without a reply")

// Client is a Measurer that asks a serving runner over its stdin and
// stdout.
type Client struct {
	w  io.Writer
	sc *bufio.Scanner
}

// NewClient talks to a runner that reads requests from w and answers on r.
func NewClient(w io.Writer, r io.Reader) *Client {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	return &Client{w: w, sc: sc}
}

func (c *Client) call(req string, reply any) error {
	// A runner that failed to start has exited and may have left its
	// error on its stdout: read it even when the request cannot be sent.
	_, werr := fmt.Fprintln(c.w, req)
	if !c.sc.Scan() {
		if err := c.sc.Err(); err != nil {
			return fmt.Errorf("runner reply to %q: %w", req, err)
		}
		if werr != nil {
			return fmt.Errorf("runner request %q: %w (%w)", req, werr, ErrNoReply)
		}
		return fmt.Errorf("runner reply to %q: %w", req, ErrNoReply)
	}
	line := c.sc.Bytes()
	var failed measurement
	if json.Unmarshal(line, &failed) == nil && failed.Error != "" {
		return fmt.Errorf("%s", failed.Error)
	}
	if werr != nil {
		return fmt.Errorf("runner request %q: %w (%w)", req, werr, ErrNoReply)
	}
	if err := json.Unmarshal(line, reply); err != nil {
		return fmt.Errorf("runner reply to %q: %w: %q", req, err, line)
	}
	return nil
}

// Info implements Measurer.
func (c *Client) Info() ([]*Report, error) {
	var reps []*Report
	if err := c.call("info", &reps); err != nil {
		return nil, err
	}
	return reps, nil
}

// Measure implements Measurer.
func (c *Client) Measure(pos int64, minTime time.Duration) ([]time.Duration, int, error) {
	var m measurement
	if err := c.call(fmt.Sprintf("measure %d %d", pos, int64(minTime)), &m); err != nil {
		return nil, 0, err
	}
	ds := make([]time.Duration, len(m.Ns))
	for i, ns := range m.Ns {
		ds[i] = time.Duration(ns)
	}
	return ds, m.Steps, nil
}
