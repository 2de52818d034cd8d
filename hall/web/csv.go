package web

import (
	"bytes"
	"encoding/csv"
	"net/http"
)

// writeCSV sends a console report as an attachment named name: UTF-8 with a byte order mark
// (Excel reads a CSV without one in the system's code page, and the headers are Chinese),
// CRLF, the header first. A figure not known or not applicable is an empty cell (csvCell).
func writeCSV(w http.ResponseWriter, name string, header []string, rows [][]string) {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	cw := csv.NewWriter(&b)
	cw.UseCRLF = true
	_ = cw.Write(header)
	_ = cw.WriteAll(rows) // a bytes.Buffer does not fail
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// csvCell is a page's figure as a CSV cell: the pages' "—" (not known) is empty.
func csvCell(v string) string {
	if v == "—" {
		return ""
	}
	return v
}
