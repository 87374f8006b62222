// The kubelet's container-log endpoint, so `kubectl logs pod/<name>` works in the test
// cluster: the API server proxies to https://<node>:<kubelet port>/containerLogs/<ns>/<pod>/<container>
// and this answers with the file the harness writes the process' output to
// (<pod>/broker.log or <pod>/container.log). tailLines is honoured; follow is not (the
// log so far is returned and the response ends).
package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
)

func (h *harness) handleContainerLogs(w http.ResponseWriter, r *http.Request) {
	dir := filepath.Join(h.dataRoot, filepath.Base(r.PathValue("ns")), filepath.Base(r.PathValue("pod")))
	var data []byte
	var err error
	for _, name := range []string{"container.log", "broker.log"} {
		if data, err = os.ReadFile(filepath.Join(dir, name)); err == nil {
			break
		}
	}
	if err != nil {
		http.Error(w, "no log for this pod on "+nodeName, http.StatusNotFound)
		return
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("tailLines")); err == nil && n >= 0 {
		lines := bytes.SplitAfter(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
		if n < len(lines) {
			lines = lines[len(lines)-n:]
		}
		data = append(bytes.Join(lines, nil), '\n')
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write(data)
}
