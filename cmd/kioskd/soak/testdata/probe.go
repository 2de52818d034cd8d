package main

// Soak-test instrumentation. cmd/kioskd/soak compiles this file into its own kioskd with
// `go build -overlay`; the product never contains it. With CITIZENHOME_SOAK_PROBE naming a unix
// socket, it serves there GET /probe (goroutines and heap, JSON) and GET /goroutines (every
// goroutine's stack, to see what leaked). Nothing else changes.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
)

func init() {
	path := os.Getenv("CITIZENHOME_SOAK_PROBE")
	if path == "" {
		return
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak probe:", err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /probe", func(w http.ResponseWriter, _ *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = json.NewEncoder(w).Encode(map[string]uint64{
			"goroutines": uint64(runtime.NumGoroutine()),
			"heap_alloc": ms.HeapAlloc, "heap_inuse": ms.HeapInuse, "sys": ms.Sys, "num_gc": uint64(ms.NumGC),
		})
	})
	mux.HandleFunc("GET /goroutines", func(w http.ResponseWriter, _ *http.Request) {
		_ = pprof.Lookup("goroutine").WriteTo(w, 1)
	})
	go func() { _ = http.Serve(ln, mux) }()
}
