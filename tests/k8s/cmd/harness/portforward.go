// The kubelet's endpoint (port-forward here, container logs in logs.go). Port-forward, so `kubectl port-forward pod/<name> <port>`
// works in the test cluster: the API server proxies the request to the Node's
// kubelet endpoint (InternalIP 127.0.0.1, status.daemonEndpoints.kubeletEndpoint.port),
// https://127.0.0.1:<port>/portForward/<ns>/<pod>[/<uid>], and this server answers it
// with the kubelet's own streaming code (k8s.io/kubelet/pkg/cri/streaming/portforward:
// SPDY and websocket), connecting each stream to 127.0.0.1:<host port> that stands
// for the pod's container port. TLS is a self-signed certificate made at start: the
// test API server has no --kubelet-certificate-authority, so it does not verify it,
// as with a kubelet's self-signed serving certificate.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/kubelet/pkg/cri/streaming/portforward"
)

// servePortForward starts the endpoint on a free 127.0.0.1 port and returns the port.
func (h *harness) servePortForward(ctx context.Context) (int, error) {
	cert, err := selfSigned()
	if err != nil {
		return 0, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/portForward/{ns}/{pod}", h.handlePortForward)
	mux.HandleFunc("/portForward/{ns}/{pod}/{uid}", h.handlePortForward)
	mux.HandleFunc("/containerLogs/{ns}/{pod}/{container}", h.handleContainerLogs)
	srv := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ServeTLS(l, "", ""); err != nil && err != http.ErrServerClosed {
			log.Printf("harness: kubelet endpoint: %v", err)
		}
	}()
	go func() { <-ctx.Done(); srv.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (h *harness) handlePortForward(w http.ResponseWriter, r *http.Request) {
	ns, pod := r.PathValue("ns"), r.PathValue("pod")
	opts, err := portforward.NewV4Options(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	log.Printf("harness: port-forward %s/%s", ns, pod)
	portforward.ServePortForward(w, r, forwarder{h: h, key: ns + "/" + pod}, pod, types.UID(r.PathValue("uid")),
		opts, 4*time.Hour, 30*time.Second, portforward.SupportedProtocols)
}

type forwarder struct {
	h   *harness
	key string
}

// PortForward copies between one forwarded stream and the pod's container port.
func (f forwarder) PortForward(ctx context.Context, _ string, _ types.UID, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	b := f.h.proc(f.key)
	if b == nil || exited(b) {
		return fmt.Errorf("pod %s is not running", f.key)
	}
	hp := b.ports[port]
	if hp == 0 {
		return fmt.Errorf("pod %s has no container port %d", f.key, port)
	}
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", hp), 5*time.Second)
	if err != nil {
		return fmt.Errorf("pod %s port %d: %w", f.key, port, err)
	}
	defer conn.Close()
	// Client to pod ends with a half-close; the exchange ends when the pod side does.
	done := make(chan struct{})
	go func() { io.Copy(conn, stream); conn.(*net.TCPConn).CloseWrite() }()
	go func() { io.Copy(stream, conn); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject: pkix.Name{CommonName: nodeName}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(30 * 24 * time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
