//go:build cgo

package metal

const cgoEnabled = true
